"""Following a field of a rendered object into a source document that produced it.

Lists may differ between the two (a patch merges containers by name, a base has fewer
items), so list items are matched by what identifies them (`name`, `mountPath`, a port,
the value of a plain item; see validator.fingerprint) and by index only as a last resort.
"""

from __future__ import annotations

from typing import Any

from validator.fingerprint import item_key
from validator.model import FieldPath


def follow(rendered: Any, source: Any, path: FieldPath) -> tuple[FieldPath, int]:
    """The path in `source` of what `path` names in `rendered`, and how many of its segments
    exist in `source` (len(path) when all do)."""
    found: list[str | int] = []
    for depth, segment in enumerate(path):
        if isinstance(segment, int):
            if not (isinstance(rendered, list) and isinstance(source, list) and 0 <= segment < len(rendered)):
                return tuple(found), depth
            index = matching_item(rendered[segment], segment, source)
            if index is None:
                return tuple(found), depth
            found.append(index)
            rendered, source = rendered[segment], source[index]
        else:
            if not (isinstance(source, dict) and segment in source):
                return tuple(found), depth
            found.append(segment)
            rendered = rendered.get(segment) if isinstance(rendered, dict) else None
            source = source[segment]
    return tuple(found), len(path)


def matching_item(item: Any, index: int, items: list[Any]) -> int | None:
    key = item_key(item, index)
    if key != f"[{index}]":  # the item has an identity: find the source item with the same one
        return next((i for i, other in enumerate(items) if item_key(other, i) == key), None)
    return index if index < len(items) else None
