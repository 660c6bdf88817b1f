"""Small helpers shared by subcommands."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from validator.errors import UserError
from validator.model import Severity

SEVERITIES = [s.label for s in Severity]


class SeverityType(click.ParamType):
    name = "severity"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Severity:
        if isinstance(value, Severity):
            return value
        try:
            return Severity.parse(value)
        except ValueError as error:
            self.fail(str(error), param, ctx)


def write_text(text: str, output: Path | None, color: bool = False) -> None:
    """Write a command's output to a file (creating its folder), or to stdout when None."""
    if output is None:
        click.echo(text, nl=False, color=color)
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        raise UserError(f"cannot write {output}: {error.strerror or error}") from None
