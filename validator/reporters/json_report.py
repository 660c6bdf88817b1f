"""JSON output for machines. The format is versioned and described by
`validator/schemas/report-v1.schema.json` (see docs/json-report.md).

`findings` holds the findings that count; suppressed ones are listed apart, in
`suppressed`, each with its suppression, so a reader of 1.0 reports sees no change.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from validator import __version__
from validator.fingerprint import fingerprint
from validator.model import Result, Status, Suppression, format_path
from validator.report import ScanReport

SCHEMA_VERSION = "1.1"


def render(report: ScanReport, options) -> str:
    return json.dumps(build(report), indent=2, ensure_ascii=False) + "\n"


def build(report: ScanReport) -> dict[str, Any]:
    counts = report.counts()
    summary: dict[str, Any] = {
        "files": report.files_scanned,
        "resources": report.resources_scanned,
        "policies": len(report.policies),
        "passed": counts[Status.PASS.value],
        "failed": counts[Status.FAIL.value],
        "errors": counts[Status.ERROR.value],
        "findings": counts["findings"],
        "inputErrors": counts["input_errors"],
        "bySeverity": dict(report.severity_counts()),
        "failOn": report.fail_on.label,
        "exitCode": report.exit_code,
        "suppressed": counts["suppressed"],
        "excludedResources": report.resources_excluded,
    }
    if report.baseline:
        summary["baseline"] = {"path": report.baseline.path, "new": counts["new"], "unchanged": counts["baselined"],
                               "absent": len(report.baseline.absent)}
    return {
        "schemaVersion": SCHEMA_VERSION,
        "tool": {"name": "tdv", "version": __version__},
        "summary": summary,
        "findings": [finding for result in report.failures for finding in _findings(result, report)],
        "suppressed": [finding for result in report.suppressed for finding in _findings(result, report)],
        "errors": [
            {"kind": "input", "path": e.path, "line": e.line, "message": e.message} for e in report.errors
        ] + [
            {
                "kind": "evaluation",
                "path": r.resource.path,
                "line": r.resource.locate(()).line,
                "message": f"{r.policy.id} could not be evaluated on {r.resource.ref}: {r.error}",
                "policyId": r.policy.id,
                "resource": _resource(r),
            }
            for r in report.evaluation_errors
        ],
        "warnings": [{"path": w.path, "line": w.line, "message": w.message} for w in report.warnings],
        "policies": _policy_stats(report),
    }


def _resource(result: Result) -> dict[str, Any]:
    r = result.resource
    data = {"apiVersion": r.api_version, "kind": r.kind, "name": r.name, "namespace": r.namespace, "ref": r.ref}
    if r.metadata:
        data["metadata"] = dict(r.metadata)
    return data


def _findings(result: Result, report: ScanReport) -> list[dict[str, Any]]:
    policy = result.policy
    findings = []
    for v in result.violations:
        finding = {
            "policyId": policy.id,
            "title": policy.title,
            "severity": policy.severity.label,
            "category": policy.category,
            "blocking": report.blocks(result, v),
            "message": v.message,
            "field": format_path(v.field_path),
            "location": {"path": v.location.path, "line": v.location.line, "column": v.location.column},
            "resource": _resource(result),
            "standards": {name: list(controls) for name, controls in policy.standards.items()},
            "fingerprint": fingerprint(policy.id, result.resource, v.field_path),
        }
        if v.baseline is not None:
            finding["baseline"] = v.baseline.value
        if result.suppression is not None:
            finding["suppression"] = _suppression(result.suppression)
        findings.append(finding)
    return findings


def _suppression(suppression: Suppression) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": suppression.kind.value,
        "reason": suppression.reason,
        "location": {"path": suppression.location.path, "line": suppression.location.line},
    }
    if suppression.owner:
        data["owner"] = suppression.owner
    if suppression.expires:
        data["expires"] = suppression.expires
    return data


def _policy_stats(report: ScanReport) -> list[dict[str, Any]]:
    stats: dict[str, Counter[str]] = {p.id: Counter() for p in report.policies}
    for result in report.results:
        status = "suppressed" if result.suppression is not None else result.status.value
        stats.setdefault(result.policy.id, Counter())[status] += 1
    return [
        {"id": p.id, "title": p.title, "severity": p.severity.label,
         "passed": stats[p.id]["pass"], "failed": stats[p.id]["fail"], "errors": stats[p.id]["error"],
         "suppressed": stats[p.id]["suppressed"]}
        for p in report.policies
    ]
