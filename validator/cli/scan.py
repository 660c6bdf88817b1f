"""`tdv scan`: evaluate policies against manifests and write reports."""

from __future__ import annotations

from pathlib import Path

import click

from validator.cli.options import load_config_option
from validator.cli.output import check_outputs, log_to_stderr, report_on_stderr, write_outputs
from validator.cli.scan_options import scan_options
from validator.errors import OutputError
from validator.reporters.escape import printable
from validator.reporters.plural import counted


@click.command()
@scan_options
def scan(config_file: Path | None, no_config: bool, quiet: bool, color: bool | None, verbose: bool,
         **flags) -> int:
    """Scan manifests, Terraform plans (JSON) and .tf files (files, directories, or - for stdin)
    against the policy library.

    Exit codes: 0 no blocking findings, 1 findings at or above --fail-on, 2 usage, input,
    policy or output error.
    """
    from validator import pipeline

    log_to_stderr(verbose)
    check_outputs(flags["outputs"])
    options = pipeline.resolve(pipeline.ScanFlags(**flags, detach=True), load_config_option(config_file, no_config))
    report = pipeline.run(options)
    if report.baseline and report.baseline.written:
        count = report.counts()["findings"]
        click.echo(printable(f"tdv: wrote {counted(count, 'finding')} to the baseline {report.baseline.path}"),
                   err=True)
    failures = write_outputs(report, options.outputs, quiet=quiet, color=color, verbose=verbose)
    if not any(spec.format == "console" and spec.destination is None for spec in options.outputs):
        report_on_stderr(report, quiet)
    if failures:
        raise OutputError("; ".join(failures))
    return report.exit_code

