"""CEL source text: literals, and rewriting `cel.bind` away.

The engine binds with comprehensions rather than `cel.bind`: the Kubernetes API server has
no `cel.bind`, and the CEL runtime we embed gives a `cel.bind` the wrong value when it
follows a comprehension that stopped early at the same level.

`cel.bind(name, value, body)` becomes `[value].map(name, body)[0]`: a one-item
comprehension binds `name` the same way, for a body of any type. The scanner skips string
literals and comments, so only real calls are rewritten; everything else is kept verbatim
(or, with `compact`, put on one line).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

_BIND = re.compile(r"cel\s*\.\s*bind\s*\(")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_STRING_START = re.compile(r"(?:[rR][bB]?|[bB][rR]?)?('''|\"\"\"|'|\")")
_OPENING, _CLOSING = "([{", ")]}"


class CelTextError(ValueError):
    pass


def _rewrite(text: str, replace) -> str:
    """Copy `text`, skipping string literals and comments, letting `replace(position)`
    return `(replacement, end)` for a piece to rewrite, or None to keep it."""
    out: list[str] = []
    position = 0
    while position < len(text):
        end = _literal_end(text, position)
        if end > position:
            out.append(text[position:end])
            position = end
            continue
        rewritten = replace(position)
        if rewritten is not None:
            replacement, position = rewritten
            out.append(replacement)
            continue
        word = _IDENTIFIER.match(text, position)
        end = word.end() if word else position + 1
        out.append(text[position:end])
        position = end
    return "".join(out)


def inline_binds(text: str) -> str:
    """`text` with every `cel.bind(...)` replaced by an equivalent comprehension."""
    if not _BIND.search(text):
        return text

    def replace(position: int) -> tuple[str, int] | None:
        bind = _BIND.match(text, position)
        if not bind or _follows_member(text, position):
            return None
        arguments, end = _arguments(text, bind.end())
        if len(arguments) != 3:
            raise CelTextError("cel.bind takes three arguments")
        name, value, body = arguments
        return f"[{inline_binds(value).strip()}].map({name.strip()}, {inline_binds(body).strip()})[0]", end

    return _rewrite(text, replace)


_MEMBER = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)")


def substitute_members(text: str, root: str, values: dict[str, str]) -> str:
    """`text` with each `root.name` whose name is in `values` replaced by `(values[name])`.

    This inlines named expressions (such as a VAP's `variables`) so that each is evaluated
    only where, and if, it is used, as the API server does.
    """

    def replace(position: int) -> tuple[str, int] | None:
        member = _MEMBER.match(text, position)
        if not member or member.group(1) != root or member.group(2) not in values:
            return None
        if _follows_member(text, position):
            return None
        return f"({values[member.group(2)]})", member.end()

    return _rewrite(text, replace)


def mentions(text: str, name: str) -> bool:
    """Whether the identifier `name` appears in `text` (string literals included, so a
    false "yes" is possible; a false "no" is not)."""
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", text) is not None


def compact(text: str) -> str:
    """`text` on one line: comments dropped, whitespace outside string literals collapsed."""
    out: list[str] = []
    position = 0
    while position < len(text):
        end = _literal_end(text, position)
        if text[position].isspace() or text.startswith("//", position):
            while position < len(text) and (text[position].isspace() or text.startswith("//", position)):
                position = _literal_end(text, position) if text[position] == "/" else position + 1
            out.append(" ")
        elif end > position:
            out.append(text[position:end])
            position = end
        else:
            out.append(text[position])
            position += 1
    return "".join(out).strip()


def _follows_member(text: str, position: int) -> bool:
    """Whether the name at `position` is a member (`a.name`, spaces allowed around the dot) or
    the end of a longer identifier; after a keyword such as `in` it is neither."""
    before = text[:position].rstrip()
    adjacent = text[position - 1] if position else ""
    return (bool(before) and before[-1] == ".") or adjacent.isalnum() or adjacent == "_"


def _literal_end(text: str, position: int) -> int:
    """The end of the string literal or comment starting at `position`, else `position`."""
    if text.startswith("//", position):
        newline = text.find("\n", position)
        return len(text) if newline < 0 else newline
    match = _STRING_START.match(text, position)
    if not match or (position and (text[position - 1].isalnum() or text[position - 1] == "_")):
        return position
    quote, raw = match.group(1), "r" in match.group(0)[: match.start(1) - position].lower()
    index = match.end()
    while index < len(text):
        if text.startswith(quote, index):
            return index + len(quote)
        if text[index] == "\\" and not raw:
            index += 2
            continue
        if text[index] == "\n" and len(quote) == 1:
            break
        index += 1
    raise CelTextError("unterminated string literal")


def _arguments(text: str, position: int) -> tuple[list[str], int]:
    """Split the call arguments starting at `position` (just after the `(`)."""
    arguments: list[str] = []
    depth, start, index = 0, position, position
    while index < len(text):
        end = _literal_end(text, index)
        if end > index:
            index = end
            continue
        char = text[index]
        if char in _OPENING:
            depth += 1
        elif char in _CLOSING:
            if depth == 0:
                arguments.append(text[start:index])
                return arguments, index + 1
            depth -= 1
        elif char == "," and depth == 0:
            arguments.append(text[start:index])
            start = index + 1
        index += 1
    raise CelTextError("unbalanced parentheses")


def literal(value: Any) -> str:
    """A CEL literal the API server accepts: it requires lists and maps whose items share
    one type, so mixed or nested items are wrapped in `dyn()`."""
    if isinstance(value, dict):
        items = [(to_cel_literal(str(key)), literal(item)) for key, item in value.items()]
        wrap = not _uniform(list(value.values()))
        return "{" + ", ".join(f"{key}: {_dyn(item, wrap)}" for key, item in items) + "}"
    if isinstance(value, (list, tuple)):
        wrap = not _uniform(list(value))
        return "[" + ", ".join(_dyn(literal(item), wrap) for item in value) + "]"
    return to_cel_literal(value)


def _uniform(values: list[Any]) -> bool:
    """One item, or scalars of one CEL type (bool, int, double, string): no `dyn()` needed."""
    if len(values) <= 1:
        return True
    kinds = {type(v) for v in values}
    return len(kinds) <= 1 and not kinds & {dict, list, tuple, type(None)}


def _dyn(text: str, wrap: bool) -> str:
    return f"dyn({text})" if wrap else text


def to_cel_literal(value: Any) -> str:
    """A CEL literal for a JSON-like Python value (used to bind parameters)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return f"double('{value}')"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(to_cel_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(f"{json.dumps(str(k), ensure_ascii=False)}: {to_cel_literal(v)}" for k, v in value.items())
        return "{" + items + "}"
    raise TypeError(f"cannot express {type(value).__name__} as a CEL literal")
