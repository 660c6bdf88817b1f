"""Minimal edits of `.tf` files: set one attribute of a resource block, touching nothing else.

An existing attribute gets a new value in place (`publicly_accessible = true` becomes
`= false`); a missing one is a new line after the block's last attribute, at its
indentation, with `=` aligned to the attributes above it when it fits; a missing nested
block (`metadata_options`) is created at the end of the resource block. The file is never
re-formatted: positions come from the parse tree, and every other byte stays as it is.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from lark import Token, Tree

from validator.fix.plan import Assignment, Outcome
from validator.fix.textedit import Refused, Splice, apply_splices, insert_lines, line_end, line_start, newline_of
from validator.model import InputProblem, format_path
from validator.sources.terraform_expr import children, name_of
from validator.sources.terraform_hcl import parse_text

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_LAST = ("depends_on",)  # meta-arguments written after the other attributes


def edit(text: str, address: tuple[str, str], assignments: list[Assignment]) -> tuple[str, list[Outcome]]:
    """Apply the assignments to the resource block `address` (type, name), one at a time."""
    outcomes = []
    for assignment in assignments:
        try:
            splices = _Editor(text, address).assign(assignment)
        except Refused as error:
            outcomes.append(Outcome(assignment, False, str(error)))
            continue
        if splices:
            text = apply_splices(text, splices)
        outcomes.append(Outcome(assignment, bool(splices)))
    return text, outcomes


@functools.lru_cache(maxsize=8)
def _parsed(text: str) -> Tree | InputProblem:
    """The parse tree of a file's text, kept: SARIF's fix previews edit the same file once
    per finding, and python-hcl2 takes tens of milliseconds per file. Trees are only read."""
    return parse_text(text, "")


@functools.lru_cache(maxsize=4)
def block_spans(text: str) -> tuple[tuple[tuple[str | None, ...], int, int], ...] | None:
    """The top-level blocks of a file: header (`("resource", type, name)`), and where the
    block's text starts (its first line) and ends; None when the file does not parse."""
    tree = _parsed(text)
    if not isinstance(tree, Tree):
        return None
    return tuple((_header(block), line_start(text, block.meta.start_pos), block.meta.end_pos)
                 for block in _blocks(tree.children[0]))


