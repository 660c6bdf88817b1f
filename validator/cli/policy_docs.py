"""`tdv policies docs` and `tdv policies coverage`: the catalogue and the benchmark coverage,
generated from the library."""

from __future__ import annotations

from pathlib import Path

import click

from validator.cli.options import load_library_or_fail, write_text
from validator.errors import UserError
from validator.reporters.plural import counted


@click.command("docs")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None, metavar="FILE",
              help="Write to FILE instead of standard output (e.g. docs/policies.md).")
@click.option("--policies", "policy_dirs", multiple=True, type=click.Path(path_type=Path), metavar="DIR",
              help="Also document policies from DIR. Repeatable.")
def policy_docs(output, policy_dirs) -> None:
    """Generate the policy catalogue in Markdown: a table of every policy, then one section each."""
    from validator.docs import catalogue_markdown

    text = catalogue_markdown(load_library_or_fail(policy_dirs))
    write_text(text, output)


@click.command("coverage")
@click.option("--output-dir", type=click.Path(file_okay=False, path_type=Path), default=None, metavar="DIR",
              help="Write one Markdown table per benchmark, and README.md, into DIR (e.g. docs/coverage).")
@click.option("--policies", "policy_dirs", multiple=True, type=click.Path(path_type=Path), metavar="DIR",
              help="Also count policies from DIR. Repeatable.")
def policy_coverage(output_dir, policy_dirs) -> None:
    """Show how much of each benchmark (CIS, Pod Security Standards, NSA-CISA) the library checks."""
    from validator.coverage import BenchmarkError, coverage, coverage_documents, load_benchmarks

    loaded = load_library_or_fail(policy_dirs)
    try:
        if output_dir is None:
            for result in (coverage(bench, loaded) for bench in load_benchmarks()):
                click.echo(f"{result.percent:5.1f}%  {result.count('covered'):3}/{result.checkable:<3} "
                           f"({result.count('partial')} in part)  {result.benchmark.title}")
            return
        documents = coverage_documents(loaded)
    except BenchmarkError as error:
        raise UserError(str(error)) from None
    for name, text in documents.items():
        write_text(text, output_dir / name)
    click.echo(f"wrote {counted(len(documents), 'file')} to {output_dir}")
