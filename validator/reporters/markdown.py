"""Markdown for pull/merge request comments and CI job summaries.

A verdict and a table of findings by severity come first, then input errors, then one
collapsible section per file (most severe file first) with `file:line`, the policy id
linked to its documentation and the message, and last the remediation of each policy
that failed. The text stays within GitHub's comment limit: what does not fit is left out
and a closing note says how much.

Suppressed findings, and with a baseline the findings already in it, are not listed (a
review comment is about what the change brings); the summary says how many there are.
"""

from __future__ import annotations

import html
import re
from collections import defaultdict

from validator.docs import policy_url
from validator.model import Result, Severity, Violation
from validator.report import EXIT_ERROR, EXIT_OK, ScanReport, is_baselined
from validator.reporters.escape import printable

MAX_CHARS = 65_535  # GitHub rejects longer comment bodies
NOTE_ROOM = 300  # kept free for the truncation note
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|~])")

Finding = tuple[Result, Violation]


def render(report: ScanReport, options, limit: int = MAX_CHARS) -> str:
    page = _Page(limit - NOTE_ROOM)
    page.add(_summary(report))
    errors_left = _errors(report, page)
    shown = _findings_by_file(report, page)
    fixes_left = _remediations(shown, page)
    total = len(_listed(report))
    left = [f"{total - len(shown)} of {total} findings"] if len(shown) < total else []
    left += [_count(errors_left, "error")] if errors_left else []
    left += [f"the fixes of {_count(fixes_left, 'policy', 'policies')}"] if fixes_left else []
    if not left:
        return page.text()
    listed = " and ".join([", ".join(left[:-1]), left[-1]] if len(left) > 1 else left)
    return (page.text() + f"\n> **Truncated** to fit the comment size limit: {listed} are not shown."
            " The SARIF or JSON report has everything.\n")


class _Page:
    """Markdown blocks added in order while they fit within a character budget."""

    def __init__(self, budget: int):
        self.parts: list[str] = []
        self.size = 0
        self.budget = budget

    def fits(self, text: str, reserve: int = 0) -> bool:
        return self.size + len(text) + reserve <= self.budget

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)

    def text(self) -> str:
        return "".join(self.parts)


def _listed(report: ScanReport) -> list[Finding]:
    """The findings a comment lists: not suppressed, and not in the baseline."""
    return [(r, v) for r in report.failures for v in r.violations if not is_baselined(v)]


def _summary(report: ScanReport) -> str:
    by_severity = report.severity_counts(new_only=True)
    total = sum(by_severity.values())
    blocking = 0 if report.soft_fail else sum(1 for r, v in _listed(report) if report.blocks(r, v))
    errors = len(report.errors) + len(report.evaluation_errors)
    mark, verdict = {EXIT_OK: ("✅", "passed"), EXIT_ERROR: ("⚠️", "incomplete")}.get(report.exit_code, ("❌", "failed"))
    noun = "new finding" if report.baseline else "finding"
    counts = f"{_count(total, noun)}, {blocking} blocking" + (f", {_count(errors, 'error')}" if errors else "")
    lines = [
        f"### {mark} tdv {verdict}: {counts}",
        "",
        "| Severity | Findings | Blocks the build |",
        "|---|---:|---|",
    ]
    for severity in reversed(Severity):
        blocks = severity >= report.fail_on and not report.soft_fail
        lines.append(f"| {severity.label} | {by_severity[severity.label]} | {'yes' if blocks else 'no'} |")
    lines += [
        "",
        f"Scanned {_count(report.files_scanned, 'file')} ({_count(report.resources_scanned, 'resource')})"
        f" with {_count(len(report.policies), 'policy', 'policies')}; "
        f"failing on `{report.fail_on.label}` and above{' (soft fail: never blocks)' if report.soft_fail else ''}.",
        "",
    ]
    by_status = report.counts()
    hidden = [f"{by_status['baselined']} in the baseline" if report.baseline else "",
              f"{by_status['suppressed']} suppressed" if by_status["suppressed"] else "",
              _count(len(report.warnings), "warning") + " (see the console or JSON report)" if report.warnings else ""]
    hidden = [part for part in hidden if part]
    if hidden:
        lines += [f"Not listed: {'; '.join(hidden)}.", ""]
    return "\n".join(lines) + "\n"