class _Editor:
    def __init__(self, text: str, address: tuple[str, str]):
        tree = _parsed(text)
        if not isinstance(tree, Tree):
            raise Refused("the file is no longer valid HCL")
        self.text = text
        self.newline = newline_of(text)
        block = next((b for b in _blocks(tree.children[0]) if _header(b) == ("resource", *address)), None)
        if block is None:
            raise Refused(f"resource {'.'.join(address)} is not in the file")
        self.block: Tree = block

    def assign(self, assignment: Assignment) -> list[Splice]:
        path, block = assignment.path, self.block
        index = 0
        while index < len(path):
            name, rest = path[index], path[index + 1:]
            if not isinstance(name, str):
                raise Refused(f"{format_path(path[:index + 1])} is not an attribute or nested block")
            if not rest:
                return self._attribute(block, name, assignment)
            if not isinstance(rest[0], int) or len(rest) < 2:
                raise Refused(f"{format_path(path[:index + 2])}: tdv edits attributes and nested blocks only")
            if any(_header(b) == ("dynamic", name) for b in _items(block, "block")):
                raise Refused(f"{name} is written as a dynamic block; fix it by hand")
            nested = [b for b in _items(block, "block") if _header(b) == (name,)]
            if rest[0] < len(nested):
                block, index = nested[rest[0]], index + 2
                continue
            if rest[0] == len(nested) == 0:
                lines = self._block_lines(name, rest[1:], assignment, self._indent(block))
                return self._insert(block, lines, True)
            raise Refused(f"{format_path(path[:index + 2])} does not exist")
        raise Refused("a fix needs a field path")

    def _attribute(self, block: Tree, name: str, assignment: Assignment) -> list[Splice]:
        wanted = _literal([assignment.value] if assignment.operation == "append" else assignment.value)
        found = [a for a in _items(block, "attribute") if name_of(children(a)[0]) == name]
        if not found:
            line, realigned = self._attribute_line(block, name, wanted)
            return realigned + self._insert(block, [line], False)
        expression = children(found[0])[-1]
        start, end = expression.meta.start_pos, _trim(self.text, expression.meta.end_pos)
        written = self.text[start:end]
        if assignment.operation == "append":
            return self._append(expression, _literal(assignment.value), name)
        if assignment.if_absent or written == wanted:
            return []
        return [Splice(start, end, wanted)]

    def _append(self, expression: Tree, item: str, name: str) -> list[Splice]:
        node = expression
        while node.data == "expr_term" and len(children(node)) == 1:
            node = children(node)[0]
        if node.data != "tuple":
            raise Refused(f"{name} is not a list written out; fix it by hand")
        items = children(node)
        if any(self.text[i.meta.start_pos:i.meta.end_pos] == item for i in items):
            return []
        if items:
            return [Splice(items[-1].meta.end_pos, items[-1].meta.end_pos, ", " + item)]
        return [Splice(node.meta.start_pos + 1, node.meta.start_pos + 1, item)]

    def _attribute_line(self, block: Tree, name: str, value: str) -> tuple[str, list[Splice]]:
        """The line of a new attribute, and the splices that move the `=` of the attributes
        above it to the right when its name is longer than theirs (as `terraform fmt` aligns
        a run of one-line attributes)."""
        indent = self._indent(block)
        column, run = self._aligned_column(block)
        width = len(indent) + len(name)
        if column is None:
            return f"{indent}{name} = {value}", []
        if width < column:
            return f"{indent}{name}{' ' * (column - width)}= {value}", []
        shift = width + 1 - column
        splices = []
        for attribute in run:
            token = next(t for t in attribute.children if isinstance(t, Token) and t.type == "EQ")
            at = _start(token) + token.value.index("=")
            splices.append(Splice(at, at, " " * shift))
        return f"{indent}{name} = {value}", splices

    def _aligned_column(self, block: Tree) -> tuple[int | None, list[Tree]]:
        """The column of `=` shared by the run of one-line attributes the new one follows,
        and that run."""
        opening, closing = _braces(block)
        if self._line_of(_start(opening)) == self._line_of(_start(closing)):
            return None, []  # a one-line block is about to be written out on lines of its own
        attributes = self._attributes_before_insert(block)
        run: list[Tree] = []
        for attribute in reversed(attributes):
            if run and (self._line(run[-1]) - self._line(attribute) != 1):
                break
            if self._line(attribute) != self._line(attribute, end=True):
                break
            run.append(attribute)
        columns = {self._equals_column(a) for a in run}
        column = columns.pop() if len(columns) == 1 else None
        return (column, run) if column is not None else (None, [])

    def _insert(self, block: Tree, lines: list[str], is_block: bool) -> list[Splice]:
        """Insert attribute lines (after the last attribute) or a nested block (at the end)."""
        opening, closing = _braces(block)
        if self._line_of(_start(opening)) == self._line_of(_start(closing)):
            return [self._expand(block, opening, closing, lines)]
        items = _items(block)
        attributes = self._attributes_before_insert(block)
        if is_block and items:
            return [insert_lines(self.text, self._after(items[-1].meta.end_pos), [""] + lines, self.newline)]
        if not is_block and attributes:
            return [insert_lines(self.text, self._after(attributes[-1].meta.end_pos), lines, self.newline)]
        return [insert_lines(self.text, line_end(self.text, _end(opening)), lines, self.newline)]

    def _expand(self, block: Tree, opening: Token, closing: Token, lines: list[str]) -> Splice:
        """`name { a = 1 }` written on one line becomes a block of lines."""
        inner = self.text[_end(opening):_start(closing)].strip()
        outer = self._leading(block.meta.start_pos)
        body = ([self._indent(block) + inner] if inner else []) + lines
        text = self.newline + "".join(line + self.newline for line in body) + outer + "}"
        return Splice(_end(opening), _end(closing), text)

    def _block_lines(self, name: str, rest: tuple, assignment: Assignment, indent: str) -> list[str]:
        inner = indent + self._unit()
        if len(rest) == 1 and isinstance(rest[0], str):
            value = [assignment.value] if assignment.operation == "append" else assignment.value
            body = [f"{inner}{rest[0]} = {_literal(value)}"]
        elif len(rest) >= 3 and isinstance(rest[0], str) and rest[1] == 0:
            body = self._block_lines(rest[0], rest[2:], assignment, inner)
        else:
            raise Refused(f"{name}: tdv edits attributes and nested blocks only")
        return [f"{indent}{name} {{"] + body + [f"{indent}}}"]

    # Positions

    def _attributes_before_insert(self, block: Tree) -> list[Tree]:
        """The attributes a new one goes after: up to the last one written on one line (maps
        and lists written over several lines stay last), `depends_on` left out."""
        attributes = [a for a in _items(block, "attribute") if name_of(children(a)[0]) not in _LAST]
        one_line = [n for n, a in enumerate(attributes) if self._line(a) == self._line(a, end=True)]
        return attributes[:one_line[-1] + 1] if one_line else attributes

    def _indent(self, block: Tree) -> str:
        """The indentation of the block's own attributes and blocks (once on lines of their own)."""
        items = _items(block)
        opening, closing = _braces(block)
        if items and self._line_of(_start(opening)) != self._line_of(_start(closing)):
            return self._leading(items[0].meta.start_pos)
        return self._leading(block.meta.start_pos) + self._unit()

    def _unit(self) -> str:
        """The file's indentation step, as the resource block shows it (default two spaces)."""
        items = _items(self.block)
        outer = self._leading(self.block.meta.start_pos)
        inner = self._leading(items[0].meta.start_pos) if items else ""
        return inner[len(outer):] if len(inner) > len(outer) and inner.startswith(outer) else "  "

    def _leading(self, offset: int) -> str:
        """The blanks before `offset` on its line (spaces for anything else written there)."""
        before = self.text[line_start(self.text, offset):offset]
        return before if not before.strip() else " " * len(before)

    def _after(self, end: int) -> int:
        """The start of the line after an item (an item ending in a line break ends there)."""
        end = _trim(self.text, end)
        return line_end(self.text, end)

    def _column(self, offset: int) -> int:
        return offset - line_start(self.text, offset)

    def _line_of(self, offset: int) -> int:
        return self.text.count("\n", 0, offset)

    def _line(self, node: Tree, end: bool = False) -> int:
        return self._line_of(_trim(self.text, node.meta.end_pos) if end else node.meta.start_pos)

    def _equals_column(self, attribute: Tree) -> int | None:
        token = next((t for t in attribute.children if isinstance(t, Token) and t.type == "EQ"), None)
        if token is None:
            return None
        return self._column(_start(token) + token.value.index("="))


