"""Typed access to a YAML (or JSON) document that fails with the line of the bad key.

Used by every file tdv reads as settings rather than as input to scan: policies, the
config file, the baseline. A subclass names the exception to raise; it is called as
`error(display, message, line)`.
"""

from __future__ import annotations

from typing import Any, Callable, NoReturn

from validator.model import FieldPath
from validator.sources.yaml_loader import YamlDocument


class DocumentReader:
    error: Callable[[str, str, int | None], Exception] = ValueError

    def __init__(self, document: YamlDocument, display: str):
        self.document, self.display = document, display

    def line(self, path: FieldPath) -> int:
        return self.document.locate(path).line

    def fail(self, path: FieldPath, message: str) -> NoReturn:
        raise type(self).error(self.display, message, self.line(path))

    def check_keys(self, mapping: dict[str, Any], path: FieldPath, allowed: Any) -> None:
        """`allowed` is a collection of keys, or a dict of key -> required."""
        for key in mapping:
            if key not in allowed:
                self.fail(path + (key,), f"unknown key {key!r} (allowed: {', '.join(sorted(allowed))})")
        required = [k for k, needed in allowed.items() if needed] if isinstance(allowed, dict) else []
        for key in required:
            if key not in mapping:
                self.fail(path, f"missing required key {key!r}")

    def string(self, mapping: dict[Any, Any], path: FieldPath, required: bool = True) -> str:
        value = mapping.get(path[-1])
        if value is None and not required:
            return ""
        if not isinstance(value, str) or not value.strip():
            self.fail(path, f"{label(path)} must be a non-empty string")
        return value

    def mapping(self, value: Any, path: FieldPath) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(path, f"{label(path)} must be a mapping")
        return value

    def sequence(self, value: Any, path: FieldPath) -> list[Any]:
        if not isinstance(value, list):
            self.fail(path, f"{label(path)} must be a list")
        return value

    def strings(self, value: Any, path: FieldPath) -> tuple[str, ...]:
        """One non-empty string or a list of them."""
        items = value if isinstance(value, list) else [value]
        for index, item in enumerate(items):
            if not isinstance(item, str) or not item.strip():
                where = path + (index,) if isinstance(value, list) else path
                self.fail(where, f"{label(path)} must be a string or a list of non-empty strings")
        return tuple(item.strip() for item in items)


def label(path: FieldPath) -> str:
    """How a field is named in messages: `'kinds'`, or `item 2 of 'exemptions'` for a list item."""
    if not path:
        return "the document"
    if isinstance(path[-1], int):
        owner = f" of {path[-2]!r}" if len(path) > 1 else ""
        return f"item {path[-1] + 1}{owner}"
    return repr(path[-1])
