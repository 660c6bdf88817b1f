"""Drop findings below a minimum severity (`--min-severity`). Errors are always kept."""

from __future__ import annotations

from validator.model import Result, Severity, Status


def at_least(results: list[Result], minimum: Severity) -> list[Result]:
    return [r for r in results if r.status is not Status.FAIL or r.policy.severity >= minimum]