def _blocks(body: Tree) -> list[Tree]:
    return [item for item in children(body) if item.data == "block"]


def _header(block: Tree) -> tuple[str | None, ...]:
    """The block type and its labels: ("resource", "aws_s3_bucket", "logs")."""
    parts = children(block)
    return tuple(name_of(part) for part in parts[:-1])


def _items(block: Tree, kind: str | None = None) -> list[Tree]:
    body = children(block)[-1]
    if not isinstance(body, Tree) or body.data != "body":
        return []
    return [item for item in children(body) if kind is None or item.data == kind]


def _braces(block: Tree) -> tuple[Token, Token]:
    tokens = [t for t in block.children if isinstance(t, Token) and t.type in ("LBRACE", "RBRACE")]
    return tokens[0], tokens[-1]


def _start(token: Token) -> int:
    """Where a token starts; the HCL parser keeps positions, so every token has one."""
    assert token.start_pos is not None
    return token.start_pos


def _end(token: Token) -> int:
    assert token.end_pos is not None
    return token.end_pos


def _trim(text: str, end: int) -> int:
    """Back over the line break and blanks that end some expressions (heredocs)."""
    while end > 0 and text[end - 1] in " \t\r\n":
        end -= 1
    return end


def _literal(value: Any) -> str:
    """An HCL literal: strings escape `${` and `%{` so that they are never templates."""
    if value is None or isinstance(value, (bool, int, float)):
        return json.dumps(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("${", "$${").replace("%{", "%%{")
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    items = (f"{k if _IDENTIFIER.match(k) else json.dumps(k)} = {_literal(v)}" for k, v in value.items())
    return "{ " + ", ".join(items) + " }"
