"""Skip markers written next to the code: the `tdv.dev/skip` annotation of a Kubernetes
object (or of its pod template) and the `# tdv:skip=` comment of a Terraform block.

The sources parse them while reading (into `Resource.suppressions`); the suppressions
filter applies them (see validator.filters.suppressions and docs/suppressions.md). Both
stages use this module, so it depends on neither.
"""

from __future__ import annotations

import re

from validator.model import FieldPath, Location, Resource, SkipRule
from validator.pod_templates import pod_template_path

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
