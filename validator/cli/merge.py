"""`tdv merge`: the shard reports of one scan made into its reports."""

from __future__ import annotations

from pathlib import Path

import click

from validator.cli.output import OUTPUT_HELP, OutputType, check_outputs, log_to_stderr, report_on_stderr, write_outputs
from validator.errors import OutputError, SettingsError


@click.command()
@click.argument("reports", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path),
                metavar="REPORT.json...")
@click.option("-o", "--output", "outputs", multiple=True, type=OutputType(), metavar="FORMAT[=FILE]",
              help=OUTPUT_HELP)
@click.option("-q", "--quiet", is_flag=True, help="Show only failures and errors, no summary.")
@click.option("--color/--no-color", default=None, help="Colour console output (default: when a terminal).")
@click.option("-v", "--verbose", is_flag=True, help="Console: also list suppressed and baselined findings.")
def merge(reports: tuple[Path, ...], outputs: tuple, quiet: bool, color: bool | None, verbose: bool) -> int:
    """Combine the shard reports of one scan (`tdv scan --shard I/N -o shard=FILE`, one per CI
    executor) into the reports of the whole scan: the same findings, counts, JUnit cases and
    SARIF as one scan of all the inputs.

    Exit codes: as `tdv scan` would give for the whole scan; 2 also when a report is missing,
    unreadable, or from another scan.
    """
    from validator.pipeline.merge import merge as combine
    from validator.reporters.escape import printable
    from validator.reporters.shard import ShardReportError, read
    from validator.sources.files import display_path

    log_to_stderr(verbose)
    outputs = outputs or (OutputType().convert("console", None, None),)
    check_outputs(outputs)
    loaded = []
    for path in reports:
        name = display_path(path, Path.cwd())
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or error
            raise SettingsError(f"{name}: cannot read the shard report: {reason}") from None
        try:
            loaded.append((name, read(text)))
        except ShardReportError as error:
            raise SettingsError(printable(f"{name}: {error}")) from None
    report = combine(loaded)
    failures = write_outputs(report, outputs, quiet=quiet, color=color, verbose=verbose)
    if not any(spec.format == "console" and spec.destination is None for spec in outputs):
        report_on_stderr(report, quiet)
    if failures:
        raise OutputError("; ".join(failures))
    return report.exit_code
