"""Typed reads of a manifest's fields, shared by the importers of policies written as
Kubernetes objects (ValidatingAdmissionPolicies, Gatekeeper templates and constraints).

`owner` is the importer's view of one object: its `error(path, message)` builds the error that
names the file and the line of the field.
"""

from __future__ import annotations

from typing import Any, Protocol

from validator.model import FieldPath


class Owner(Protocol):
    def error(self, path: FieldPath, message: str) -> Exception: ...


def strings(owner: Owner, mapping: dict[str, Any], path: FieldPath, key: str) -> list[str]:
    """`mapping[key]`: a list of strings (or absent)."""
    value = mapping.get(key) or []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise owner.error(path + (key,), f"{key} must be a list of strings")
    return value


def mapping(owner: Owner, value: Any, path: FieldPath) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise owner.error(path, f"{'.'.join(map(str, path))} must be a mapping")
    return value


def sequence(owner: Owner, value: Any, path: FieldPath) -> list[Any]:
    if not isinstance(value, list):
        raise owner.error(path, f"{'.'.join(map(str, path))} must be a list")
    return value
