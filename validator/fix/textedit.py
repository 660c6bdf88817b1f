"""Text splices, the line/column regions they touch, and diffs of whole files.

Lines end at CR, LF or CRLF, as SARIF counts them; columns count Unicode code points, from 1.
"""

from __future__ import annotations

import bisect
import difflib
import functools
import re
from dataclasses import dataclass
from typing import Iterable

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
_BREAK = re.compile(r"\r\n|\r|\n")


class Refused(Exception):
    """An edit that cannot be made safely; the message says why, without quoting values."""


@dataclass(frozen=True)
class Splice:
    start: int  # offset of the first character replaced
    end: int  # offset after the last one (== start for an insertion)
    text: str


def apply_splices(text: str, splices: Iterable[Splice]) -> str:
    ordered = sorted(splices, key=lambda s: (s.start, s.end))
    for before, after in zip(ordered, ordered[1:]):
        if after.start < before.end:
            raise Refused("two edits overlap")
    for splice in reversed(ordered):
        text = text[:splice.start] + splice.text + text[splice.end:]
    return text


def split_lines(text: str) -> list[str]:
    """Lines with their line breaks."""
    return _LINE.findall(text)


def newline_of(text: str) -> str:
    """The line break the file uses (LF when it has none)."""
    match = re.search(r"\r\n|\r|\n", text)
    return match.group(0) if match else "\n"


def line_end(text: str, offset: int) -> int:
    """The offset of the next line's start (after the line break), or the end of the text."""
    match = _BREAK.search(text, offset)
    return match.end() if match else len(text)


def line_start(text: str, offset: int) -> int:
    return max(text.rfind("\n", 0, offset), text.rfind("\r", 0, offset)) + 1


def insert_lines(text: str, offset: int, lines: list[str], newline: str) -> Splice:
    """Insert whole lines at `offset` (a line start, or the end of a text without a final break)."""
    block = "".join(line + newline for line in lines)
    if offset == len(text) and text and not text.endswith(("\n", "\r")):
        block = newline + block[: -len(newline)]
    return Splice(offset, offset, block)


@dataclass(frozen=True, slots=True)
class Replacement:
    """Delete the region from (start_line, start_column) up to, not including, (end_line,
    end_column), and insert `inserted` there. An empty region is an insertion."""

    start_line: int
    start_column: int
    end_line: int
    end_column: int
    inserted: str


def replacements(old: str, new: str) -> list[Replacement]:
    """The fewest whole-hunk replacements that turn `old` into `new`, trimmed to the
    characters that change; positions refer to `old`. Only the lines between the first and
    the last difference are compared."""
    same_start = _shared_length(old, new)
    same_end = _shared_length(old, new, from_end=True, limit=min(len(old), len(new)) - same_start)
    start = line_start(old, same_start)
    if start == len(old) > 0:  # an insertion at the end: compare from the last line
        start = line_start(old, start - 1)
    if 0 < start < len(old) and old[start - 1] == "\r" and old[start] == "\n":  # inside a CRLF
        start = line_start(old, start - 1)
    old_end = line_end(old, len(old) - same_end)
    new_end = len(new) - (len(old) - old_end)
    lines_before = bisect.bisect_right(_line_breaks(old), start)  # `start` is not inside a CRLF
    found = _replacements(old[start:old_end], new[start:new_end], at_end=old_end == len(old))
    return [Replacement(r.start_line + lines_before, r.start_column, r.end_line + lines_before, r.end_column,
                        r.inserted) for r in found]


