"""Stable identities for findings, shared by the reporters and the baseline.

A fingerprint is built from the policy id, the file the resource is written in (and the
chart or overlay it is rendered from), the resource's identity (API group, kind, namespace
and a stable form of its name, or a Terraform address) and the blamed field. It leaves
out line numbers, so it survives edits above the finding and reordered documents; it
differs between two files that define the same object (environments, overlays).

A name that changes each time the object is rendered is left out of it:

- an object rendered from a Helm template is known by its place among the objects of its
  kind that the template renders (a `randAlphaNum` suffix changes at each render);
- a name made from `metadata.generateName` is known by that prefix;
- a ConfigMap or Secret named with a Kustomize generator's hash suffix (`-` and ten
  characters of its alphabet) is known by its name without the suffix.

Two findings of one report may still have the same fingerprint (one object written twice in
a file, two validations blaming one field). `fingerprints` gives each finding of a report
one that is unique in it: the second and later of a group, in the order of their place in
their file, get the fingerprint with their occurrence number mixed in.

List indexes are replaced by what
identifies the item where there is something: a path (`mountPath`, `devicePath`), a
`name`, a port or a `key`, or the value itself for a plain string or number (such as a
capability in `capabilities.add`); so reordering containers, env vars, ports, volumes or
capabilities keeps it too. An item with none of those keeps its index.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from typing import Any, Iterable

from validator.model import FieldPath, Resource, Result, Status

VERSION = 2  # of the scheme; baselines record it (see validator.filters.baseline)
HELM_SOURCE = "helm-source"  # resource metadata: the template (validator.sources.kubernetes.HELM_SOURCE)
RENDERED_FROM = "rendered-from"  # the chart or overlay (validator.sources.render.RENDERED_FROM)
# Kustomize's generator suffix: a hash written with the 16 characters of its encoding.
_GENERATOR_HASH = re.compile(r"^(.+)-[2456789bcdfghkmt]{10}$")

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
    """The resource's identity as fingerprints of scheme version 1 used it."""
    return f"{resource.api_group}/{resource.kind}/{resource.namespace or ''}/{resource.name}"


def stable_name(resource: Resource) -> str:
    """The resource's name without what changes each time it is generated."""
    meta = resource.document.get("metadata") if isinstance(resource.document, dict) else None
    generate = meta.get("generateName") if isinstance(meta, dict) else None
    if isinstance(generate, str) and generate and (not resource.name or resource.name.startswith(generate)):
        return generate + "*"
    if resource.kind in ("ConfigMap", "Secret"):
        match = _GENERATOR_HASH.match(resource.name or "")
        if match:
            return match.group(1) + "-*"
    return resource.name


def resource_key(resource: Resource, ordinal: int | None = None) -> str:
    """Where the resource is written and what it is; `ordinal` is its place among the
    objects of its kind rendered by one Helm template, which stands for its name."""
    origin = resource.path
    if resource.metadata.get(RENDERED_FROM):
        origin += "<" + resource.metadata[RENDERED_FROM]
    if resource.identity:
        return f"{origin}|{resource.identity}"
    name = f"#{ordinal}" if ordinal is not None else stable_name(resource)
    return f"{origin}|{resource.api_group}/{resource.kind}/{resource.namespace or ''}/{name}"


def _stable(resource: Resource, path: FieldPath) -> str:
    stable = resource.stable_paths.get(path)
    return stable if stable is not None else stable_path(resource.document, path)


def fingerprint(policy_id: str, resource: Resource, path: FieldPath, ordinal: int | None = None) -> str:
    """The fingerprint of one finding, before it is made unique in its report."""
    text = "|".join((f"v{VERSION}", policy_id, resource_key(resource, ordinal), _stable(resource, path)))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def fingerprint_v1(policy_id: str, resource: Resource, path: FieldPath) -> str:
    """The fingerprint of scheme version 1 (no file, the name as written), for baselines
    written by earlier versions of tdv."""
    text = "|".join((policy_id, resource_identity(resource), _stable(resource, path)))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def template_ordinals(resources: Iterable[Resource]) -> dict[int, int]:
    """For each resource rendered from a Helm template (by id): its place among the objects
    of its kind and namespace that the template rendered, in the order they were rendered.
    Copies of one resource (results sent back by worker processes) get the same place."""
    groups: dict[tuple, set[int]] = {}
    members: list[tuple[Resource, tuple]] = []
    for resource in resources:
        source = resource.metadata.get(HELM_SOURCE)
        if source:
            key = (resource.path, resource.metadata.get(RENDERED_FROM), source, resource.kind, resource.namespace)
            groups.setdefault(key, set()).add(resource.doc_index)
            members.append((resource, key))
    places = {key: {index: number for number, index in enumerate(sorted(indexes))} for key, indexes in groups.items()}
    return {id(resource): places[key][resource.doc_index] for resource, key in members}


def fingerprints(results: Iterable[Result]) -> dict[tuple[int, int], str]:
    """The fingerprint of every finding of failed results, by (id of the result, index of
    the violation), each unique among them."""
    failed = [result for result in results if result.status is Status.FAIL]
    ordinals = template_ordinals(result.resource for result in failed)
    found: dict[tuple[int, int], str] = {}
    places: dict[tuple[int, int], tuple] = {}
    for result in failed:
        resource = result.resource
        for index, violation in enumerate(result.violations):
            key = (id(result), index)
            found[key] = fingerprint(result.policy.id, resource, violation.field_path, ordinals.get(id(resource)))
            location = violation.location
            places[key] = (location.path, location.line or 0, location.column or 0, resource.doc_index,
                           result.policy.id, violation.message, index)
    seen: Counter[str] = Counter()
    for key in sorted(found, key=lambda k: places[k]):
        base = found[key]
        occurrence = seen[base]
        seen[base] += 1
        if occurrence:
            found[key] = hashlib.sha256(f"{base}#{occurrence}".encode("utf-8")).hexdigest()[:32]
    return found


def for_report(report) -> dict[tuple[int, int], str]:
    """`fingerprints` of a report's results, computed once per report."""
    cached = report.__dict__.get("_fingerprints")
    if cached is None or cached[0] is not report.results:
        cached = report.__dict__["_fingerprints"] = (report.results, fingerprints(report.results.outcomes()))
    return cached[1]
