"""CEL source rewriting for the Kubernetes API server, which has no `cel.bind`.

`cel.bind(name, value, body)` becomes `[value].map(name, body)[0]`: a one-item
comprehension binds `name` the same way, for a body of any type. The scanner skips string
literals and comments, so only real calls are rewritten; everything else is kept verbatim
(or, with `compact`, put on one line).
"""

from __future__ import annotations

import re
from typing import Any

from validator.engine.cel import to_cel_literal

_BIND = re.compile(r"cel\s*\.\s*bind\s*\(")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_STRING_START = re.compile(r"(?:[rR][bB]?|[bB][rR]?)?('''|\"\"\"|'|\")")
_OPENING, _CLOSING = "([{", ")]}"


class CelTextError(ValueError):
    pass


def inline_binds(text: str) -> str:
    """`text` with every `cel.bind(...)` replaced by an equivalent comprehension."""
    out: list[str] = []
    position = 0
    while position < len(text):
        end = _literal_end(text, position)
        if end > position:
            out.append(text[position:end])
            position = end
            continue
        bind = _BIND.match(text, position)
        if bind and not _follows_member(text, position):
            arguments, position = _arguments(text, bind.end())
            if len(arguments) != 3:
                raise CelTextError("cel.bind takes three arguments")
            name, value, body = arguments
            out.append(f"[{inline_binds(value).strip()}].map({name.strip()}, {inline_binds(body).strip()})[0]")
            continue
        word = _IDENTIFIER.match(text, position)
        end = word.end() if word else position + 1
        out.append(text[position:end])
        position = end
    return "".join(out)


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
    before = text[:position].rstrip()
    return bool(before) and (before[-1] == "." or before[-1].isalnum() or before[-1] == "_")


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
