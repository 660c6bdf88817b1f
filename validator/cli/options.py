"""Small helpers shared by subcommands."""

from __future__ import annotations

from typing import Any

import click

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


def fail_usage(message: str) -> None:
    """Exit 2 with a one-line error, like click's own usage errors."""
    raise click.UsageError(message)
