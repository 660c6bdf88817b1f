"""What commands print: reports to their destinations, errors and a summary on standard
error, and log notes."""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from validator.cli.options import write_chunks
from validator.errors import UserError
from validator.reporters import FORMATS, OutputSpec
from validator.reporters.escape import printable


class OutputType(click.ParamType):
    """-o FORMAT[=FILE]."""

    name = "output"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> OutputSpec:
        if isinstance(value, OutputSpec):
            return value
        try:
            return OutputSpec.parse(value)
        except ValueError as error:
            self.fail(str(error), param, ctx)


def check_outputs(specs: tuple[OutputSpec, ...]) -> None:
    if sum(1 for spec in specs if spec.destination is None) > 1:
        raise click.BadParameter("only one output can go to standard output", param_hint="'-o'")


def log_to_stderr(verbose: bool) -> None:
    """Log notes (with -v, debug notes) to standard error, as `tdv: <message>` lines with
    control characters escaped (file names come from the tree scanned)."""

    class Printable(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            return printable(super().format(record))

    handler = logging.StreamHandler()
    handler.setFormatter(Printable("tdv: %(message)s"))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, handlers=[handler], force=True)


def write_outputs(report, specs, *, quiet: bool, color: bool | None, verbose: bool = False) -> list[str]:
    """Write every report, piece by piece as its reporter makes it (see
    reporters.reporter_chunks); the reasons of those that could not be written."""
    from validator.reporters import FormatOptions, reporter_chunks

    failures = []
    for spec in specs:
        to_terminal = spec.destination is None and sys.stdout.isatty()
        options = FormatOptions(color=to_terminal if color is None else color and spec.destination is None,
                                quiet=quiet, verbose=verbose)
        try:
            write_chunks(reporter_chunks(spec.format, report, options), spec.destination, options.color)
        except UserError as error:
            failures.append(str(error))
    return failures


def report_on_stderr(report, quiet: bool) -> None:
    """The input errors and warnings, one line each, and (unless `quiet`) a one-line summary,
    on standard error: for when no console report shows them (reports went to files, or a
    machine-readable report goes to standard output)."""
    from validator.reporters.console import brief_summary, error_lines

    for line in error_lines(report):
        click.echo(f"tdv: error: {line}", err=True)
    for warning in report.warnings:
        click.echo(printable(f"tdv: warning: {warning}"), err=True)
    if not quiet:
        click.echo(f"tdv: {brief_summary(report)}", err=True)


OUTPUT_HELP = (f"Report format: {', '.join(FORMATS)}; to stdout or to FILE. Repeatable; replaces the outputs of the"
               " config file. Unless the console report goes to stdout, input errors and a one-line summary are"
               " written to stderr.")
