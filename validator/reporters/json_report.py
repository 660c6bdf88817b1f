"""JSON output for machines. The format is versioned and described by
`validator/schemas/report-v1.schema.json` (see docs/json-report.md)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from validator import __version__
from validator.fingerprint import fingerprint
from validator.model import Result, Status, format_path
from validator.report import ScanReport

SCHEMA_VERSION = "1.0"


def render(report: ScanReport, options) -> str:
    return json.dumps(build(report), indent=2, ensure_ascii=False) + "\n"


def build(report: ScanReport) -> dict[str, Any]:
    counts = report.counts()
    return {
        "schemaVersion": SCHEMA_VERSION,
        "tool": {"name": "tdv", "version": __version__},
        "summary": {
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
        },
        "findings": [finding for result in report.failures for finding in _findings(result, report)],
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
    return [
        {
            "policyId": policy.id,
            "title": policy.title,
            "severity": policy.severity.label,
            "category": policy.category,
            "blocking": report.is_blocking(result),
            "message": v.message,
            "field": format_path(v.field_path),
            "location": {"path": v.location.path, "line": v.location.line, "column": v.location.column},
            "resource": _resource(result),
            "standards": {name: list(controls) for name, controls in policy.standards.items()},
            "fingerprint": fingerprint(policy.id, result.resource, v.field_path),
        }
        for v in result.violations
    ]


def _policy_stats(report: ScanReport) -> list[dict[str, Any]]:
    stats: dict[str, Counter[str]] = {p.id: Counter() for p in report.policies}
    for result in report.results:
        stats.setdefault(result.policy.id, Counter())[result.status.value] += 1
    return [
        {"id": p.id, "title": p.title, "severity": p.severity.label,
         "passed": stats[p.id]["pass"], "failed": stats[p.id]["fail"], "errors": stats[p.id]["error"]}
        for p in report.policies
    ]
