"""A quick lexical pass over a `.tf` file, before python-hcl2 parses it.

It finds what the parser must agree with, and what it must not be given:

- the line of every top-level block header (`resource "t" "n" {`, `locals {`...), so that a
  file never yields fewer blocks than it declares without an error (see `lost_blocks`);
- the closing lines of heredocs, which Terraform reads with the spaces around the marker
  trimmed (`POLICY  `); python-hcl2 accepts spaces only before it, so trailing ones are
  moved in front of the marker (`normalise`): line numbers, columns of everything after
  the marker line, and character offsets all stay the same;
- input beyond the budgets below, which would take the parser minutes or all the memory.
  No real file comes near them.

Strings, comments and heredoc bodies are skipped, so a header or a bracket written in them
is not counted. The pass is linear in the size of the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_NESTING = 200  # brackets, braces and parentheses open at once
MAX_ITEMS = 10_000  # items (or lines) in one list, object, block body or call
MAX_OPERATORS = 500  # operator characters in one expression (between commas or line breaks)
MAX_TOKENS = 400_000  # tokens in one file, about 20 s of parsing
MAX_PARSE_SECONDS = 60.0  # a last resort, should the parser be slow on some input

_CODE = re.compile(
    r'(?P<nl>\n)|(?P<string>")|(?P<heredoc><<-?(?P<marker>[A-Za-z][A-Za-z0-9._-]*)\r?\n)'
    r"|(?P<comment>#|//)|(?P<block_comment>/\*)|(?P<open>[\[({])|(?P<close>[\])}])|(?P<comma>,)"
    r"|(?P<operator>(?:[-+*%>=!&|?:]|<(?!<)|/(?![/*]))+)")
_STRING = re.compile(r'\\.|(?P<end>")|(?P<interpolation>(?<![$%])[$%]\{)|(?P<literal>[$%][$%]\{)|(?P<nl>\n)')
_HEADER = re.compile(r'[ \t]*([A-Za-z_][A-Za-z0-9_-]*)'
                     r'(?:[ \t]+(?:"(?:[^"\\\n]|\\.)*"|[A-Za-z_][A-Za-z0-9_-]*))*[ \t]*\{')


class BudgetError(Exception):
    """The file is beyond one of the budgets above."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message, self.line = message, line


@dataclass
class Layout:
    """What the pass found in one file."""

    text: str  # the text to parse (heredoc closing lines normalised)
    headers: dict[int, str] = field(default_factory=dict)  # line -> block type, top-level headers


def scan(text: str) -> Layout:
    """The layout of a file; raises BudgetError when it is over a budget."""
    return _Scanner(text).run()


def lost_blocks(layout: Layout, parsed: dict[int, str]) -> list[tuple[int, str]]:
    """The headers (line, type) the pass found that the parser did not read as top-level
    blocks (`parsed`: line -> type of each top-level block in the tree)."""
    return [(line, kind) for line, kind in sorted(layout.headers.items()) if parsed.get(line) != kind]


class _Scanner:
    def __init__(self, text: str):
        self.text = text
        self.pieces: list[str] = []  # the normalised text, built when a heredoc needs it
        self.copied = 0  # offset up to which `pieces` holds the text
        self.line = 1
        self.stack: list[list[int]] = []  # per open bracket: [items so far, line opened]
        self.layout = Layout(text)
        self.operators = 0  # operator characters since the last comma or line break
        self.strings = 0  # strings open at once (each in an interpolation of the one before)

    def run(self) -> Layout:  # noqa: C901 - one branch per token kind the scanner meets
        text, position, at_line_start = self.text, 0, True
        while position < len(text):
            if at_line_start and not self.stack:
                header = _HEADER.match(text, position)
                if header:
                    self.layout.headers[self.line] = header.group(1)
            at_line_start = False
            match = _CODE.search(text, position)
            if match is None:
                break
            position = match.end()
            kind = match.lastgroup if match.lastgroup != "marker" else "heredoc"
            if kind == "nl":
                self.line += 1
                at_line_start = True
                self._item()
            elif kind == "string":
                position = self._string(position)
            elif kind == "heredoc":
                self.line += 1
                position = self._heredoc(position, match.group("marker"))
            elif kind == "comment":
                end = text.find("\n", position)
                position = len(text) if end < 0 else end
            elif kind == "block_comment":
                end = text.find("*/", position)
                end = len(text) if end < 0 else end + 2
                self.line += text.count("\n", position, end)
                position = end
            elif kind == "open":
                self._open()
            elif kind == "close":
                if self.stack:
                    self.stack.pop()
            elif kind == "operator":
                self.operators += match.end() - match.start()
                if self.operators > MAX_OPERATORS:
                    raise BudgetError(f"more than {MAX_OPERATORS} operators in one expression", self.line)
            else:
                self._item()
        if self.pieces:
            self.pieces.append(text[self.copied:])
            self.layout.text = "".join(self.pieces)
        return self.layout

    def _open(self) -> None:
        if len(self.stack) >= MAX_NESTING:
            raise BudgetError(f"nested deeper than {MAX_NESTING} levels", self.line)
        self.stack.append([0, self.line])

    def _item(self) -> None:
        self.operators = 0
        if self.stack:
            top = self.stack[-1]
            top[0] += 1
            if top[0] > MAX_ITEMS:
                raise BudgetError(f"more than {MAX_ITEMS:,} items in one list, object or block", top[1])

    def _string(self, position: int) -> int:
        """Skip a quoted string from after its opening quote; an interpolation in it is code,
        read until its closing brace. Returns the offset after the string."""
        self.strings += 1  # strings inside interpolations inside strings...
        if self.strings + len(self.stack) > MAX_NESTING:
            raise BudgetError(f"nested deeper than {MAX_NESTING} levels", self.line)
        try:
            return self._string_end(position)
        finally:
            self.strings -= 1

    def _string_end(self, position: int) -> int:  # noqa: C901 - a string and its interpolations in one loop
        text, depth = self.text, 0
        while position < len(text):
            if depth:
                match = _CODE.search(text, position)
                if match is None:
                    return len(text)
                position = match.end()
                kind = match.lastgroup
                if kind == "open":
                    depth += 1
                    if depth + self.strings + len(self.stack) > MAX_NESTING:
                        raise BudgetError(f"nested deeper than {MAX_NESTING} levels", self.line)
                elif kind == "close":
                    depth -= 1
                elif kind == "string":
                    position = self._string(position)
                elif kind == "nl":
                    self.line += 1
                continue
            match = _STRING.search(text, position)
            if match is None:
                return len(text)
            position = match.end()
            kind = match.lastgroup
            if kind == "end":
                return position
            if kind == "nl":  # an unterminated string: the parser reports it
                self.line += 1
                return position
            if kind == "interpolation":
                depth = 1
        return position

    def _heredoc(self, position: int, marker: str) -> int:
        """Skip a heredoc body from the line after its opener to after its closing line,
        normalising that line. Returns the offset after it."""
        text = self.text
        while position < len(text):
            end = text.find("\n", position)
            end = len(text) if end < 0 else end
            line = text[position:end]
            content = line[:-1] if line.endswith("\r") else line
            if content.strip() == marker:
                stripped = content.rstrip()
                if stripped != content:  # trailing spaces: move them before the marker
                    self.pieces.append(text[self.copied:position])
                    self.pieces.append(content[len(stripped):] + stripped + line[len(content):])
                    self.copied = end
                return end
            self.line += 1
            position = end + 1
        return position
