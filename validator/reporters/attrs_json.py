"""Turn attrs objects (such as the `sarif_om` classes) into plain JSON data.

Each attrs field is written under the name in its `schema_property_name` metadata (the
SARIF spelling, e.g. `ruleId`), or under its own name when it has none. A field is left
out when it is None or equal to its attrs default, so the output carries only what was
set; names listed in `always` are written even when they equal their default.
"""

from __future__ import annotations

from typing import Any

import attrs

NAME_KEY = "schema_property_name"


def to_json_data(value: Any, always: frozenset[str] = frozenset()) -> Any:
    if attrs.has(type(value)):
        return _object(value, always)
    if isinstance(value, dict):
        return {str(key): to_json_data(item, always) for key, item in value.items() if item is not None}
    if isinstance(value, (list, tuple)):
        return [to_json_data(item, always) for item in value]
    return value


def _object(value: Any, always: frozenset[str]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for field in attrs.fields(type(value)):
        item = getattr(value, field.name)
        name = field.metadata.get(NAME_KEY, field.name)
        if item is None or (name not in always and _is_default(field, item)):
            continue
        data[name] = to_json_data(item, always)
    return data


def _is_default(field: attrs.Attribute, item: Any) -> bool:
    default = field.default
    if default is attrs.NOTHING:
        return False
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        if default.takes_self:
            return False
        default = default.factory()
    # type check first: True == 1 and 1.0 == 1, but they are different JSON values
    return type(item) is type(default) and item == default
