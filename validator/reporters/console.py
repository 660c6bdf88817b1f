"""Console output for people: findings grouped by file as `file:line:col`, then counts."""

from __future__ import annotations

from collections import defaultdict

import click

from validator.model import Result, Severity, Status, Violation
from validator.report import ScanReport

_COLORS = {
    Severity.CRITICAL: "magenta",
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "blue",
    Severity.INFO: "cyan",
}


def render(report: ScanReport, options) -> str:
    color = options.color

    def style(text: str, **kwargs) -> str:
        return click.style(text, **kwargs) if color else text

    lines: list[str] = []
    by_file: dict[str, list[tuple[Result, Violation]]] = defaultdict(list)
    for result in report.failures:
        for violation in result.violations:
            by_file[violation.location.path].append((result, violation))
    for path in sorted(by_file):
        lines.append(style(path, bold=True, underline=True))
        entries = sorted(by_file[path], key=lambda e: (e[1].location.line, e[1].location.column, e[0].policy.id))
        for result, violation in entries:
            severity = result.policy.severity
            where = f"{path}:{violation.location.line}:{violation.location.column}"
            lines.append(
                f"  {where}  {style(f'{severity.label:<8}', fg=_COLORS[severity], bold=severity >= Severity.HIGH)}"
                f" {style(result.policy.id, bold=True)}  {violation.message}"
                f"  {style(f'[{result.resource.ref}]', dim=True)}"
            )
        lines.append("")
    for error in report.errors:
        lines.append(f"{style('error', fg='red', bold=True)}: {error}")
    for result in report.evaluation_errors:
        r = result.resource
        lines.append(
            f"{style('error', fg='red', bold=True)}: {r.path}: {result.policy.id} could not be evaluated"
            f" on {r.ref}: {result.error}"
        )
    if options.quiet:
        return "\n".join(lines) + ("\n" if lines else "")
    if report.errors or report.evaluation_errors:
        lines.append("")
    lines.append(_summary(report, style))
    return "\n".join(lines) + "\n"


def _summary(report: ScanReport, style) -> str:
    counts = report.counts()
    by_severity = report.severity_counts()
    detail = ", ".join(f"{by_severity[s.label]} {s.label}" for s in reversed(Severity) if by_severity[s.label])
    findings = counts["findings"]
    head = f"{findings} finding{'s' if findings != 1 else ''}" + (f" ({detail})" if detail else "")
    parts = [head, f"{counts[Status.PASS.value]} checks passed"]
    if counts[Status.ERROR.value]:
        parts.append(f"{counts[Status.ERROR.value]} evaluation errors")
    if counts["input_errors"]:
        parts.append(f"{counts['input_errors']} input error{'s' if counts['input_errors'] != 1 else ''}")
    mark = style("✖", fg="red", bold=True) if report.exit_code else style("✔", fg="green", bold=True)
    scope = (
        f"Scanned {report.files_scanned} file{'s' if report.files_scanned != 1 else ''}, "
        f"{report.resources_scanned} resources, with {len(report.policies)} policies"
        f" (fail on {report.fail_on.label} and above)."
    )
    return f"{mark} {'; '.join(parts)}.\n  {scope}"
