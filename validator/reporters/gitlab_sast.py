"""GitLab SAST report (`artifacts:reports:sast`), security report schema 15.0.7.

One vulnerability per violation. Its id is the finding's fingerprint written as a UUID, so
it stays the same when lines move, and is unique in the report (GitLab drops repeated ids).
The primary identifier is the policy id; standards controls follow as further identifiers.
Input and evaluation errors become scan messages and mark the scan as failed.

The report carries no scan timings, so start and end time are both the time of writing,
which follows the scan within the second on any normal run.

Suppressed findings are left out (the format cannot mark them); baselined ones stay in, as
GitLab tracks which vulnerabilities are new itself.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Any

from validator import __version__
from validator.docs import INFORMATION_URI, policy_url
from validator.fingerprint import for_report
from validator.model import Result, Severity, Violation
from validator.report import ScanReport

SCHEMA_VERSION = "15.0.7"
SCHEMA_URI = (
    "https://gitlab.com/gitlab-org/security-products/security-report-schemas/"
    f"-/raw/v{SCHEMA_VERSION}/dist/sast-report-format.json"
)
SEVERITIES = {
    Severity.CRITICAL: "Critical",
    Severity.HIGH: "High",
    Severity.MEDIUM: "Medium",
    Severity.LOW: "Low",
    Severity.INFO: "Info",
}
TOOL = {"id": "tdv", "name": "Trusted Delivery Validator", "url": INFORMATION_URI,
        "vendor": {"name": "Trusted Delivery Validator"}, "version": __version__}
MAX_NAME = 255  # schema limits
MAX_SOLUTION = 7000


def render(report: ScanReport, options) -> str:
    return json.dumps(build(report), indent=2, ensure_ascii=False) + "\n"


def build(report: ScanReport) -> dict[str, Any]:
    written = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    messages = [{"level": "warn", "value": str(error)} for error in report.errors] + [
        {"level": "warn",
         "value": f"{r.resource.path}: {r.policy.id} could not be evaluated on {r.resource.ref}: {r.error}"}
        for r in report.evaluation_errors
    ]
    scan: dict[str, Any] = {
        "analyzer": TOOL,
        "scanner": TOOL,
        "type": "sast",
        "start_time": written,
        "end_time": written,
        "status": "failure" if messages else "success",
    }
    if messages:
        scan["messages"] = messages
    return {
        "schema": SCHEMA_URI,
        "version": SCHEMA_VERSION,
        "scan": scan,
        "vulnerabilities": [_vulnerability(r, v, for_report(report)[(id(r), n)]) for r in report.failures
                            for n, v in enumerate(r.violations)],
    }


def _vulnerability(result: Result, violation: Violation, key: str) -> dict[str, Any]:
    policy, resource = result.policy, result.resource
    primary = {"type": "tdv_policy", "name": policy.id, "value": policy.id}
    url = policy_url(policy)
    if url.startswith(("https://", "http://")):  # the schema takes web links only
        primary["url"] = url
    standards = [
        {"type": standard, "name": f"{standard} {control}", "value": control}
        for standard, controls in policy.standards.items()
        for control in controls
    ]
    return {
        "id": str(uuid.UUID(hex=key)),
        "name": policy.title[:MAX_NAME],
        "description": f"{violation.message} ({resource.ref}).\n\n{policy.description.strip()}",
        "severity": SEVERITIES[policy.severity],
        "solution": policy.remediation.strip()[:MAX_SOLUTION],
        "identifiers": [primary, *standards],
        "location": {"file": violation.location.path, "start_line": violation.location.line},
    }
