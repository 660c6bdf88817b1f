"""Drop the results of objects whose controller the same policy evaluated in this scan.

`kubectl get all -A -o yaml` lists a Deployment together with the ReplicaSet it created and
the Pods that ReplicaSet created. Those copy the Deployment's pod template, so their
findings would repeat the Deployment's, on objects nobody edits. An object names its
controller in `metadata.ownerReferences[]` (`controller: true`); when the same policy has a
result for that controller (matched by uid, else by kind, namespace and name), the object's
result is dropped with a debug note. An object whose controller is not in the scan, as with
`kubectl get pods`, is evaluated as usual.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, Hashable

from validator.checks import Checks
from validator.model import Resource, Result

log = logging.getLogger(__name__)


def skip_controlled(results: Iterable[Result]) -> Checks:
    checks = Checks.of(results)
    objects = {id(r): r for r in checks.resources()}  # each object once, by id
    owners = {oid: owner for oid, obj in objects.items() if (owner := controller(obj))}
    if not owners:  # nothing is controlled, as with manifests from a repository
        return checks
    owner_keys = {oid: _owner_keys(owner, objects[oid]) for oid, owner in owners.items()}
    named = set().union(*owner_keys.values())
    # Each object's keys that some controller reference names (most objects have none).
    keys = {oid: found for oid, obj in objects.items() if (found := [k for k in _keys(obj) if k in named])}
    evaluated = {(policy.id, key) for policy, resource in checks.pairs() for key in keys.get(id(resource), ())}
    noted: set[int] = set()

    def keep(policy: Any, resource: Resource, _: Any) -> bool:
        oid = id(resource)
        if oid not in owners or not any((policy.id, key) in evaluated for key in owner_keys[oid]):
            return True
        if oid not in noted:
            noted.add(oid)
            log.debug("%s: skipping %s: its controller %s/%s is evaluated instead", resource.path,
                      resource.ref, owners[oid].get("kind"), owners[oid].get("name"))
        return False

    return checks.select(keep)


def controller(resource: Resource) -> dict[str, Any] | None:
    """The owner reference marked `controller: true`, if any."""
    metadata = resource.document.get("metadata")
    references = metadata.get("ownerReferences") if isinstance(metadata, dict) else None
    for reference in references if isinstance(references, list) else []:
        if isinstance(reference, dict) and reference.get("controller") is True:
            return reference
    return None


def _keys(resource: Resource) -> list[Hashable]:
    metadata = resource.document.get("metadata")
    uid = metadata.get("uid") if isinstance(metadata, dict) else None
    keys: list[Hashable] = [("ref", resource.kind, resource.namespace, resource.name)]
    return keys + [("uid", str(uid))] if uid else keys


def _owner_keys(owner: dict[str, Any], resource: Resource) -> list[Hashable]:
    # An owner is in the object's namespace, or cluster-scoped.
    keys: list[Hashable] = [("ref", owner.get("kind"), namespace, owner.get("name"))
                            for namespace in (resource.namespace, None)]
    return keys + [("uid", str(owner["uid"]))] if owner.get("uid") else keys
