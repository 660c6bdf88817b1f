"""Stable identities for findings, shared by the reporters and the baseline.

A fingerprint is built from the policy id, the resource's identity (API group, kind,
namespace and name, or a Terraform address) and the blamed field. It leaves out line
numbers and the file path, so it survives edits above the finding, reordered documents
and a resource moving to another file of the bundle. List indexes are replaced by what
identifies the item where there is something: a path (`mountPath`, `devicePath`), a
`name`, a port or a `key`, or the value itself for a plain string or number (such as a
capability in `capabilities.add`); so reordering containers, env vars, ports, volumes or
capabilities keeps it too. An item with none of those keeps its index.
"""

from __future__ import annotations

import hashlib
from typing import Any

from validator.model import FieldPath, Resource

# Checked in order: volumeMounts share a `name` when one volume is mounted twice.
IDENTITY_KEYS = ("mountPath", "devicePath", "name", "containerPort", "port", "key", "ip")


def item_key(item: Any, index: int) -> str:
    if isinstance(item, dict):
        for key in IDENTITY_KEYS:
            value = item.get(key)
            if isinstance(value, (str, int)) and not isinstance(value, bool):
                return f"[{key}={value}]"
    elif isinstance(item, (str, int, float)) and not isinstance(item, bool):
        return f"[={item}]"
    return f"[{index}]"


def stable_path(document: Any, path: FieldPath) -> str:
    parts: list[str] = []
    node = document
    for segment in path:
        if isinstance(segment, int):
            item = node[segment] if isinstance(node, list) and 0 <= segment < len(node) else None
            parts.append(item_key(item, segment))
            node = item
        else:
            parts.append(f".{segment}")
            node = node.get(segment) if isinstance(node, dict) else None
    return "".join(parts)


def resource_identity(resource: Resource) -> str:
    return f"{resource.api_group}/{resource.kind}/{resource.namespace or ''}/{resource.name}"


def fingerprint(policy_id: str, resource: Resource, path: FieldPath) -> str:
    stable = resource.stable_paths.get(path)
    if stable is None:
        stable = stable_path(resource.document, path)
    text = "|".join((policy_id, resource_identity(resource), stable))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
