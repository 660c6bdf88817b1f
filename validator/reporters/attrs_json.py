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
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    fields = _fields(kind)
    if fields is not None:
        return _object(value, fields, always)
    if isinstance(value, dict):
        return {str(key): to_json_data(item, always) for key, item in value.items() if item is not None}
    if isinstance(value, (list, tuple)):
        return [to_json_data(item, always) for item in value]
    return value


_NO_DEFAULT = object()
_plans: dict[type, tuple[tuple[str, str, Any], ...] | None] = {}


def _fields(kind: type) -> tuple[tuple[str, str, Any], ...] | None:
    """(attribute, JSON name, default or _NO_DEFAULT) for each field of an attrs class; None
    for any other type. Worked out once per class: a SARIF log has many thousands of objects."""
    try:
        return _plans[kind]
    except KeyError:
        pass
    plan = None
    if attrs.has(kind):
        plan = tuple((field.name, field.metadata.get(NAME_KEY, field.name), _default(field))
                     for field in attrs.fields(kind))
    _plans[kind] = plan
    return plan


def _default(field: attrs.Attribute) -> Any:
    default: Any = field.default
    if default is attrs.NOTHING:
        return _NO_DEFAULT
    # attrs' stubs declare Factory a function; at run time it is the class of factory defaults.
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        return _NO_DEFAULT if default.takes_self else default.factory()
    return default


def _object(value: Any, fields: tuple[tuple[str, str, Any], ...], always: frozenset[str]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for attribute, name, default in fields:
        item = getattr(value, attribute)
        if item is None:
            continue
        # type check first: True == 1 and 1.0 == 1, but they are different JSON values
        if default is not _NO_DEFAULT and type(item) is type(default) and item == default and name not in always:
            continue
        data[name] = to_json_data(item, always)
    return data
