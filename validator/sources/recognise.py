"""Telling a report apart from an input: a SARIF log, a tdv JSON report, a GitLab security
(SAST) or Code Quality report left in the tree scanned (`tdv scan . -o json > tdv.json`,
`gl-code-quality-report.json`) is not a manifest or a plan, and is skipped.

The test is cheap for inputs: only a text that starts as JSON and names a report's key near
its start is parsed, and then its top level must have the report's shape (a Kubernetes
object or a Terraform plan never has it). JUnit XML is not read at all (.xml is no input).
"""

from __future__ import annotations

import json
from typing import Any

_HEAD = 16 * 1024  # a report's distinctive keys come first
_KEYS = ('"runs"', '"schemaVersion"', '"vulnerabilities"', '"check_name"')


def report_format(text: str) -> str | None:
    """The kind of report `text` is ("SARIF log", "tdv JSON report", ...), or None for any
    other text."""
    start = text.lstrip("\ufeff \t\r\n")[:1]
    if start not in ("{", "[") or not any(key in text[:_HEAD] for key in _KEYS):
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if isinstance(data, dict) and not ("apiVersion" in data or "kind" in data):
        return _object_report(data)
    if isinstance(data, list) and data and all(_is_code_quality_issue(item) for item in data):
        return "GitLab Code Quality report"
    return None


def _object_report(data: dict[str, Any]) -> str | None:
    schema = data.get("$schema")
    if isinstance(data.get("runs"), list) and (
            data.get("version") == "2.1.0" or isinstance(schema, str) and "sarif" in schema.lower()):
        return "SARIF log"
    tool = data.get("tool")
    if "schemaVersion" in data and isinstance(tool, dict) and tool.get("name") == "tdv":
        return "tdv JSON report"
    if isinstance(data.get("vulnerabilities"), list) and isinstance(data.get("version"), str):
        return "GitLab security report"
    return None


def _is_code_quality_issue(item: Any) -> bool:
    return (isinstance(item, dict) and isinstance(item.get("check_name"), str)
            and isinstance(item.get("location"), dict) and "description" in item)
