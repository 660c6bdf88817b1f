"""`tdv fix`: apply the fixes that policies declare to the files scanned."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from validator.cli.options import config_options, load_config_option, selection_options
from validator.cli.output import log_to_stderr, write_outputs
from validator.errors import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK
from validator.reporters import OutputSpec
from validator.reporters.console import error_lines
from validator.reporters.escape import printable
from validator.reporters.plural import counted

EXIT_CHANGED = EXIT_FINDINGS  # files were changed (or, with --dry-run, would be)


@click.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--dry-run", is_flag=True, help="Print the changes as a unified diff and write nothing.")
@selection_options("Apply only the fixes of policies whose id matches.",
                   "Leave out the fixes of policies whose id matches.",
                   "Load more policies from DIR (added to policies.dirs).")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Edit only files inside this directory, and show paths relative to it (default: the working"
                   " directory).")
@config_options("Read settings (policy selection, parameters, exemptions) from FILE.")
@click.option("-q", "--quiet", is_flag=True, help="Print no summary; after fixing, list only what remains.")
@click.option("--color/--no-color", default=None, help="Colour the report of what remains (default: when a terminal).")
def fix(paths, dry_run, include, exclude, policy_dirs, root, config_file, no_config, quiet, color) -> int:
    """Fix findings in YAML manifests and .tf files with the fixes their policies declare,
    keeping comments and formatting, then scan again and report what remains.

    Suppressed findings are left alone; generated files (rendered Helm output, `DO NOT
    EDIT` headers) and files outside the root are never written.

    Exit codes: 0 nothing to change, 1 files were changed (with --dry-run: would be),
    2 usage or input error.
    """
    from validator import pipeline
    from validator.pipeline.changes import fixes_for

    log_to_stderr(verbose=False)
    config = load_config_option(config_file, no_config)
    flags = pipeline.ScanFlags(tuple(paths), policy_dirs=tuple(policy_dirs), root=root)
    options = pipeline.resolve(flags, config)
    report = pipeline.run(options)
    changes = fixes_for(report, options.overrides, include, exclude, options.root)
    for change in changes:
        for problem in change.problems:
            click.echo(printable(f"tdv: {problem}"), err=True)
    changed = [change for change in changes if change.changed]
    failed = bool(report.errors or report.evaluation_errors)
    if dry_run:
        for line in error_lines(report):  # no report of what remains shows them
            click.echo(f"tdv: error: {line}", err=True)
        _preview(changed, report, quiet)
    else:
        failed = _write(changed, quiet) or failed
        after = pipeline.run(replace(options, allow_empty=True))  # stdin was read by the first scan
        write_outputs(after, [OutputSpec("console", None)], quiet=quiet, color=color)
        failed = failed or bool(after.errors or after.evaluation_errors)
    return EXIT_ERROR if failed else EXIT_CHANGED if changed else EXIT_OK


def _preview(changed: list, report, quiet: bool) -> None:
    from validator.fix.textedit import unified_diff

    click.echo("".join(unified_diff(c.original, c.fixed, c.display) for c in changed), nl=False)
    if quiet:
        return
    fixed = sum(len(c.done) for c in changed)
    remaining = report.counts()["findings"] - fixed
    click.echo(f"tdv: would fix {counted(fixed, 'finding')} in {counted(len(changed), 'file')};"
               f" {counted(remaining, 'finding')} would remain", err=True)


def _write(changed: list, quiet: bool) -> bool:
    """Write the fixed files, saying so; True when one could not be written."""
    from validator.pipeline.changes import write_changes

    failed = False
    for change, problem in write_changes(changed):
        if problem:
            click.echo(printable(f"tdv: error: {change.display}: cannot write: {problem}"), err=True)
            failed = True
        elif not quiet:
            click.echo(printable(f"tdv: fixed {counted(len(change.done), 'finding')} in {change.display}"), err=True)
    return failed

