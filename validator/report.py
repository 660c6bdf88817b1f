"""The outcome of a scan, as every reporter sees it, and the exit code it implies."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from validator.model import InputError, Result, Severity, Status

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2


@dataclass
class ScanReport:
    results: list[Result]
    errors: list[InputError]
    policies: list  # the policies that were evaluated (validator.engine.policy.Policy)
    files_scanned: int = 0
    resources_scanned: int = 0
    fail_on: Severity = Severity.LOW
    soft_fail: bool = False
    root: str = "."  # the directory paths are relative to
    notes: list[str] = field(default_factory=list)

    @property
    def failures(self) -> list[Result]:
        return [r for r in self.results if r.status is Status.FAIL]

    @property
    def evaluation_errors(self) -> list[Result]:
        return [r for r in self.results if r.status is Status.ERROR]

    def counts(self) -> Counter[str]:
        counts: Counter[str] = Counter(r.status.value for r in self.results)
        counts["findings"] = sum(len(r.violations) for r in self.failures)
        counts["input_errors"] = len(self.errors)
        return counts

    def severity_counts(self) -> Counter[str]:
        return Counter(r.policy.severity.label for r in self.failures for _ in r.violations)

    def is_blocking(self, result: Result) -> bool:
        return result.status is Status.FAIL and result.policy.severity >= self.fail_on

    @property
    def exit_code(self) -> int:
        if self.errors or self.evaluation_errors:
            return EXIT_ERROR
        if self.soft_fail:
            return EXIT_OK
        return EXIT_FINDINGS if any(self.is_blocking(r) for r in self.results) else EXIT_OK
