"""The text of `json.dumps(value, indent=2, ensure_ascii=False)`, written about twice as fast.

With `indent`, the json module falls back to its pure-Python encoder, which yields every
bracket, separator and value through nested generators. This writer appends them to one
list instead. It writes dicts, lists, strings, integers, booleans and null itself, using
json's own string escaping, and hands anything else (floats, tuples, subclasses) to json.
Keys must be strings, as in `attrs_json.to_json_data`'s output; json would also accept
numbers, booleans and null as keys, converting them.

`chunks_indented` writes the same text piece by piece, so that a report is written as it is
made: a `Lines` value (anywhere in dicts and lists) is a list given as an iterable, written
one entry per line, its entries made and written a batch at a time rather than held.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from json.encoder import encode_basestring  # what json.dumps(ensure_ascii=False) escapes strings with
from typing import Any


def dumps_indented(value: Any, one_line: frozenset[str] = frozenset()) -> str:
    """With `one_line`, each entry of a list under one of these keys is written on a line of
    its own, by json's C encoder: the text of a list of many objects is then about half
    as long, and written several times faster."""
    parts: list[str] = []
    _write(value, "\n", parts.append, one_line)
    return "".join(parts)


_encode_one_line = json.JSONEncoder(ensure_ascii=False).encode

BATCH = 256  # entries of a `Lines` per chunk


class Lines:
    """A list of JSON values, each written on one line, given as an iterable (such as a
    generator) that `chunks_indented` goes through once."""

    def __init__(self, entries: Iterable[Any]) -> None:
        self.entries = entries


def chunks_indented(value: Any, one_line: frozenset[str] = frozenset()) -> Iterator[str]:
    """The text of `dumps_indented(value, one_line)`, in pieces: one before the first entry
    of each `Lines`, then its entries (encoded, a batch per piece), and so on. Values that
    hold no `Lines` are written as dumps_indented writes them."""
    parts: list[str] = []
    yield from _chunks(value, "\n", parts, one_line)
    yield "".join(parts)


def _chunks(value: Any, newline: str, parts: list[str], one_line: frozenset[str]) -> Iterator[str]:
    """As `_write(value, newline, parts.append, one_line)`, yielding the text gathered in
    `parts` (and emptying it) before each batch of `Lines` entries."""
    kind = type(value)
    if kind is Lines:
        yield from _lines(value, newline, parts)
    elif (kind is dict or kind is list) and value:
        inner = newline + "  "
        separator = "{" + inner if kind is dict else "[" + inner
        for key, item in value.items() if kind is dict else ((None, item) for item in value):
            parts.append(separator)
            if key is not None:
                if not isinstance(key, str):
                    raise TypeError(f"keys must be strings, not {type(key).__name__}")
                parts.append(encode_basestring(key) + ": ")
            yield from _item(key, item, inner, parts, one_line)
            separator = "," + inner
        parts.append(newline + ("}" if kind is dict else "]"))
    else:
        _write(value, newline, parts.append, one_line)


def _item(key: str | None, item: Any, inner: str, parts: list[str], one_line: frozenset[str]) -> Iterator[str]:
    """An item of a dict (under `key`) or of a list (key None), as _write writes it."""
    kind = type(item)
    if key is not None and key in one_line and kind is list and item:
        parts.append(_one_line_list(item, inner))
    elif kind is Lines or kind is dict or kind is list:
        yield from _chunks(item, inner, parts, one_line)
    else:
        _write(item, inner, parts.append, one_line)


def _lines(value: Lines, newline: str, parts: list[str]) -> Iterator[str]:
    entries = iter(value.entries)
    first = next(entries, _NONE)
    if first is _NONE:
        parts.append("[]")
        return
    inner = newline + "  "
    separator = "," + inner
    parts.append("[" + inner + _encode_one_line(first))
    yield "".join(parts)
    parts.clear()
    batch: list[str] = []
    for entry in entries:
        batch.append(_encode_one_line(entry))
        if len(batch) == BATCH:
            yield separator + separator.join(batch)
            batch.clear()
    if batch:
        yield separator + separator.join(batch)
    parts.append(newline + "]")


_NONE = object()


def _one_line_list(items: list, newline: str) -> str:
    """A non-empty list whose first line is already indented, each entry on a line of its own."""
    entries = newline + "  "
    return "[" + entries + ("," + entries).join(_encode_one_line(entry) for entry in items) + newline + "]"


def _write(  # noqa: C901 - one branch per JSON type, in one function: the JSON report's hot recursion
        value: Any, newline: str, put: Callable[[str], None], one_line: frozenset[str] = frozenset()) -> None:
    """Write `value`, whose first line is already indented and whose other lines start with
    `newline` (a line break and the indentation of the line `value` starts on)."""
    kind = type(value)
    if kind is str:
        put(encode_basestring(value))
    elif kind is dict:
        if not value:
            put("{}")
            return
        inner = newline + "  "
        separator = "{" + inner
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"keys must be strings, not {type(key).__name__}")
            put(separator)
            put(encode_basestring(key))
            put(": ")
            if type(item) is str:  # the most common value: spare a call
                put(encode_basestring(item))
            elif key in one_line and type(item) is list and item:
                put(_one_line_list(item, inner))
            else:
                _write(item, inner, put, one_line)
            separator = "," + inner
        put(newline + "}")
    elif kind is list:
        if not value:
            put("[]")
            return
        inner = newline + "  "
        separator = "[" + inner
        for item in value:
            put(separator)
            _write(item, inner, put, one_line)
            separator = "," + inner
        put(newline + "]")
    elif value is None:
        put("null")
    elif value is True:
        put("true")
    elif value is False:
        put("false")
    elif kind is int:
        put(repr(value))
    else:  # json's text is indented from column 0: JSON strings hold no raw line break
        put(json.dumps(value, indent=2, ensure_ascii=False).replace("\n", newline))