def _errors(report: ScanReport, page: _Page) -> int:
    """Lists input and evaluation errors; returns how many did not fit."""
    entries = [f"- `{_code(_where(e.path, e.line))}`: {_text(e.message)}\n" for e in report.errors] + [
        f"- `{_code(r.resource.path)}`: {r.policy.id} could not be evaluated on {_text(r.resource.ref)}:"
        f" {_text(r.error or '')}\n"
        for r in report.evaluation_errors
    ]
    heading = f"#### Errors ({len(entries)})\n\nThese inputs were not fully checked.\n\n"
    return _add_section(page, heading, entries)


def _add_section(page: _Page, heading: str, blocks: list[str]) -> int:
    """Adds the heading and as many blocks as fit (none without the first); returns how many were left."""
    if not blocks or not page.fits(heading + blocks[0] + "\n"):
        return len(blocks)
    page.add(heading)
    for index, block in enumerate(blocks):
        if not page.fits(block + "\n"):
            page.add("\n")
            return len(blocks) - index
        page.add(block)
    page.add("\n")
    return 0


def _findings_by_file(report: ScanReport, page: _Page) -> list[Finding]:
    by_file: dict[str, list[Finding]] = defaultdict(list)
    for result, violation in _listed(report):
        by_file[violation.location.path].append((result, violation))
    order = sorted(by_file, key=lambda path: (-max(r.policy.severity for r, _ in by_file[path]), path))
    shown: list[Finding] = []
    for path in order:
        findings = sorted(by_file[path], key=lambda f: (-f[0].policy.severity, f[1].location.line, f[0].policy.id))
        worst = findings[0][0].policy.severity.label
        head = (
            f"<details><summary><code>{html.escape(printable(path))}</code>: {_count(len(findings), 'finding')}"
            f" (worst: {worst})</summary>\n\n"
            "| Severity | Location | Policy | Finding | Resource |\n|---|---|---|---|---|\n"
        )
        close = "\n</details>\n\n"
        rows = [_row(result, violation) for result, violation in findings]
        if not page.fits(head + rows[0], reserve=len(close)):
            break
        page.add(head)
        for row, finding in zip(rows, findings):
            if not page.fits(row, reserve=len(close)):
                break
            page.add(row)
            shown.append(finding)
        page.add(close)
    return shown


def _row(result: Result, violation: Violation) -> str:
    policy, location = result.policy, violation.location
    return (
        f"| {policy.severity.label} | `{_cell_code(location.path)}:{location.line}` "
        f"| [{policy.id}]({policy_url(policy)}) | {_text(violation.message)} | `{_cell_code(result.resource.ref)}` |\n"
    )


def _remediations(shown: list[Finding], page: _Page) -> int:
    """The fix of each policy with a finding shown; returns how many did not fit."""
    policies = {result.policy.id: result.policy for result, _ in shown}.values()
    blocks = [
        f"<details><summary>{p.id}: {html.escape(p.title)}</summary>\n\n{p.remediation.strip()}\n\n"
        f"[Policy reference]({policy_url(p)})\n\n</details>\n"
        for p in policies
    ]
    return _add_section(page, "#### How to fix\n\n", blocks)


def _text(value: str) -> str:
    """Plain text for a table cell: no HTML, no Markdown markup, no line breaks, no @mentions."""
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(printable(" ".join(value.split())), quote=False))
    return escaped.replace("@", "&#64;")


def _code(value: str) -> str:
    """Text for a `code span` on one line (a backtick would end the span)."""
    return printable(" ".join(value.replace("`", "'").split()))


def _cell_code(value: str) -> str:
    """A code span inside a table cell, where GitHub needs `\\|` to keep a pipe in the cell."""
    return _code(value).replace("|", "\\|")


def _where(path: str, line: int | None) -> str:
    return f"{path}:{line}" if line else path


def _count(number: int, noun: str, plural: str | None = None) -> str:
    return f"{number} {noun if number == 1 else plural or noun + 's'}"
