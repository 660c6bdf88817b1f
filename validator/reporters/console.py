"""Console output for people: findings grouped by file as `file:line:col`, then counts.

With a baseline only new findings are listed; suppressed findings are counted. `-v` lists
both, and the baselined findings that are no longer found.
"""

from __future__ import annotations

from collections import defaultdict

import click

from validator.model import Result, Severity, Status, Violation
from validator.report import ScanReport, is_baselined

_COLORS = {
    Severity.CRITICAL: "magenta",
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "blue",
    Severity.INFO: "cyan",
}


def render(report: ScanReport, options) -> str:
    color = options.color
    verbose = options.verbose

    def style(text: str, **kwargs) -> str:
        return click.style(text, **kwargs) if color else text

    lines: list[str] = []
    by_file: dict[str, list[tuple[Result, Violation]]] = defaultdict(list)
    for result in report.failures:
        for violation in result.violations:
            if verbose or not is_baselined(violation):
                by_file[violation.location.path].append((result, violation))
    for path in sorted(by_file):
        lines.append(style(path, bold=True, underline=True))
        entries = sorted(by_file[path], key=lambda e: (e[1].location.line, e[1].location.column, e[0].policy.id))
        for result, violation in entries:
            mark = style("  (baselined)", dim=True) if is_baselined(violation) else ""
            lines.append(_finding(result, violation, style) + mark)
        lines.append("")
    if verbose:
        lines += _suppressed(report, style)
        lines += _absent(report)
    for error in report.errors:
        lines.append(f"{style('error', fg='red', bold=True)}: {error}")
    for result in report.evaluation_errors:
        r = result.resource
        lines.append(
            f"{style('error', fg='red', bold=True)}: {r.path}: {result.policy.id} could not be evaluated"
            f" on {r.ref}: {result.error}"
        )
    for warning in report.warnings:
        lines.append(f"{style('warning', fg='yellow', bold=True)}: {warning}")
    if options.quiet:
        return "\n".join(lines) + ("\n" if lines else "")
    if report.errors or report.evaluation_errors or report.warnings:
        lines.append("")
    lines.append(_summary(report, style))
    return "\n".join(lines) + "\n"


def _finding(result: Result, violation: Violation, style) -> str:
    severity, location = result.policy.severity, violation.location
    where = f"{location.path}:{location.line}:{location.column}"
    return (
        f"  {where}  {style(f'{severity.label:<8}', fg=_COLORS[severity], bold=severity >= Severity.HIGH)}"
        f" {style(result.policy.id, bold=True)}  {violation.message}"
        f"  {style(f'[{result.resource.ref}]', dim=True)}"
    )


def _suppressed(report: ScanReport, style) -> list[str]:
    if not report.suppressed:
        return []
    lines = [style("Suppressed", bold=True, underline=True)]
    for result in report.suppressed:
        suppression = result.suppression
        source = f"{suppression.location.path}:{suppression.location.line}"
        owner = f", owner {suppression.owner}" if suppression.owner else ""
        expires = f", until {suppression.expires}" if suppression.expires else ""
        for violation in result.violations:
            lines.append(_finding(result, violation, style))
            lines.append(style(f"      suppressed: {suppression.reason} ({source}{owner}{expires})", dim=True))
    return lines + [""]


def _absent(report: ScanReport) -> list[str]:
    if not report.baseline or not report.baseline.absent:
        return []
    lines = [f"No longer found (recorded in {report.baseline.path}):"]
    lines += [f"  {entry.policy_id}  {entry.message}  [{entry.resource}]" for entry in report.baseline.absent]
    return lines + [""]


def _summary(report: ScanReport, style) -> str:
    counts = report.counts()
    baseline = report.baseline
    by_severity = report.severity_counts(new_only=baseline is not None)
    detail = ", ".join(f"{by_severity[s.label]} {s.label}" for s in reversed(Severity) if by_severity[s.label])
    shown = counts["new"] if baseline else counts["findings"]
    noun = "new finding" if baseline else "finding"
    head = f"{shown} {noun}{'s' if shown != 1 else ''}" + (f" ({detail})" if detail else "")
    parts = [head]
    if baseline:
        parts.append(f"{counts['baselined']} baselined")
    if counts["suppressed"]:
        parts.append(f"{counts['suppressed']} suppressed")
    parts.append(f"{counts[Status.PASS.value]} checks passed")
    if counts[Status.ERROR.value]:
        parts.append(f"{counts[Status.ERROR.value]} evaluation errors")
    if counts["input_errors"]:
        parts.append(f"{counts['input_errors']} input error{'s' if counts['input_errors'] != 1 else ''}")
    mark = style("✖", fg="red", bold=True) if report.exit_code else style("✔", fg="green", bold=True)
    excluded = f" ({report.resources_excluded} excluded)" if report.resources_excluded else ""
    settings = f"; settings from {report.config}" if report.config else ""
    scope = (
        f"Scanned {report.files_scanned} file{'s' if report.files_scanned != 1 else ''}, "
        f"{report.resources_scanned} resources{excluded}, with {len(report.policies)} policies"
        f" (fail on {report.fail_on.label} and above{settings})."
    )
    text = f"{mark} {'; '.join(parts)}.\n  {scope}"
    if baseline and baseline.absent:
        gone = len(baseline.absent)
        text += (f"\n  {gone} finding{'s' if gone != 1 else ''} of the baseline {baseline.path}"
                 f" {'are' if gone != 1 else 'is'} no longer found; refresh it with --write-baseline.")
    return text