def _shared_length(a: str, b: str, from_end: bool = False, limit: int | None = None) -> int:
    """How many characters (at most `limit`) `a` and `b` share at their start (or end).
    Slices that double in size are compared until one differs, then halves of it: the cost
    is that of comparing the shared characters, a few times over."""
    limit = min(len(a), len(b)) if limit is None else limit

    def same(low: int, high: int) -> bool:  # characters low..high-1 from the start (or the end)
        if from_end:
            return a[len(a) - high:len(a) - low] == b[len(b) - high:len(b) - low]
        return a[low:high] == b[low:high]

    low, size = 0, 256  # the first `low` characters are shared
    while low < limit:
        high = min(limit, low + size)
        if not same(low, high):
            break
        low, size = high, size * 2
    else:
        return limit
    while high - low > 1:  # a difference lies in low..high-1
        middle = (low + high) // 2
        if same(low, middle):
            low = middle
        else:
            high = middle
    return low


@functools.lru_cache(maxsize=4)  # SARIF fixes diff the same original text once per finding
def _line_breaks(text: str) -> list[int]:
    """The offset after each line break."""
    return [match.end() for match in _BREAK.finditer(text)]


def _replacements(old: str, new: str, at_end: bool) -> list[Replacement]:
    old_lines, new_lines = split_lines(old), split_lines(new)
    starts = _line_starts(old_lines)
    result = []
    for tag, i1, i2, j1, j2 in _matcher(old_lines, new_lines).get_opcodes():
        if tag == "equal":
            continue
        removed, added = "".join(old_lines[i1:i2]), "".join(new_lines[j1:j2])
        prefix = _common_prefix(removed, added)
        suffix = _common_suffix(removed[prefix:], added[prefix:])
        start, end = starts[i1] + prefix, starts[i1] + len(removed) - suffix
        inserted = added[prefix:len(added) - suffix]
        newline = "\r\n" if old.endswith("\r\n") else old[-1:] if old.endswith(("\n", "\r")) else ""
        if at_end and start == end == len(old) and newline and inserted.endswith(newline):
            # Insert before the last line break rather than past the end of the file.
            start = end = len(old) - len(newline)
            inserted = newline + inserted[:-len(newline)]
        result.append(Replacement(*_position(old_lines, starts, start), *_position(old_lines, starts, end), inserted))
    return result


def apply_replacements(old: str, edits: Iterable[Replacement]) -> str:
    """Apply replacements (as a SARIF consumer would): used to check them."""
    lines = split_lines(old)
    starts = _line_starts(lines)

    def offset(line: int, column: int) -> int:
        if line > len(lines):
            return len(old)
        return starts[line - 1] + column - 1

    return apply_splices(old, [Splice(offset(r.start_line, r.start_column), offset(r.end_line, r.end_column),
                                      r.inserted) for r in edits])


def unified_diff(old: str, new: str, display: str, context: int = 3) -> str:
    """A `git apply`-able diff of one file (`a/` and `b/` prefixes). Frequent lines are
    matched like any other (no difflib "junk"), so the hunks hold only what changed."""
    a, b = split_lines(old), split_lines(new)
    groups = list(_matcher(a, b).get_grouped_opcodes(context))
    if not groups:
        return ""
    out = [f"--- a/{display}\n", f"+++ b/{display}\n"]
    for group in groups:
        (_, i1, _, j1, _), (_, _, i2, _, j2) = group[0], group[-1]
        out.append(f"@@ -{_range(i1, i2)} +{_range(j1, j2)} @@\n")
        for tag, k1, k2, l1, l2 in group:
            if tag == "equal":
                out += [" " + line for line in a[k1:k2]]
                continue
            out += ["-" + line for line in a[k1:k2]] + ["+" + line for line in b[l1:l2]]
    return "".join(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n"
                   for line in out)


