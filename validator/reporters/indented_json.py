"""The text of `json.dumps(value, indent=2, ensure_ascii=False)`, written about twice as fast.

With `indent`, the json module falls back to its pure-Python encoder, which yields every
bracket, separator and value through nested generators. This writer appends them to one
list instead. It writes dicts, lists, strings, integers, booleans and null itself, using
json's own string escaping, and hands anything else (floats, tuples, subclasses) to json.
Keys must be strings, as in `attrs_json.to_json_data`'s output; json would also accept
numbers, booleans and null as keys, converting them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
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
                entries = inner + "  "
                put("[" + entries + ("," + entries).join(_encode_one_line(entry) for entry in item) + inner + "]")
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
