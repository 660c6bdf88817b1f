"""`tdv scan`: evaluate policies against manifests and write reports."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import click

from validator.cli.options import SeverityType
from validator.model import Severity

log = logging.getLogger("validator")


@click.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("-o", "--output", "outputs", multiple=True, metavar="FORMAT[=FILE]",
              help="Report format: console, json, sarif or junit, to stdout or to FILE. Repeatable.")
@click.option("--fail-on", type=SeverityType(), default="low", show_default=True,
              help="Exit 1 when a finding is at or above this severity.")
@click.option("--min-severity", type=SeverityType(), default="info", show_default=True,
              help="Report only findings at or above this severity.")
@click.option("--soft-fail", is_flag=True, help="Exit 0 even with findings (input errors still exit 2).")
@click.option("--policy", "include", multiple=True, metavar="GLOB", help="Run only policies whose id matches. Repeatable.")
@click.option("--skip-policy", "exclude", multiple=True, metavar="GLOB", help="Skip policies whose id matches. Repeatable.")
@click.option("--policies", "policy_dirs", multiple=True, type=click.Path(path_type=Path), metavar="DIR",
              help="Load more policies from DIR (same format as the built-in ones). Repeatable.")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Report file paths relative to this directory (default: the working directory).")
@click.option("--max-file-size", type=click.IntRange(min=1), default=16, show_default=True, metavar="MIB",
              help="Skip (and report) files larger than this.")
@click.option("-q", "--quiet", is_flag=True, help="Console: show only failures and errors, no summary.")
@click.option("--color/--no-color", default=None, help="Colour console output (default: when a terminal).")
@click.option("-v", "--verbose", is_flag=True, help="Log debug notes (e.g. skipped documents) to stderr.")
def scan(paths, outputs, fail_on, min_severity, soft_fail, include, exclude, policy_dirs, root,
         max_file_size, quiet, color, verbose) -> None:
    """Scan manifests (files, directories, or - for stdin) against the policy library.

    Exit codes: 0 no blocking findings, 1 findings at or above --fail-on, 2 usage or input error.
    """
    from validator.reporters import OutputSpec

    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, format="tdv: %(message)s")
    try:
        specs = [OutputSpec.parse(o) for o in outputs or ("console",)]
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="'-o'") from None
    if sum(1 for s in specs if s.destination is None) > 1:
        raise click.BadParameter("only one output can go to standard output", param_hint="'-o'")
    report = run_scan(paths, fail_on=fail_on, min_severity=min_severity, soft_fail=soft_fail, include=include,
                      exclude=exclude, policy_dirs=policy_dirs, root=root, max_file_size=max_file_size)
    write_outputs(report, specs, quiet=quiet, color=color)
    sys.exit(report.exit_code)


def run_scan(paths, *, fail_on: Severity = Severity.LOW, min_severity: Severity = Severity.INFO,
             soft_fail: bool = False, include=(), exclude=(), policy_dirs=(), root: Path | None = None,
             max_file_size: int = 16):
    from validator import sources
    from validator.engine import Engine
    from validator.engine.library import load_policies, select
    from validator.engine.policy import PolicyError
    from validator.filters import severity
    from validator.report import ScanReport

    root_dir = Path(os.path.abspath(root or Path.cwd()))
    try:
        policies = select(load_policies(policy_dirs), include, exclude)
        engine = Engine.build(policies)
    except PolicyError as error:
        raise click.ClickException(f"invalid policy: {error}") from None
    if not policies:
        raise click.UsageError("no policies selected (check --policy and --skip-policy)")
    inputs = sources.collect(paths, root_dir, max_file_size * 1024 * 1024)
    results = severity.at_least(engine.run(inputs.resources), min_severity)
    return ScanReport(
        results=results,
        errors=inputs.errors,
        policies=engine.policies,
        files_scanned=inputs.files,
        resources_scanned=len(inputs.resources),
        fail_on=fail_on,
        soft_fail=soft_fail,
        root=root_dir.as_posix(),
    )


def write_outputs(report, specs, *, quiet: bool, color: bool | None) -> None:
    from validator.reporters import RenderOptions, reporter

    for spec in specs:
        to_terminal = spec.destination is None and sys.stdout.isatty()
        options = RenderOptions(color=to_terminal if color is None else color and spec.destination is None,
                                quiet=quiet)
        text = reporter(spec.format).render(report, options)
        if spec.destination is None:
            click.echo(text, nl=False, color=options.color)
            continue
        try:
            spec.destination.parent.mkdir(parents=True, exist_ok=True)
            spec.destination.write_text(text, encoding="utf-8")
        except OSError as error:
            raise click.ClickException(f"cannot write {spec.destination}: {error.strerror or error}") from None