def _matcher(a: list[str], b: list[str]) -> difflib.SequenceMatcher:
    """A SequenceMatcher whose matches are found the patience way: lines that occur once on
    each side anchor the match, and difflib compares only the stretches between anchors.
    Manifests repeat many lines (`- name: app`), which makes plain difflib slow or, with its
    "junk" heuristic, gives hunks that remove and re-add unchanged lines."""
    matches: list[tuple[int, int]] = []
    regions = [(0, len(a), 0, len(b))]
    while regions:
        alo, ahi, blo, bhi = regions.pop()
        while alo < ahi and blo < bhi and a[alo] == b[blo]:
            matches.append((alo, blo))
            alo, blo = alo + 1, blo + 1
        while alo < ahi and blo < bhi and a[ahi - 1] == b[bhi - 1]:
            ahi, bhi = ahi - 1, bhi - 1
            matches.append((ahi, bhi))
        anchors = _anchors(a, alo, ahi, b, blo, bhi)
        if not anchors:
            small = difflib.SequenceMatcher(None, a[alo:ahi], b[blo:bhi], autojunk=False)
            matches += [(alo + i + k, blo + j + k) for i, j, n in small.get_matching_blocks() for k in range(n)]
            continue
        for i, j in anchors:
            matches.append((i, j))
            regions.append((alo, i, blo, j))
            alo, blo = i + 1, j + 1
        regions.append((alo, ahi, blo, bhi))
    blocks: list[list[int]] = []
    for i, j in sorted(matches):
        if blocks and blocks[-1][0] + blocks[-1][2] == i and blocks[-1][1] + blocks[-1][2] == j:
            blocks[-1][2] += 1
        else:
            blocks.append([i, j, 1])
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    # difflib caches get_matching_blocks() in this undeclared attribute; the blocks are given precomputed.
    blocks_found = [difflib.Match(*block) for block in blocks] + [difflib.Match(len(a), len(b), 0)]
    matcher.matching_blocks = blocks_found  # type: ignore[attr-defined]
    return matcher


def _anchors(a: list[str], alo: int, ahi: int, b: list[str], blo: int, bhi: int) -> list[tuple[int, int]]:
    """Lines unique on both sides, in the longest run that keeps their order on both."""
    counts: dict[str, list[int]] = {}
    for i in range(alo, ahi):
        counts.setdefault(a[i], [0, 0, i, 0])[0] += 1
    for j in range(blo, bhi):
        entry = counts.get(b[j])
        if entry is not None:
            entry[1] += 1
            entry[3] = j
    pairs = sorted((i, j) for once_a, once_b, i, j in counts.values() if once_a == 1 and once_b == 1)
    # Longest increasing subsequence of j (patience sorting), as (i, j) pairs.
    piles: list[int] = []
    tops: list[int] = []
    back: list[int] = [-1] * len(pairs)
    for index, (_, j) in enumerate(pairs):
        at = bisect.bisect_left(piles, j)
        back[index] = tops[at - 1] if at else -1
        if at == len(piles):
            piles.append(j)
            tops.append(index)
        else:
            piles[at], tops[at] = j, index
    chain, index = [], tops[-1] if tops else -1
    while index >= 0:
        chain.append(pairs[index])
        index = back[index]
    return chain[::-1]


def _range(start: int, end: int) -> str:
    """A hunk's line range as unified diffs write it: `start,count`, 1-based."""
    count = end - start
    if count == 1:
        return str(start + 1)
    return f"{start + 1 if count else start},{count}"


def _line_starts(lines: list[str]) -> list[int]:
    starts, offset = [], 0
    for line in lines:
        starts.append(offset)
        offset += len(line)
    starts.append(offset)
    return starts


def _position(lines: list[str], starts: list[int], offset: int) -> tuple[int, int]:
    """1-based line and column of an offset; the end of the text is past its last line."""
    if offset >= starts[-1]:
        if lines and not lines[-1].endswith(("\n", "\r")):
            return len(lines), offset - starts[-2] + 1
        return len(lines) + 1, 1
    index = bisect.bisect_right(starts, offset) - 1
    return index + 1, offset - starts[index] + 1


def _common_prefix(a: str, b: str) -> int:
    count = 0
    for x, y in zip(a, b):
        if x != y:
            break
        count += 1
    return count


def _common_suffix(a: str, b: str) -> int:
    count = 0
    for x, y in zip(reversed(a), reversed(b)):
        if x != y:
            break
        count += 1
    return count
