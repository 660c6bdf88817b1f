"""The inventory of a scan: what cross-resource policies know about the other objects.

A scan builds it once, in O(n), from one small **entry** per resource (`entry(resource)`):
plain, picklable data (strings, numbers, booleans, lists, dicts and `Location`s) holding
only what the relations read: labels, selectors, references by name, RBAC rules. Never a
Secret's or ConfigMap's data, except that the objects of the kinds a loaded Gatekeeper
template reads are kept whole for its data.inventory (Secrets' values redacted; see
validator.inventory.gatekeeper). Entries can be computed where the documents are (in worker
processes) and sent to the process that builds the inventory; relations are computed from
entries alone.

A policy that reads other objects names the relations it reads (`relations: [roles]`);
for each resource it sees a CEL variable `related`, a map from each of those relation names
to a list of related **items**:

    {"ref": "ClusterRole/admin", "kind": "ClusterRole", "name": "admin",
     "namespace": "shop",            # absent for cluster-scoped objects and unnamed namespaces
     "inScan": true,                 # false: referred to by name, but not in this scan
     "file": "rbac.yaml", "line": 12, "column": 1,   # only when inScan
     ...facts of the relation (e.g. "rules")}

Relations that follow a reference by name (a binding's roleRef, a workload's ConfigMaps)
give one item per reference, with `inScan: false` when the object is not in the scan, so a
policy can tell "not in this scan" (say nothing: the object may live in another repository)
from "present and bad". Relations that follow selectors give only objects in the scan.

Relations are computed on demand, when a resource is evaluated, and not kept: by dict lookups
in indexes that are themselves built once, on first use (see `Inventory.index`). No relation
scans the whole inventory per resource. A Kubernetes entry keeps its facts marshalled (`pack`) and
unpacks them at each read: a scan holds every entry until its last resource is evaluated.

Relations and entry extractors are registered by platform modules (validator.inventory.
kubernetes, validator.inventory.terraform, validator.inventory.gatekeeper) with `extractor`
and `relation` (or `scan_relation`, for items that are the same for every resource).
"""

from __future__ import annotations

import marshal
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from validator.model import Location, Resource

EntryId = tuple[str, int]  # (file path, document index): unique in a scan


@dataclass(frozen=True, eq=False, slots=True)
class Entry:
    """What the inventory keeps of one resource."""

    id: EntryId
    kind: str
    name: str
    namespace: str | None  # as written in the object (None: not written, or cluster-scoped)
    location: Location  # where the object starts
    packed: Any = b""  # its facts, packed by `pack` (or a dict, kept as it is; see `facts`)
    api_group: str = ""
    ref: str = ""  # human identity, as Resource.ref (e.g. a Terraform address)
    # The whole object as JSON text, kept only for the kinds Gatekeeper templates read (see
    # validator.inventory.gatekeeper); not part of the items relations give.
    whole: str = ""
    api_version: str = ""

    def __post_init__(self) -> None:
        if not self.ref:
            parts = [self.kind, self.namespace, self.name] if self.namespace else [self.kind, self.name]
            object.__setattr__(self, "ref", "/".join(parts))

    @property
    def facts(self) -> dict[str, Any]:
        """The plain data relations read, unpacked at each read: a new copy each time (see
        `pack`)."""
        packed = self.packed
        if type(packed) is bytes:
            return marshal.loads(packed) if packed else {}
        return packed


def pack(facts: dict[str, Any]) -> Any:
    """An entry's facts as it keeps them: marshalled, a tenth of the memory of the dicts and
    lists (a scan holds an entry per resource until every resource is evaluated); as they
    are if they hold something marshal cannot write."""
    if not facts:
        return b""
    try:
        return marshal.dumps(facts)
    except ValueError:
        return facts


Extractor = Callable[[Resource], "Entry | None"]
Compute = Callable[["Inventory", Any], list[dict[str, Any]]]  # (inventory, the Entry it starts from)


@dataclass(frozen=True)
class Relation:
    name: str
    kinds: str  # for the docs: which resources it starts from
    gives: str  # for the docs: what its items are
    compute: Compute
    scan_wide: bool = False  # the same items for every resource, with or without an entry of its own


EXTRACTORS: list[Extractor] = []
RELATIONS: dict[str, Relation] = {}


def extractor(function: Extractor) -> Extractor:
    """Register a function giving a resource's entry, or None when it is not its platform's."""
    EXTRACTORS.append(function)
    return function


def relation(name: str, kinds: str, gives: str) -> Callable[[Compute], Compute]:
    """Register a relation: `compute(inventory, entry)` gives the related items of the entry
    (an empty list for entries the relation does not start from)."""
    def register(compute: Compute) -> Compute:
        if name in RELATIONS:
            raise ValueError(f"relation {name!r} is registered twice")
        RELATIONS[name] = Relation(name, kinds, gives, compute)
        return compute
    return register


