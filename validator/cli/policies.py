"""`tdv policies`: list and document the policy library."""

from __future__ import annotations

from pathlib import Path

import click


def _load(policy_dirs):
    from validator.engine.library import load_policies
    from validator.engine.policy import PolicyError

    try:
        return load_policies(policy_dirs)
    except PolicyError as error:
        raise click.ClickException(f"invalid policy: {error}") from None


@click.group()
def policies() -> None:
    """List and show policies."""


@policies.command("list")
@click.option("--policies", "policy_dirs", multiple=True, type=click.Path(path_type=Path), metavar="DIR",
              help="Also list policies from DIR. Repeatable.")
def list_policies(policy_dirs) -> None:
    """Print a table of every policy: id, severity, category and title."""
    rows = [(p.id, p.severity.label, p.category, p.title) for p in _load(policy_dirs)]
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

    matches = [p for p in _load(policy_dirs) if p.id == policy_id.upper()]
    if not matches:
        raise click.ClickException(f"no policy with id {policy_id!r} (see `tdv policies list`)")
    click.echo(policy_markdown(matches[0]))
