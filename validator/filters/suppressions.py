"""Suppressions: findings that a team has accepted, with a reason. They stay in every report,
marked suppressed, and never change the exit code.

Three ways to write one (see docs/suppressions.md):

- Kubernetes: the annotation `tdv.dev/skip` on the object or on its pod template, holding
  `POLICY-ID: reason` entries separated by `;` or new lines (ids may be globs, several
  ids may share a reason: `TDV-K8S-001, TDV-K8S-009: reason`);
- Terraform: a comment `# tdv:skip=POLICY-ID reason` (or `//`) inside the resource block
  or directly above it;
- the config file: `exemptions`, each with an owner and optionally an `expires` date.

Sources record the first two on `Resource.suppressions` with the parsers here; `apply`
then marks the results. An entry without a reason is rejected with a warning naming its
file and line, and suppresses nothing.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from validator.globs import matches_any
from validator.model import (
    FieldPath,
    Location,
    Resource,
    Result,
    ScanWarning,
    SkipRule,
    Status,
    Suppression,
    SuppressionKind,
)

if TYPE_CHECKING:
    from validator.filters.resource_match import ResourceMatch

log = logging.getLogger(__name__)

ANNOTATION = "tdv.dev/skip"
COMMENT_MARKER = "tdv:skip="
# Where a workload keeps the pod template whose annotations also count.
POD_TEMPLATES: tuple[FieldPath, ...] = (("spec", "template"), ("spec", "jobTemplate", "spec", "template"))

_ID_LIST = r"[A-Za-z0-9*?_.-]+(?:\s*,\s*[A-Za-z0-9*?_.-]+)*"
_ANNOTATION_ENTRY = re.compile(rf"^({_ID_LIST})\s*(?::(.*))?$", re.DOTALL)
_COMMENT_RULE = re.compile(rf"{re.escape(COMMENT_MARKER)}({_ID_LIST})?(.*)$", re.DOTALL)
_HEREDOC = re.compile(r"<<-?([A-Za-z_][A-Za-z0-9_-]*)\s*$")
_REASON_LEAD = " \t:-\u2013\u2014"  # `: reason`, `- reason` and dashes read as plain reasons


def _ids(text: str) -> tuple[str, ...]:
    return tuple(part.strip().upper() for part in text.split(","))


# Kubernetes annotations


def parse_annotation(value: object, location: Location) -> list[SkipRule]:
    """The rules of one `tdv.dev/skip` value (rejected ones carry their problem)."""
    if not isinstance(value, str):
        return [SkipRule((), "", location, f"{ANNOTATION} must be a string of `POLICY-ID: reason` entries")]
    rules = []
    for entry in re.split(r"[;\n]", value):
        entry = entry.strip()
        if not entry:
            continue
        match = _ANNOTATION_ENTRY.match(entry)
        if match is None:
            rules.append(SkipRule((), "", location, f"{ANNOTATION}: an entry is not `POLICY-ID: reason`"))
            continue
        ids, reason = _ids(match.group(1)), (match.group(2) or "").strip()
        problem = None if reason else f"{ANNOTATION}: {', '.join(ids)} has no reason"
        rules.append(SkipRule(ids, reason, location, problem))
    return rules


def annotation_rules(resource: Resource) -> tuple[SkipRule, ...]:
    """`tdv.dev/skip` on the object and, for a workload, on its pod template."""
    from validator.engine.scopes import pod_template_path  # the engine package imports this module

    rules: list[SkipRule] = []
    for prefix in dict.fromkeys(((), *POD_TEMPLATES, pod_template_path(str(resource.kind)))):
        path = prefix + ("metadata", "annotations")
        annotations = _get(resource.document, path)
        if isinstance(annotations, dict) and ANNOTATION in annotations:
            rules += parse_annotation(annotations[ANNOTATION], resource.locate(path + (ANNOTATION,)))
    return tuple(rules)


def _get(document: object, path: FieldPath) -> object:
    for key in path:
        document = document.get(key) if isinstance(document, dict) else None
    return document


# Terraform comments


def parse_comment(comment: str, location: Location) -> SkipRule | None:
    """The rule in one comment's text (after `#` or `//`), or None when it holds no marker."""
    start = comment.find(COMMENT_MARKER)
    if start < 0:
        return None
    match = _COMMENT_RULE.match(comment, start)
    assert match is not None  # the pattern matches wherever the marker is
    if not match.group(1):
        return SkipRule((), "", location, f"{COMMENT_MARKER} names no policy id")
    ids = _ids(match.group(1))
    reason = match.group(2).strip().lstrip(_REASON_LEAD).strip()
    problem = None if reason else f"{COMMENT_MARKER}{','.join(ids)} has no reason"
    return SkipRule(ids, reason, location, problem)


class SkipComments:
    """The `tdv:skip=` comments of one `.tf` file, found once and handed out per block.

    A block gets the rules written on its own lines (including a comment at the end of a
    line) and in the run of comment-only lines directly above it. Text in strings and
    heredocs is not a comment.
    """

    def __init__(self, text: str, display: str):
        self.rules: dict[int, SkipRule] = {}
        self.comment_only: set[int] = set()
        reader = _CommentReader()
        for number, line in enumerate(text.splitlines(), start=1):
            comment, only_comment = reader.read(line)
            if only_comment:
                self.comment_only.add(number)
            if comment:
                rule = parse_comment(comment, Location(display, number, 1))
                if rule is not None:
                    self.rules[number] = rule

    def for_block(self, first_line: int, last_line: int) -> tuple[SkipRule, ...]:
        lines = [n for n in self.rules if first_line <= n <= last_line]
        above = first_line - 1
        while above in self.comment_only:
            if above in self.rules:
                lines.append(above)
            above -= 1
        return tuple(self.rules[n] for n in sorted(lines))


