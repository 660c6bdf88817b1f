"""`tdv policies`: list and document the policy library."""

from __future__ import annotations

from pathlib import Path

import click

from validator.cli.options import load_library_or_fail
from validator.errors import EXIT_ERROR, EXIT_OK, UserError


@click.group()
def policies() -> None:
    """List, show, check and document policies."""


@policies.command("list")
@click.option("--policies", "policy_dirs", multiple=True, type=click.Path(path_type=Path), metavar="DIR",
              help="Also list policies from DIR. Repeatable.")
def list_policies(policy_dirs) -> None:
    """Print a table of every policy: id, severity, category and title."""
    rows = [(p.id, p.severity.label, p.category, p.title) for p in load_library_or_fail(policy_dirs)]
    header = ("ID", "SEVERITY", "CATEGORY", "TITLE")
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(3)]
    for row in [header, *rows]:
        click.echo("  ".join(cell.ljust(widths[i]) if i < 3 else cell for i, cell in enumerate(row)))


@policies.command("show")
@click.argument("policy_id")
@click.option("--policies", "policy_dirs", multiple=True, type=click.Path(path_type=Path), metavar="DIR")
def show_policy(policy_id, policy_dirs) -> None:
    """Print the full documentation of one policy."""
    from validator.docs import policy_markdown

    matches = [p for p in load_library_or_fail(policy_dirs) if p.id == policy_id.upper()]
    if not matches:
        raise UserError(f"no policy with id {policy_id!r} (see `tdv policies list`)")
    click.echo(policy_markdown(matches[0]))


@policies.command("validate")
@click.argument("dirs", nargs=-1, type=click.Path(path_type=Path), metavar="[DIR...]")
def validate_policies(dirs) -> int:
    """Check policy files (DIR: files or directories; default: the built-in library): unknown
    keys, wrong types and CEL that does not compile, for every file.

    Exit codes: 0 every policy is valid, 2 a policy is invalid (as in every command).
    """
    from validator.engine.cel import CelEvaluator
    from validator.engine.library import load_each
    from validator.policy_check import problems_of

    evaluator = CelEvaluator()
    entries = load_each(dirs, include_builtin=not dirs)
    valid = invalid = 0
    for entry in entries:
        problems = problems_of(entry, evaluator)
        valid, invalid = (valid, invalid + 1) if problems else (valid + 1, invalid)
        for problem in problems:
            click.echo(str(problem))
            for line in problem.detail:
                click.echo(f"    {line}")
    click.echo(f"{valid} valid, {invalid} invalid")
    return EXIT_ERROR if invalid else EXIT_OK


from validator.cli.policy_docs import policy_coverage, policy_docs  # noqa: E402 (their own module)

policies.add_command(policy_docs)
policies.add_command(policy_coverage)