def scan_relation(name: str, kinds: str, gives: str) -> Callable[[Callable[["Inventory"], list[dict[str, Any]]]],
                                                                 Callable[["Inventory"], list[dict[str, Any]]]]:
    """Register a relation whose items are the same for every resource, computed once per
    inventory by `compute(inventory)`: a resource needs no entry of its own to read it."""
    def register(function: Callable[["Inventory"], list[dict[str, Any]]]) -> Callable[["Inventory"],
                                                                                       list[dict[str, Any]]]:
        if name in RELATIONS:
            raise ValueError(f"relation {name!r} is registered twice")

        def compute(inventory: "Inventory", start: Entry | None) -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = inventory.index(f"relation:{name}", function)
            return found
        compute.__module__ = function.__module__  # the platform whose extractors it reads
        RELATIONS[name] = Relation(name, kinds, gives, compute, scan_wide=True)
        return function
    return register


def entry_id(resource: Resource) -> EntryId:
    return (resource.path, resource.doc_index)


def entry(resource: Resource) -> Entry | None:
    """The entry of a resource, or None when no relation reads its kind."""
    for function in EXTRACTORS:
        found = function(resource)
        if found is not None:
            return found
    return None


def entries(resources: Iterable[Resource], relations: Iterable[str] | None = None) -> list[Entry]:
    """The entries of `resources`; with `relations`, only those of the platforms these
    relations belong to (a Kubernetes relation never reads a Terraform entry, nor the other
    way round), so that a scan pays only for what its policies read."""
    if relations is None:
        return [found for found in map(entry, resources) if found is not None]
    platforms = {RELATIONS[name].compute.__module__ for name in relations}
    extractors = [function for function in EXTRACTORS if function.__module__ in platforms]
    found = []
    for resource in resources:
        for function in extractors:
            item = function(resource)
            if item is not None:
                found.append(item)
                break
    return found


class Inventory:
    """The entries of a scan and the indexes relations read. Picklable: a scan builds it in
    one process and sends it to the others, which compute the relations they need."""

    def __init__(self, items: Iterable[Entry]):
        self._start(sorted(items, key=lambda e: e.id))

    def _start(self, entries: list[Entry]) -> None:
        self.entries: list[Entry] = entries
        self.by_id: dict[EntryId, Entry] = {e.id: e for e in self.entries}
        self._indexes: dict[str, Any] = {}
        self._items: dict[EntryId, dict[str, Any]] = {}

    def __len__(self) -> int:
        return len(self.entries)

    def __getstate__(self) -> dict[str, Any]:
        # What was computed on demand is computed again where needed.
        return {"entries": self.entries}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._start(state["entries"])

    def index(self, name: str, build: Callable[["Inventory"], Any]) -> Any:
        """An index over the entries, built on first use by `build(inventory)` and kept."""
        found = self._indexes.get(name)
        if found is None:
            found = self._indexes[name] = build(self)
        return found

    def related(self, resource: Resource, names: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        """The `related` variable of a resource: for each relation name, its items."""
        found = self.by_id.get(entry_id(resource))
        return {name: self.relation_items(name, found) if found is not None
                else RELATIONS[name].compute(self, None) if RELATIONS[name].scan_wide else [] for name in names}

    def relation_items(self, name: str, start: Entry) -> list[dict[str, Any]]:
        """Computed each time, not kept: a scan asks once per (relation, resource)."""
        return RELATIONS[name].compute(self, start)

    def item(self, found: Entry, **extra: Any) -> dict[str, Any]:
        """The CEL item of an entry in the scan: its identity, location and facts."""
        base = self._items.get(found.id)
        if base is None:
            base = {"ref": found.ref, "kind": found.kind, "name": found.name}
            if found.namespace:
                base["namespace"] = found.namespace
            base.update(inScan=True, file=found.location.path, line=found.location.line,
                        column=found.location.column)
            base.update(found.facts)
            self._items[found.id] = base
        return {**base, **extra} if extra else base


def missing(kind: str, name: str, namespace: str | None = None, **extra: Any) -> dict[str, Any]:
    """The item of an object referred to by name that is not in the scan."""
    item: dict[str, Any] = {"ref": "/".join(p for p in (kind, namespace, name) if p), "kind": kind, "name": name}
    if namespace:
        item["namespace"] = namespace
    item["inScan"] = False
    item.update(extra)
    return item


def build(items: Iterable[Entry]) -> Inventory:
    """The inventory of a scan, from the entries of all its resources (in any order)."""
    return Inventory(items)


def build_from(resources: Iterable[Resource]) -> Inventory:
    """The inventory of these resources, in one process (tests, `tdv test`, serial scans)."""
    return Inventory(entries(resources))


def relation_names() -> list[str]:
    return sorted(RELATIONS)


# The platforms register their extractors and relations on import.
from validator.inventory import (  # noqa: E402
    gatekeeper as _gatekeeper,  # noqa: F401
    kubernetes as _kubernetes,  # noqa: F401
    terraform as _terraform,  # noqa: F401
)
