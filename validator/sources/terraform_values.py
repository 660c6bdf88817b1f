"""Terraform values as policies see them: unknown values removed, sensitive values masked.

Both Terraform sources (plan JSON and `.tf` files) first build a value tree in which a value
that is not known before apply is the `UNKNOWN` marker. `settle` then turns that tree into
the document a policy evaluates, and the set of field paths that were unknown:

- an unknown map entry is left out; its path is recorded;
- an unknown list item is left out (the list closes up); the list path plus `UNKNOWN_ITEM`
  is recorded, so a finding on the whole list is dropped but one on a known item is not;
- null map entries are left out, as for Kubernetes objects.

The engine drops any finding whose blamed field is, contains, or is inside an unknown path.
"""

from __future__ import annotations

import math
from typing import Any

from validator.model import FieldPath, Position

SENSITIVE = "(sensitive)"
UNKNOWN_ITEM = "<unknown item>"
MAX_DEPTH = 100
_INT64 = 2**63


class _Unknown:
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()


class NestingError(Exception):
    """A value tree nested deeper than MAX_DEPTH."""


class NumberError(Exception):
    """A number no policy value can hold: beyond a 64-bit float (Terraform's numbers are
    arbitrary-precision; CEL's are not)."""

    message = "a number in its values is too large"


def checked_number(value: int | float) -> int | float:
    """`value`, or NumberError when it is beyond a finite 64-bit float."""
    if type(value) is float:
        if not math.isfinite(value):
            raise NumberError
    elif not -_INT64 <= value < _INT64:
        try:
            float(value)
        except OverflowError:
            raise NumberError from None
    return value


def mark_unknown(value: Any, marks: Any) -> Any:
    """Overlay Terraform's `after_unknown` marks (true = unknown) on a value."""
    if marks is True:
        return UNKNOWN
    if isinstance(marks, dict) and isinstance(value, dict):
        result = dict(value)
        for key, mark in marks.items():
            if mark is True:
                result[key] = UNKNOWN
            elif key in result and mark:
                result[key] = mark_unknown(result[key], mark)
        return result
    if isinstance(marks, list) and isinstance(value, list):
        items = list(value)
        for index, mark in enumerate(marks):
            if index < len(items):
                items[index] = mark_unknown(items[index], mark)
            elif mark is True:
                items.append(UNKNOWN)
        return items
    return value


def mask_sensitive(value: Any, marks: Any) -> Any:
    """Replace every value marked in `after_sensitive`/`sensitive_values` by `SENSITIVE`.

    A whole list or map marked sensitive keeps its shape, with each scalar masked, so that
    policies iterating over it still see a list or map.
    """
    if marks is True:
        if isinstance(value, dict):
            return {key: mask_sensitive(item, True) for key, item in value.items()}
        if isinstance(value, list):
            return [mask_sensitive(item, True) for item in value]
        return value if value is None or value is UNKNOWN else SENSITIVE
    if isinstance(marks, dict) and isinstance(value, dict):
        result = dict(value)
        for key, mark in marks.items():
            if key in result and mark:
                result[key] = mask_sensitive(result[key], mark)
        return result
    if isinstance(marks, list) and isinstance(value, list):
        return [mask_sensitive(item, marks[i]) if i < len(marks) else item for i, item in enumerate(value)]
    return value


def settle(value: dict[str, Any]) -> tuple[dict[str, Any], frozenset[FieldPath]]:
    """The document a policy sees, and the paths of the unknown values left out of it.

    Raises NestingError for a tree nested deeper than MAX_DEPTH, NumberError for a number
    beyond a 64-bit float.
    """
    unknown: list[FieldPath] = []
    if value is UNKNOWN:
        return {}, frozenset({()})
    document = _settle(value, (), unknown)
    return (document if isinstance(document, dict) else {}), frozenset(unknown)


def _settle(value: Any, path: FieldPath, unknown: list[FieldPath]) -> Any:  # noqa: C901 - one branch per value kind
    if len(path) > MAX_DEPTH:
        raise NestingError(f"values are nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            if item is UNKNOWN:
                unknown.append(path + (key,))
            elif item is not None:
                result[key] = _settle(item, path + (key,), unknown)
        return result
    if isinstance(value, list):
        items: list[Any] = []
        for item in value:
            if item is UNKNOWN:
                if not unknown or unknown[-1] != path + (UNKNOWN_ITEM,):
                    unknown.append(path + (UNKNOWN_ITEM,))
            else:
                items.append(_settle(item, path + (len(items),), unknown))
        return items
    if type(value) is int and not -_INT64 <= value < _INT64:
        return float(checked_number(value))  # as CEL cannot hold it
    if type(value) is float and not math.isfinite(value):
        raise NumberError
    return value


def nearest(positions: dict[FieldPath, Position], path: FieldPath, default: Position) -> Position:
    """The position of the longest prefix of `path` that has one."""
    for end in range(len(path), 0, -1):
        found = positions.get(path[:end])
        if found is not None:
            return found
    return default
