"""Console output for people: findings grouped by file as `file:line:col`, then counts.

With a baseline only new findings are listed; suppressed findings are counted. `-v` lists
both, and the baselined findings that are no longer found.
"""

from __future__ import annotations

from collections import defaultdict

import click

from validator.model import Result, Severity, Status, Violation
from validator.report import ScanReport, is_baselined
from validator.reporters.escape import printable
from validator.reporters.plural import counted

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
        text = printable(text)
        return click.style(text, **kwargs) if color else text

    lines = _findings(report, verbose, style)
    if verbose:
        lines += _suppressed(report, style)
        lines += _absent(report)
    for error in error_lines(report):
        lines.append(f"{style('error', fg='red', bold=True)}: {error}")
    for warning in report.warnings:
        lines.append(f"{style('warning', fg='yellow', bold=True)}: {printable(str(warning))}")
    if options.quiet:
        return "\n".join(lines) + ("\n" if lines else "")
    if report.errors or report.evaluation_errors or report.warnings:
        lines.append("")
    lines.append(_summary(report, style))
    return "\n".join(lines) + "\n"


def _findings(report: ScanReport, verbose: bool, style) -> list[str]:
    """The findings by file, in line order (baselined ones only when verbose)."""
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
    return lines


def error_lines(report: ScanReport) -> list[str]:
    """Each input and evaluation error as one printable line that starts with its file and
    line: `path:line: message`."""
    lines = [printable(str(error)) for error in report.errors]
    for result in report.evaluation_errors:
        resource = result.resource
        lines.append(printable(f"{resource.path}:{resource.locate(()).line}: {result.policy.id} could not be"
                               f" evaluated on {resource.ref}: {result.error}"))
    return lines


def _finding(result: Result, violation: Violation, style) -> str:
    severity, location = result.policy.severity, violation.location
    where = printable(f"{location.path}:{location.line}:{location.column}")
    line = (
        f"  {where}  {style(f'{severity.label:<8}', fg=_COLORS[severity], bold=severity >= Severity.HIGH)}"
        f" {style(result.policy.id, bold=True)}  {printable(violation.message)}"
        f"  {style(f'[{result.resource.ref}]', dim=True)}"
    )
    for related in violation.related:  # cross-resource findings: the other objects, where they are
        line += "\n" + style(printable(f"      related: {related.location.path}:{related.location.line}"
                                        f" ({related.text})"), dim=True)
    return line


def _suppressed(report: ScanReport, style) -> list[str]:
    if not report.suppressed:
        return []
    lines = [style("Suppressed", bold=True, underline=True)]
    for result in report.suppressed:
        suppression = result.suppression
        assert suppression is not None  # report.suppressed holds suppressed results only
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
    lines = [printable(f"No longer found (recorded in {report.baseline.path}):")]
    lines += [printable(f"  {entry.policy_id}  {entry.message}  [{entry.resource}]")
              for entry in report.baseline.absent]
    return lines + [""]


def _summary(report: ScanReport, style) -> str:
    baseline = report.baseline
    parts = _outcome(report)
    mark = style("✖", fg="red", bold=True) if report.exit_code else style("✔", fg="green", bold=True)
    excluded = f" ({report.resources_excluded} excluded)" if report.resources_excluded else ""
    settings = f"; settings from {printable(report.config)}" if report.config else ""
    scope = (
        f"Scanned {counted(report.files_scanned, 'file')}, {counted(report.resources_scanned, 'resource')}{excluded},"
        f" with {counted(len(report.policies), 'policy')} (fail on {report.fail_on.label} and above{settings})."
    )
    text = f"{mark} {'; '.join(parts)}.\n  {scope}"
    if baseline and baseline.absent:
        gone = len(baseline.absent)
        text += (f"\n  {counted(gone, 'finding')} of the baseline {printable(baseline.path)}"
                 f" {'is' if gone == 1 else 'are'} no longer found; refresh it with --write-baseline.")
    return text


def _outcome(report: ScanReport) -> list[str]:
    """What the scan found, in parts: "2 findings (1 high, 1 low)", "1 suppressed", ..."""
    counts = report.counts()
    baseline = report.baseline
    by_severity = report.severity_counts(new_only=baseline is not None)
    detail = ", ".join(f"{by_severity[s.label]} {s.label}" for s in reversed(Severity) if by_severity[s.label])
    shown = counts["new"] if baseline else counts["findings"]
    parts = [counted(shown, "new finding" if baseline else "finding") + (f" ({detail})" if detail else "")]
    if baseline:
        parts.append(f"{counts['baselined']} baselined")
    if counts["suppressed"]:
        parts.append(f"{counts['suppressed']} suppressed")
    parts.append(f"{counted(counts[Status.PASS.value], 'check')} passed")
    if counts[Status.ERROR.value]:
        parts.append(counted(counts[Status.ERROR.value], "evaluation error"))
    if counts["input_errors"]:
        parts.append(counted(counts["input_errors"], "input error"))
    return parts


def brief_summary(report: ScanReport) -> str:
    """The outcome of the scan on one line, for standard error when no console report is
    shown: "tdv: 2 findings (1 high, 1 low); 40 checks passed; 1 input error (3 files, ...)"."""
    scope = (f"{counted(report.files_scanned, 'file')}, {counted(report.resources_scanned, 'resource')},"
             f" {counted(len(report.policies), 'policy')}")
    return f"{'; '.join(_outcome(report))} ({scope}; exit {report.exit_code})"
