"""JSON output for machines. The format is versioned and described by
`validator/schemas/report-v1.schema.json` (see docs/json-report.md).

`findings` holds the findings that count; suppressed ones are listed apart, in
`suppressed`, each with its suppression, so a reader of 1.0 reports sees no change.

Layout: indented, except that each entry of `findings`, `suppressed` and `errors` is one
line, so a report can be searched with grep (and it is written by json's fast C encoder).
Those entries are made and written a batch at a time (`chunks`), not held as lists.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from validator import __version__
from validator.fingerprint import for_report
from validator.model import Result, Status, Suppression, format_path
from validator.report import ScanReport
from validator.reporters.indented_json import Lines, chunks_indented, dumps_indented

SCHEMA_VERSION = "1.1"
ONE_LINE_ENTRIES = ("findings", "suppressed", "errors")


def render(report: ScanReport, options) -> str:
    return "".join(chunks(report, options))


def chunks(report: ScanReport, options) -> Iterator[str]:
    yield from chunks_indented(_document(report), frozenset(ONE_LINE_ENTRIES))
    yield "\n"


def dumps_one_entry_per_line(data: dict[str, Any], keys: tuple[str, ...]) -> str:
    """`data` as `json.dumps(data, indent=2)` writes it, except that each entry of the lists
    under `keys` is written on one line (see indented_json)."""
    return dumps_indented(data, frozenset(keys))


def build(report: ScanReport) -> dict[str, Any]:
    """The report's data, as JSON values."""
    return {key: list(value.entries) if isinstance(value, Lines) else value
            for key, value in _document(report).items()}


def _document(report: ScanReport) -> dict[str, Any]:
    """The report's data, the entries of `ONE_LINE_ENTRIES` as `Lines` made as they are written."""
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
    standards: dict[str, dict[str, list[str]]] = {}  # by policy id, shared by its findings
    return {
        "schemaVersion": SCHEMA_VERSION,
        "tool": {"name": "tdv", "version": __version__},
        "summary": summary,
        "findings": Lines(finding for result in report.failures for finding in _findings(result, report, standards)),
        "suppressed": Lines(finding for result in report.suppressed
                            for finding in _findings(result, report, standards)),
        "errors": Lines(_errors(report)),
        "warnings": [{"path": w.path, "line": w.line, "message": w.message} for w in report.warnings],
        "policies": _policy_stats(report),
    }


def _errors(report: ScanReport) -> Iterator[dict[str, Any]]:
    for e in report.errors:
        yield {"kind": "input", "path": e.path, "line": e.line, "message": e.message}
    for r in report.evaluation_errors:
        yield {
            "kind": "evaluation",
            "path": r.resource.path,
            "line": r.resource.locate(()).line,
            "message": f"{r.policy.id} could not be evaluated on {r.resource.ref}: {r.error}",
            "policyId": r.policy.id,
            "resource": _resource(r),
        }


def _resource(result: Result) -> dict[str, Any]:
    r = result.resource
    data: dict[str, Any] = {
        "apiVersion": r.api_version, "kind": r.kind, "name": r.name, "namespace": r.namespace, "ref": r.ref}
    if r.metadata:
        data["metadata"] = dict(r.metadata)
    return data


def _findings(result: Result, report: ScanReport, standards: dict[str, dict[str, list[str]]]) -> list[dict[str, Any]]:
    # The parts every violation of the result shares are built once (and shared: build()'s
    # output is only serialized).
    policy = result.policy
    if policy.id not in standards:
        standards[policy.id] = {name: list(controls) for name, controls in policy.standards.items()}
    shared = {"policyId": policy.id, "title": policy.title, "severity": policy.severity.label,
              "category": policy.category}
    resource_data = _resource(result)
    suppression = _suppression(result.suppression) if result.suppression is not None else None
    findings = []
    for number, v in enumerate(result.violations):
        finding = {
            **shared,
            "blocking": report.blocks(result, v),
            "message": v.message,
            "field": format_path(v.field_path),
            "location": {"path": v.location.path, "line": v.location.line, "column": v.location.column},
            "resource": resource_data,
            "standards": standards[policy.id],
            "fingerprint": for_report(report)[(id(result), number)],
        }
        if v.related:
            finding["related"] = [{"ref": r.text, "path": r.location.path, "line": r.location.line,
                                   "column": r.location.column} for r in v.related]
        if v.baseline is not None:
            finding["baseline"] = v.baseline.value
        if suppression is not None:
            finding["suppression"] = suppression
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
    stats: Counter[tuple[str, Status | None]] = Counter(  # None: suppressed
        (result.policy.id, None if result.suppression is not None else result.status) for result in report.results
    )
    return [
        {"id": p.id, "title": p.title, "severity": p.severity.label,
         "passed": stats[p.id, Status.PASS], "failed": stats[p.id, Status.FAIL], "errors": stats[p.id, Status.ERROR],
         "suppressed": stats[p.id, None]}
        for p in report.policies
    ]
