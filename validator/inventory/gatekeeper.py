"""Whole objects for Gatekeeper's `data.inventory` (see docs/rego.md, "Referential templates").

Gatekeeper gives referential ConstraintTemplates the cluster's objects of the kinds it
syncs, whole, as `data.inventory.cluster[groupVersion][kind][name]` and
`data.inventory.namespace[namespace][groupVersion][kind][name]`. The inventory's other
entries hold only small facts, so whole objects are kept only for the kinds a loaded
template asks for: the Gatekeeper loader calls `sync` with the kinds of each referential
template's `metadata.gatekeeper.sh/requires-sync-data` annotation (every kind when a
template reads `data.inventory` without the annotation), and with `Namespace` when a
Constraint has a `namespaceSelector`. A scan without such templates keeps nothing more.

An entry of a synced kind holds the object as JSON text (`Entry.whole`), Secrets' `data`
and `stringData` values redacted; it is the Kubernetes entry of the resource when there is
one (this extractor runs before the Kubernetes one, as a resource has one entry), so other
relations see the same facts and items. The `gatekeeperObjects` relation gives the same
items to every resource: those entries, with `apiVersion` and `object`.

The synced kinds are process-wide: a scan loads its policies before it reads (and forks
worker processes), so every process of the scan keeps the same kinds.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Iterable

from validator.inventory import EXTRACTORS, Entry, Inventory, entry_id, scan_relation
from validator.inventory.kubernetes import kubernetes_entry
from validator.model import Resource

RELATION = "gatekeeperObjects"
EVERY_KIND = ("*", "*")
REDACTED = "(redacted by tdv)"
_SYNCED: set[tuple[str, str]] = set()  # (API group, kind)


def sync(kinds: Iterable[tuple[str, str]]) -> None:
    """Keep whole the objects of these (API group, kind) pairs (EVERY_KIND: all)."""
    _SYNCED.update(kinds)


def synced() -> frozenset[tuple[str, str]]:
    return frozenset(_SYNCED)


def restore(kinds: Iterable[tuple[str, str]]) -> None:
    """Sync exactly these kinds again (what `synced` gave): for a process that loads policies
    for several runs, such as the test suite."""
    _SYNCED.clear()
    _SYNCED.update(kinds)


def is_synced(group: str, kind: str) -> bool:
    return (group, kind) in _SYNCED or EVERY_KIND in _SYNCED


def gatekeeper_entry(resource: Resource) -> Entry | None:
    document = resource.document
    if not _SYNCED or resource.identity or not isinstance(document, dict) or not resource.api_version:
        return None
    if not is_synced(resource.api_group, resource.kind) or not resource.name:
        return None
    whole = json.dumps(_redacted(document), default=str, separators=(",", ":"))
    base = kubernetes_entry(resource)
    if base is not None:
        return dataclasses.replace(base, whole=whole, api_version=resource.api_version)
    namespace = resource.namespace if isinstance(resource.namespace, str) and resource.namespace else None
    return Entry(entry_id(resource), resource.kind, resource.name, namespace, resource.locate(()), {},
                 resource.api_group, whole=whole, api_version=resource.api_version)


# Before the Kubernetes extractor, whose entry it includes: a resource has one entry.
EXTRACTORS.insert(0, gatekeeper_entry)


def _redacted(document: dict[str, Any]) -> dict[str, Any]:
    if document.get("kind") != "Secret" or document.get("apiVersion") != "v1":
        return document
    copy = dict(document)
    for key in ("data", "stringData"):
        if isinstance(copy.get(key), dict):
            copy[key] = {name: REDACTED for name in copy[key]}
    return copy


@scan_relation(RELATION, "any object (the same items for all)",
               "the objects of the kinds the loaded Gatekeeper templates read (their `requires-sync-data`), and"
               " the Namespaces when a Constraint has a `namespaceSelector`; each with `apiVersion` and `object`:"
               " the whole object as JSON text (Secrets' `data` and `stringData` values redacted). Empty unless"
               " Gatekeeper policies are loaded: it gives them `data.inventory`")
def _objects(inventory: Inventory) -> list[dict[str, Any]]:
    return [inventory.item(found, apiVersion=found.api_version, object=found.whole)
            for found in inventory.entries if found.whole]


def data_inventory(items: list[dict[str, Any]]) -> str:
    """`data.inventory` as Gatekeeper's sync gives it, as JSON text, from the relation's items.
    An object without `metadata.namespace` is under `cluster`, as gator puts it."""
    cluster: dict[str, dict[str, dict[str, str]]] = {}
    namespaced: dict[str, dict[str, dict[str, dict[str, str]]]] = {}
    for item in items:
        where = namespaced.setdefault(item["namespace"], {}) if item.get("namespace") else cluster
        where.setdefault(item["apiVersion"], {}).setdefault(item["kind"], {})[item["name"]] = item["object"]
    return '{"inventory":{"cluster":' + _join(cluster) + ',"namespace":' + _join(namespaced) + "}}"


def _join(tree: Any) -> str:
    """JSON text of nested mappings whose leaves are JSON texts already."""
    if isinstance(tree, str):
        return tree
    return "{" + ",".join(json.dumps(key) + ":" + _join(value) for key, value in sorted(tree.items())) + "}"


def namespace_labels(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The labels of each Namespace among the relation's items, by name."""
    found = {}
    for item in items:
        if item["kind"] == "Namespace" and item.get("apiVersion") == "v1":
            labels = json.loads(item["object"]).get("metadata", {}).get("labels")
            found[item["name"]] = labels if isinstance(labels, dict) else {}
    return found
