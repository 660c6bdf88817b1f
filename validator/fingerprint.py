"""Stable identities for findings, shared by SARIF, JSON and the baseline.

A fingerprint ignores line numbers and the order of list items: list indexes of named
items (containers, env vars, ports, volumes) are replaced by their names. It changes only
when the policy, the resource identity or the blamed field changes.
"""

from __future__ import annotations

import hashlib
from typing import Any

from validator.model import FieldPath, Resource


def stable_path(document: Any, path: FieldPath) -> str:
    parts: list[str] = []
    node = document
    for segment in path:
        if isinstance(segment, int):
            item = node[segment] if isinstance(node, list) and 0 <= segment < len(node) else None
            name = item.get("name") if isinstance(item, dict) else None
            parts.append(f"[name={name}]" if isinstance(name, str) else f"[{segment}]")
            node = item
        else:
            parts.append(f".{segment}")
            node = node.get(segment) if isinstance(node, dict) else None
    return "".join(parts)


def resource_identity(resource: Resource) -> str:
    return f"{resource.api_group}/{resource.kind}/{resource.namespace or ''}/{resource.name}"


def fingerprint(policy_id: str, resource: Resource, path: FieldPath) -> str:
    text = "|".join((policy_id, resource_identity(resource), stable_path(resource.document, path)))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