class _CommentReader:
    """Splits HCL lines into code and comments, carrying string and heredoc state over lines."""

    def __init__(self) -> None:
        self.heredoc: str | None = None
        self.in_block_comment = False

    def read(self, line: str) -> tuple[str, bool]:
        """(the comment text of the line, whether the line holds a comment and no code)."""
        if self.heredoc is not None:
            if line.strip() == self.heredoc:
                self.heredoc = None
            return "", False
        comments: list[str] = []
        code = in_string = False
        index = 0
        while index < len(line):
            if self.in_block_comment:
                end = line.find("*/", index)
                comments.append(line[index:] if end < 0 else line[index:end])
                if end < 0:
                    break
                self.in_block_comment, index = False, end + 2
                continue
            char = line[index]
            if in_string:  # a backslash escapes the next character
                index += 2 if char == "\\" else 1
                in_string = char != '"'
                continue
            if char == "#" or line.startswith("//", index):
                comments.append(line[index + (1 if char == "#" else 2):])
                break
            if line.startswith("/*", index):
                self.in_block_comment, index = True, index + 2
                continue
            heredoc = _HEREDOC.match(line, index) if char == "<" else None
            if heredoc:
                self.heredoc = heredoc.group(1)
                return " ".join(comments), False
            code = code or not char.isspace()
            in_string = char == '"'
            index += 1
        return " ".join(comments), bool(comments) and not code


# Config exemptions


@dataclass(frozen=True)
class Exemption:
    policies: tuple[str, ...]  # ids or globs
    match: ResourceMatch
    reason: str
    owner: str
    location: Location  # the entry in the config file
    expires: date | None = None  # the last day it holds

    def expired(self, today: date) -> bool:
        return self.expires is not None and today > self.expires

    def covers(self, result: Result, root: Path) -> bool:
        return (matches_any(self.policies, result.policy.id, ignore_case=True)
                and self.match.matches(result.resource, root))

    def suppression(self) -> Suppression:
        expires = self.expires.isoformat() if self.expires else None
        return Suppression(SuppressionKind.EXTERNAL, self.reason, self.location, self.owner, expires)


# The filter


def today_utc() -> date:
    return datetime.now(timezone.utc).date()


def apply(
    results: Iterable[Result],
    exemptions: Iterable[Exemption] = (),
    known_ids: Iterable[str] = (),
    root: Path = Path("."),
    today: date | None = None,
) -> tuple[list[Result], list[ScanWarning]]:
    """Mark the failures that a rule or exemption covers; warn about rejected rules, rules
    that name no known policy, and expired exemptions (whose findings stay active)."""
    today = today or today_utc()
    known = set(known_ids)
    exemptions = list(exemptions)
    current = [n for n, e in enumerate(exemptions) if not e.expired(today)]
    expired = [n for n, e in enumerate(exemptions) if e.expired(today)]
    warnings: list[ScanWarning] = []
    checked: set[SkipRule] = set()
    used: Counter[int] = Counter()  # findings covered, by exemption index
    marked: list[Result] = []
    for result in results:
        for rule in result.resource.suppressions:
            if rule not in checked:
                checked.add(rule)
                warnings += _rule_warnings(rule, known)
        if result.status is not Status.FAIL:
            marked.append(result)
            continue
        suppression = _suppression(result, exemptions, current, expired, used, root)
        marked.append(replace(result, suppression=suppression) if suppression else result)
    for number in expired:
        warnings.append(_expired_warning(exemptions[number], used[number]))
    for number in current:
        exemption = exemptions[number]
        if not used[number]:
            log.debug("%s:%d: exemption of %s matched no finding", exemption.location.path, exemption.location.line,
                      ", ".join(exemption.policies))
    return marked, warnings


def _suppression(result: Result, exemptions: list[Exemption], current: list[int], expired: list[int],
                 used: Counter[int], root: Path) -> Suppression | None:
    """What suppresses a failure: a skip marker, else the first current exemption that covers
    it. Counts in `used` the findings each exemption (expired ones too) covers."""
    for number in expired:
        if exemptions[number].covers(result, root):
            used[number] += len(result.violations)
    suppression = _in_source(result)
    if suppression is None:
        covering = next((n for n in current if exemptions[n].covers(result, root)), None)
        if covering is not None:
            used[covering] += len(result.violations)
            suppression = exemptions[covering].suppression()
    return suppression


def _in_source(result: Result) -> Suppression | None:
    for rule in result.resource.suppressions:
        if rule.problem is None and matches_any(rule.patterns, result.policy.id, ignore_case=True):
            return Suppression(SuppressionKind.IN_SOURCE, rule.reason, rule.location)
    return None


def _rule_warnings(rule: SkipRule, known: set[str]) -> list[ScanWarning]:
    where = rule.location
    if rule.problem:
        return [ScanWarning(where.path, f"{rule.problem}; the suppression is ignored", where.line)]
    if not known:
        return []
    return [
        ScanWarning(where.path, f"suppression names no known policy: {pattern}", where.line)
        for pattern in rule.patterns
        if not any(matches_any((pattern,), policy_id, ignore_case=True) for policy_id in known)
    ]


def _expired_warning(exemption: Exemption, findings: int) -> ScanWarning:
    what = f"exemption of {', '.join(exemption.policies)} (owner: {exemption.owner}) expired on {exemption.expires}"
    effect = (f"{findings} finding{'s' if findings != 1 else ''} it covered {'are' if findings != 1 else 'is'}"
              " reported as active" if findings else "it no longer suppresses anything")
    return ScanWarning(exemption.location.path, f"{what}: {effect}", exemption.location.line)
