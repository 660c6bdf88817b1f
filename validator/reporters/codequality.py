"""GitLab Code Quality report (`artifacts:reports:codequality`): a JSON array of issues.

Each violation is one issue keyed by its fingerprint, which ignores line numbers and is
unique in the report, so GitLab tells new findings from moved ones. A file that could not be
read, or a policy that could not be evaluated, is a `blocker` issue too: the scan did not
cover it. Suppressed findings
are left out; baselined ones stay in, as GitLab compares with the target branch itself.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from validator.fingerprint import for_report
from validator.model import Severity
from validator.report import ScanReport

SEVERITIES = {
    Severity.CRITICAL: "blocker",
    Severity.HIGH: "critical",
    Severity.MEDIUM: "major",
    Severity.LOW: "minor",
    Severity.INFO: "info",
}
INPUT_ERROR = "tdv/input-error"
EVALUATION_ERROR = "tdv/evaluation-error"


def render(report: ScanReport, options) -> str:
    return json.dumps(build(report), indent=2, ensure_ascii=False) + "\n"


def build(report: ScanReport) -> list[dict[str, Any]]:
    issues = [
        _issue(
            f"{v.message} ({r.resource.ref}) [{r.policy.id}: {r.policy.title}]",
            r.policy.id,
            for_report(report)[(id(r), n)],
            SEVERITIES[r.policy.severity],
            v.location.path,
            v.location.line,
        )
        for r in report.failures
        for n, v in enumerate(r.violations)
    ]
    for error in report.errors:
        issues.append(_issue(f"not scanned: {error.message}", INPUT_ERROR,
                             _digest(INPUT_ERROR, error.path, error.message), "blocker", error.path, error.line or 1))
    for r in report.evaluation_errors:
        message = f"{r.policy.id} could not be evaluated on {r.resource.ref}: {r.error}"
        issues.append(_issue(message, EVALUATION_ERROR, _digest(EVALUATION_ERROR, r.resource.path, message),
                             "blocker", r.resource.path, r.resource.locate(()).line))
    return issues


def _issue(description: str, check: str, key: str, severity: str, path: str, line: int) -> dict[str, Any]:
    return {
        "description": description,
        "check_name": check,
        "fingerprint": key,
        "severity": severity,
        "location": {"path": path, "lines": {"begin": line}},
    }


def _digest(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()[:32]
