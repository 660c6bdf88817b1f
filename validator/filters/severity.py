"""Drop findings below a minimum severity (`--min-severity`). Errors are always kept."""

from __future__ import annotations

from collections.abc import Iterable

from validator.checks import Checks
from validator.model import Result, Severity, Status


def at_least(results: Iterable[Result], minimum: Severity) -> Checks:
    return Checks.of(results).select(lambda policy, _, status: status is not Status.FAIL or policy.severity >= minimum)
