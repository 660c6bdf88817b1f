"""SARIF 2.1.0 output, for GitHub code scanning and other SARIF viewers.

The log is built from `sarif_om` objects and written with `attrs_json` and `indented_json`
(the text of `json.dumps(indent=2)`, faster). Beyond the schema it follows GitHub's upload
rules: one rule per evaluated policy with descriptions of at most 1024 characters, help text
and markdown, at most 20 tags and a level; one result per violation with exactly one
location (a path relative to `%SRCROOT%`, with a region) and a fingerprint that survives
line shifts and is unique in the log (see validator.fingerprint). Only security rules (see
`is_security`) carry `security-severity`: GitHub files every rule that has one as a security
alert, and a missing label is not one.

Input errors and policies that could not be evaluated are tool execution notifications
(level error) of the invocation, so they show up without posing as findings; warnings
(such as an expired exemption) are notifications of level warning.

A suppressed finding is a result with one `suppressions` entry: kind `inSource` (an
annotation or comment next to the resource) or `external` (a config exemption), status
`accepted` and the reason as justification. With a baseline, each result has a
`baselineState` of `new` or `unchanged`; findings of the baseline that are gone are left
out (`absent` is not written), since code-scanning services close an alert whose result
stops appearing, and a gone finding has no location to point at.

A cross-resource finding (see validator.inventory) lists the other objects it depends on as
`relatedLocations` (their file and line, and their ref as message); its one location stays
the object a developer edits.

An active finding that a policy's `fix` covers carries one `fixes` entry: the replacements
(`deletedRegion` and `insertedContent`, at lines and columns of the file on disk) that
`tdv fix` would make for that finding alone (see validator.fix.preview).
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterator
from pathlib import PurePosixPath
from urllib.parse import quote

import attr
from sarif_om import (
    ArtifactChange,
    ArtifactContent,
    ArtifactLocation,
    Fix,
    Invocation,
    Location,
    LogicalLocation,
    Message,
    MultiformatMessageString,
    Notification,
    PhysicalLocation,
    PropertyBag,
    Region,
    Replacement,
    ReportingConfiguration,
    ReportingDescriptor,
    ReportingDescriptorReference,
    Result as SarifResult,
    Run,
    RunAutomationDetails,
    SarifLog,
    Tool,
    ToolComponent,
)

from validator import __version__
from validator.docs import INFORMATION_URI, policy_markdown, policy_url
from validator.fingerprint import for_report
from validator.model import Result, Severity, Suppression, Violation, format_path
from validator.report import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, ScanReport
from validator.reporters.attrs_json import to_json_data
from validator.reporters.indented_json import Lines, chunks_indented
from validator.sources.kubernetes import HELM_SOURCE

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "tdvFingerprint/v2"
AUTOMATION_ID = "tdv/"  # GitHub reads `category/run-id`; the run id is left to the uploader

MAX_DESCRIPTION = 1024
MAX_NAME = 255
MAX_TAGS = 20
SECURITY_CATEGORIES = frozenset({"pod-security", "rbac", "network", "supply-chain", "data-protection", "logging",
                                 "identity"})
# A rule of another category (resilience, best-practice) is still a security rule when it
# implements a control of a security benchmark.
SECURITY_STANDARD_PREFIXES = ("cis-", "nsa-cisa", "pod-security-standards", "mitre-attack", "nist-800-190")
# Checks read declared configuration, not inferred behaviour: a finding is a fact.
PRECISION = "very-high"

LEVELS = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
PROBLEM_SEVERITIES = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "recommendation",
    Severity.INFO: "recommendation",
}
# GitHub bands: above 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low.
SECURITY_SEVERITIES = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "1.0",
}
EXIT_CODE_DESCRIPTIONS = {
    EXIT_OK: "no blocking findings",
    EXIT_FINDINGS: "findings at or above the fail-on severity",
    EXIT_ERROR: "input or evaluation errors",
}
# `level` defaults to "warning" in SARIF; write it anyway so every rule and result states it.
ALWAYS_WRITTEN = frozenset({"level"})


@attr.s
class RuleProperties(PropertyBag):
    precision = attr.ib(default=None, metadata={"schema_property_name": "precision"})
    problem_severity = attr.ib(default=None, metadata={"schema_property_name": "problem.severity"})
    security_severity = attr.ib(default=None, metadata={"schema_property_name": "security-severity"})


@attr.s
class ResourceProperties(PropertyBag):
    api_version = attr.ib(default=None, metadata={"schema_property_name": "apiVersion"})
    kind = attr.ib(default=None, metadata={"schema_property_name": "kind"})
    namespace = attr.ib(default=None, metadata={"schema_property_name": "namespace"})


@attr.s
class SuppressionProperties(PropertyBag):
    owner = attr.ib(default=None, metadata={"schema_property_name": "owner"})
    expires = attr.ib(default=None, metadata={"schema_property_name": "expires"})


@attr.s
class SarifSuppression:
    """SARIF 2.1.0 `suppression` (sarif_om's class writes `state`, the draft name of `status`)."""

    kind = attr.ib(metadata={"schema_property_name": "kind"})
    status = attr.ib(default=None, metadata={"schema_property_name": "status"})
    justification = attr.ib(default=None, metadata={"schema_property_name": "justification"})
    location = attr.ib(default=None, metadata={"schema_property_name": "location"})
    properties = attr.ib(default=None, metadata={"schema_property_name": "properties"})


@attr.s
class FindingProperties(PropertyBag):
    field = attr.ib(default=None, metadata={"schema_property_name": "field"})
    resource = attr.ib(default=None, metadata={"schema_property_name": "resource"})
    helm_source = attr.ib(default=None, metadata={"schema_property_name": "helmSource"})
    blocking = attr.ib(default=None, metadata={"schema_property_name": "blocking"})


def render(report: ScanReport, options) -> str:
    return "".join(chunks(report, options))


def chunks(report: ScanReport, options) -> Iterator[str]:
    """The log's text in pieces: the results are made and written a batch at a time."""
    log, index = _log(report)
    data = to_json_data(log, ALWAYS_WRITTEN)
    data["runs"][0]["results"] = Lines(to_json_data(result, ALWAYS_WRITTEN) for result in _results(report, index))
    # One result per line: a big log stays readable, and is half as long.
    yield from chunks_indented(data, frozenset({"results"}))
    yield "\n"


def build(report: ScanReport) -> SarifLog:
    log, index = _log(report)
    log.runs[0].results = list(_results(report, index))
    return log


def _results(report: ScanReport, index: dict[str, int]) -> Iterator[SarifResult]:
    for result in itertools.chain(report.failures, report.suppressed):
        for number, violation in enumerate(result.violations):
            yield _result(result, violation, index[result.policy.id], report, _planned_fix(result, number), number)


def _log(report: ScanReport) -> tuple[SarifLog, dict[str, int]]:
    """The log without its results (an empty list), and the index of each rule by policy id."""
    policies = _policies(report)
    index = {policy.id: position for position, policy in enumerate(policies)}
    driver = ToolComponent(
        name="tdv",
        semantic_version=__version__,
        version=__version__,
        information_uri=INFORMATION_URI,
        rules=[rule(policy) for policy in policies],
    )
    run = Run(
        tool=Tool(driver=driver),
        automation_details=RunAutomationDetails(id=AUTOMATION_ID),
        original_uri_base_ids={SRCROOT: ArtifactLocation(uri=_directory_uri(report.root))},
        column_kind="unicodeCodePoints",
        invocations=[_invocation(report, index)],
        results=[],
    )
    return SarifLog(version="2.1.0", schema_uri=SCHEMA_URI, runs=[run]), index


def _planned_fix(result: Result, number: int):
    """The fix planned for a finding that counts (see pipeline.work.plan_fixes), if any."""
    if result.suppression is not None or not result.fixes:  # else one per violation
        return None
    return result.fixes[number]


def _policies(report: ScanReport) -> list:
    """The evaluated policies, plus any that only appear in results (kept in first-seen order)."""
    seen: dict[str, object] = {policy.id: policy for policy in report.policies}
    for result in report.results:
        seen.setdefault(result.policy.id, result.policy)
    return list(seen.values())


def rule(policy) -> ReportingDescriptor:
    severity = policy.severity
    security = is_security(policy)
    return ReportingDescriptor(
        id=policy.id,
        name=rule_name(policy),
        short_description=MultiformatMessageString(text=clip(policy.title.strip(), MAX_DESCRIPTION)),
        full_description=MultiformatMessageString(text=clip(policy.description.strip(), MAX_DESCRIPTION)),
        help=MultiformatMessageString(
            text=f"{policy.description.strip()}\n\nRemediation:\n{policy.remediation.strip()}",
            markdown=policy_markdown(policy, heading="##"),
        ),
        help_uri=policy_url(policy),
        default_configuration=ReportingConfiguration(level=LEVELS[severity]),
        properties=RuleProperties(  # type: ignore[call-arg]  # `tags` is PropertyBag's; sarif_om is untyped
            tags=rule_tags(policy),
            precision=PRECISION,
            problem_severity=PROBLEM_SEVERITIES[severity],
            security_severity=SECURITY_SEVERITIES[severity] if security else None,
        ),
    )


def rule_name(policy) -> str:
    """CamelCase of the title (or of the id), e.g. `ContainersMustNotRunPrivileged`."""
    for source in (policy.title, policy.id):
        words = re.findall(r"[A-Za-z0-9]+", source)
        if words:
            return "".join(word[:1].upper() + word[1:] for word in words)[:MAX_NAME]
    return policy.id[:MAX_NAME]


def is_security(policy) -> bool:
    """Whether GitHub should show the rule's results as security alerts."""
    return policy.category in SECURITY_CATEGORIES or any(
        name.startswith(SECURITY_STANDARD_PREFIXES) for name in (*policy.standards, *policy.partial))


def rule_tags(policy) -> list[str]:
    tags = [policy.category]
    if is_security(policy):
        tags.append("security")
    tags += list(policy.tags) + list(policy.standards) + list(policy.partial)
    return list(dict.fromkeys(tag for tag in tags if tag))[:MAX_TAGS]


def clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip() + "…"


def _result(result: Result, violation: Violation, rule_index: int, report: ScanReport, fix=None,
            number: int = 0) -> SarifResult:
    resource, ref = result.resource, result.resource.ref
    return SarifResult(
        rule_id=result.policy.id,
        rule_index=rule_index,
        level=LEVELS[result.policy.severity],
        message=Message(text=f"{violation.message} ({ref})"),
        locations=[
            Location(
                physical_location=_physical(violation.location.path, violation.location.line,
                                            violation.location.column),
                logical_locations=[
                    LogicalLocation(
                        name=resource.name,
                        fully_qualified_name=ref,
                        kind="resource",
                        properties=ResourceProperties(
                            api_version=resource.api_version, kind=resource.kind, namespace=resource.namespace
                        ),
                    )
                ],
            )
        ],
        related_locations=[
            Location(id=index, physical_location=_physical(where.location.path, where.location.line,
                                                           where.location.column),
                     message=Message(text=where.text))
            for index, where in enumerate(violation.related)
        ] or None,
        partial_fingerprints={FINGERPRINT_KEY: for_report(report)[(id(result), number)]},
        suppressions=[_suppression(result.suppression)] if result.suppression else None,
        fixes=[_fix(fix)] if fix else None,
        baseline_state=violation.baseline.value if violation.baseline else None,
        properties=FindingProperties(
            field=format_path(violation.field_path) or None,
            resource=ref,
            helm_source=resource.metadata.get(HELM_SOURCE),
            blocking=report.blocks(result, violation),
        ),
    )


def _fix(fix) -> Fix:
    """A validator.fix.preview.FindingFix as a SARIF fix."""
    return Fix(
        description=Message(text=fix.description),
        artifact_changes=[
            ArtifactChange(
                artifact_location=artifact_location(path),
                replacements=[
                    Replacement(
                        deleted_region=Region(start_line=r.start_line, start_column=r.start_column,
                                              end_line=r.end_line, end_column=r.end_column),
                        inserted_content=ArtifactContent(text=r.inserted) if r.inserted else None,
                    )
                    for r in replacements
                ],
            )
            for path, replacements in fix.changes
        ],
    )


def _suppression(suppression: Suppression) -> SarifSuppression:
    where = suppression.location
    extra = SuppressionProperties(owner=suppression.owner, expires=suppression.expires)
    return SarifSuppression(
        kind=suppression.kind.value,
        status="accepted",
        justification=suppression.reason,
        location=Location(physical_location=_physical(where.path, where.line)),
        properties=extra if suppression.owner or suppression.expires else None,
    )


def _invocation(report: ScanReport, rule_index: dict[str, int]) -> Invocation:
    notifications = [
        Notification(
            level="error",
            message=Message(text=str(error)),
            locations=[Location(physical_location=_physical(error.path, error.line))],
        )
        for error in report.errors
    ]
    for result in report.evaluation_errors:
        resource, policy = result.resource, result.policy
        line = resource.locate(()).line
        notifications.append(
            Notification(
                level="error",
                message=Message(
                    text=f"{resource.path}:{line}: {policy.id} could not be evaluated on {resource.ref}: {result.error}"
                ),
                locations=[Location(physical_location=_physical(resource.path, line))],
                associated_rule=ReportingDescriptorReference(id=policy.id, index=rule_index[policy.id]),
            )
        )
    notifications += [
        Notification(
            level="warning",
            message=Message(text=str(warning)),
            locations=[Location(physical_location=_physical(warning.path, warning.line))],
        )
        for warning in report.warnings
    ]
    exit_code = report.exit_code
    return Invocation(
        execution_successful=exit_code != EXIT_ERROR,
        exit_code=exit_code,
        exit_code_description=EXIT_CODE_DESCRIPTIONS.get(exit_code),
        tool_execution_notifications=notifications or None,
    )


def _physical(path: str, line: int | None, column: int | None = None) -> PhysicalLocation:
    region = Region(start_line=line, start_column=column) if line else None
    return PhysicalLocation(artifact_location=artifact_location(path), region=region)


def artifact_location(path: str) -> ArtifactLocation:
    """A scan-root-relative path becomes a relative URI; a path outside the root stays absolute."""
    uri, base = _uri(path)
    return ArtifactLocation(uri=uri, uri_base_id=base)


@functools.lru_cache(maxsize=4096)  # a report names each file many times
def _uri(path: str) -> tuple[str, str | None]:
    posix = path.replace("\\", "/")
    if posix.startswith("/") or re.match(r"^[A-Za-z]:/", posix):
        return _file_uri(posix), None
    return quote(posix, safe="/"), SRCROOT


def _file_uri(absolute: str) -> str:
    return "file://" + ("" if absolute.startswith("/") else "/") + quote(absolute, safe="/:")


def _directory_uri(root: str) -> str:
    uri = _file_uri(str(PurePosixPath(root.replace("\\", "/"))))
    return uri if uri.endswith("/") else uri + "/"
