"""The outcome of a scan, as every reporter sees it, and the exit code it implies.

A failure that a suppression covers is kept (reporters show it as suppressed) but is not
among `failures` and never blocks. With a baseline, each finding is new or unchanged, and
only new ones block.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from validator.checks import Checks
from validator.errors import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK
from validator.model import BaselineState, InputProblem, Result, ScanWarning, Severity, Status, Violation

__all__ = ["EXIT_ERROR", "EXIT_FINDINGS", "EXIT_OK", "BaselineUse", "ScanReport", "ShardOrigin", "is_baselined"]


@dataclass
class BaselineUse:
    """The baseline a scan was compared with (or just wrote)."""

    path: str
    absent: list[Any] = field(default_factory=list)  # validator.filters.baseline.Entry no longer found
    written: bool = False


@dataclass(frozen=True)
class ShardOrigin:
    """Which scan a report is, and which part of it (see validator.pipeline.merge): what
    `tdv merge` checks before it combines the reports of the shards of one scan."""

    version: str  # of tdv
    index: int  # the shard, 1-based
    total: int
    settings: str  # a digest of the settings that decide the results
    policies: str  # a digest of the policies evaluated
    # The input errors the whole scan would have if no shard found anything to scan (each
    # shard finds only its part, so the merge decides; see validator.pipeline.empty_input).
    if_empty: tuple[InputProblem, ...] = ()
    policy_errors: int = 0  # the first errors of the report are the policy files' (every shard has them)


@dataclass
class ScanReport:
    results: Checks  # every check; a list of Results is taken as Checks
    errors: list[InputProblem]
    policies: list  # the policies that were evaluated (validator.engine.policy.Policy)
    files_scanned: int = 0
    resources_scanned: int = 0
    fail_on: Severity = Severity.LOW
    soft_fail: bool = False
    root: str = "."  # the directory paths are relative to
    notes: list[str] = field(default_factory=list)
    warnings: list[ScanWarning] = field(default_factory=list)
    resources_excluded: int = 0  # left out by the config file, not evaluated
    baseline: BaselineUse | None = None
    config: str | None = None  # the config file used, as displayed
    origin: ShardOrigin | None = None  # set by a scan (None for reports made otherwise, e.g. in tests)

    def __post_init__(self) -> None:
        self.results = Checks.of(self.results)

    @property
    def failures(self) -> list[Result]:
        """Failed checks that count: not suppressed."""
        return self._partition[0]

    @property
    def suppressed(self) -> list[Result]:
        return self._partition[1]

    @property
    def evaluation_errors(self) -> list[Result]:
        return self._partition[2]

    @cached_property
    def _partition(self) -> tuple[list[Result], list[Result], list[Result]]:
        """Failures, suppressed failures and errors: sorted out once, as every reporter
        asks (the results are not changed once the report is made)."""
        failures: list[Result] = []
        suppressed: list[Result] = []
        errors: list[Result] = []
        for result in self.results.outcomes():
            if result.status is Status.FAIL:
                (failures if result.suppression is None else suppressed).append(result)
            elif result.status is Status.ERROR:
                errors.append(result)
        return failures, suppressed, errors

    def counts(self) -> Counter[str]:
        by_status = self.results.status_counts()
        counts: Counter[str] = Counter({status.value: number for status, number in by_status.items()})
        counts["findings"] = sum(len(r.violations) for r in self.failures)
        counts["baselined"] = sum(1 for r in self.failures for v in r.violations if is_baselined(v))
        counts["new"] = counts["findings"] - counts["baselined"]
        counts["suppressed"] = sum(len(r.violations) for r in self.suppressed)
        counts["input_errors"] = len(self.errors)
        return counts

    def severity_counts(self, new_only: bool = False) -> Counter[str]:
        return Counter(r.policy.severity.label for r in self.failures for v in r.violations
                       if not (new_only and is_baselined(v)))

    def blocks(self, result: Result, violation: Violation) -> bool:
        """At or above fail-on, not suppressed, and not in the baseline."""
        return (result.status is Status.FAIL and result.suppression is None
                and result.policy.severity >= self.fail_on and not is_baselined(violation))

    def is_blocking(self, result: Result) -> bool:
        return any(self.blocks(result, v) for v in result.violations)

    @property
    def exit_code(self) -> int:
        if self.errors or self.evaluation_errors:
            return EXIT_ERROR
        if self.soft_fail:
            return EXIT_OK
        return EXIT_FINDINGS if any(self.is_blocking(r) for r in self.failures) else EXIT_OK


def is_baselined(violation: Violation) -> bool:
    return violation.baseline is BaselineState.UNCHANGED
