"""Where a field of a rendered object is written in its Helm template (best effort).

A template is not YAML until it is rendered, so it is searched as text: each key of the
field path is looked for in turn, on a later line and further right than the key before
it; a key that cannot be found leaves the position at the last key that was (the parent
block, or the first line of the document). List items are not counted: a field of the
second container is looked for from the first container on. Lines written by
`{{ toYaml ... }}` or an `include` are not in the template, so a field that comes from
them points at the key that holds them (e.g. `securityContext:`).
"""

from __future__ import annotations

import re
from functools import lru_cache

from validator.model import FieldPath, Position

_SEPARATOR = re.compile(r"^---(?:[ \t].*)?$")
_KEY_LINE = re.compile(r"^(\s*(?:-\s+)*)[\"']?[A-Za-z0-9_.$/-]+[\"']?\s*:(?:\s|$)")


@lru_cache(maxsize=256)
def _key_pattern(key: str) -> re.Pattern[str]:
    return re.compile(r"^(\s*(?:-\s+)*)([\"']?)" + re.escape(key) + r"\2\s*:(?:\s|$)")


class TemplateText:
    """One template file, split into its documents."""

    def __init__(self, text: str):
        self.lines = text.splitlines()
        self.segments: list[tuple[int, int]] = []  # [start, end) line indexes of each document
        start = 0
        for index, line in enumerate(self.lines + ["---"]):
            if _SEPARATOR.match(line):
                if any(_KEY_LINE.match(text_line) for text_line in self.lines[start:index]):
                    self.segments.append((start, index))
                start = index + 1

    def locate(self, path: FieldPath, kind: str, ordinal: int, count: int) -> Position:
        """The field `path` of the `ordinal`-th of `count` objects the template rendered."""
        start, end = self._segment(kind, ordinal, count)
        first = next((i for i in range(start, end) if _KEY_LINE.match(self.lines[i])), start)
        position = Position(first + 1, 1)
        line, indent = start, -1
        for segment in path:
            if isinstance(segment, int):
                continue
            found = self._find(segment, line, end, indent)
            if found is None:
                break
            line, indent = found
            position = Position(line + 1, indent + 1)
            line += 1
        return position

    def _segment(self, kind: str, ordinal: int, count: int) -> tuple[int, int]:
        if not self.segments:
            return 0, len(self.lines)
        if len(self.segments) == count and 0 <= ordinal < count:
            return self.segments[ordinal]
        kind_line = re.compile(r"^kind:\s*[\"']?" + re.escape(kind) + r"[\"']?\s*(#.*)?$")
        with_kind = [s for s in self.segments if any(kind_line.match(self.lines[i]) for i in range(*s))]
        if len(with_kind) == 1:
            return with_kind[0]
        return self.segments[0][0], self.segments[-1][1]

    def _find(self, key: str, start: int, end: int, indent: int) -> tuple[int, int] | None:
        """The next line holding `key` deeper than `indent`, before the enclosing block ends."""
        pattern = _key_pattern(key)
        for index in range(start, end):
            text = self.lines[index]
            match = pattern.match(text)
            if match and len(match.group(1)) > indent:
                return index, len(match.group(1))
            other = _KEY_LINE.match(text)
            if other and indent >= 0 and len(other.group(1)) <= indent:
                return None  # left the block of the parent key
        return None
