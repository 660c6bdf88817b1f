"""Plain data passed between the pipeline stages: sources, engine, filters, reporters."""

from __future__ import annotations

import enum
import re
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Union

PathSegment = Union[str, int]
FieldPath = tuple[PathSegment, ...]

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


class Severity(enum.IntEnum):
    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, text: str) -> "Severity":
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(s.label for s in cls)
            raise ValueError(f"unknown severity {text!r} (expected one of: {names})") from None

    @property
    def label(self) -> str:
        return self.name.lower()


def format_path(path: FieldPath) -> str:
    """Render a field path as `spec.containers[0].securityContext` (odd keys quoted)."""
    out: list[str] = []
    for segment in path:
        if isinstance(segment, int):
            out.append(f"[{segment}]")
        elif _PLAIN_KEY.match(segment):
            out.append(f".{segment}" if out else segment)
        else:
            out.append(f'["{segment}"]')
    return "".join(out)


_PATH_TOKEN = re.compile(r'\.?([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]|\["([^"]*)"\]')


def parse_path(text: str) -> FieldPath:
    """Inverse of `format_path`. Raises ValueError on malformed input."""
    segments: list[PathSegment] = []
    pos = 0
    while pos < len(text):
        match = _PATH_TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise ValueError(f"malformed field path {text!r} at column {pos + 1}")
        name, index, quoted = match.groups()
        if index is not None:
            segments.append(int(index))
        else:
            segments.append(name if name is not None else quoted)
        pos = match.end()
    return tuple(segments)


@dataclass(frozen=True, slots=True)
class Position:
    line: int  # 1-based
    column: int  # 1-based


@dataclass(frozen=True, slots=True)
class Location:
    """Where a developer edits: a file (relative to the scan root) and a position in it."""

    path: str
    line: int = 1
    column: int = 1


@dataclass(frozen=True)
class _FileNote:
    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class InputProblem(_FileNote):
    """A file (or one document in it) that could not be read. Reported, never raised."""


@dataclass(frozen=True)
class ScanWarning(_FileNote):
    """Something the user should fix that does not stop the scan, e.g. an expired exemption."""


@dataclass(frozen=True)
class ExpiredExemption(ScanWarning):
    """An exemption past its date, and how many findings it would cover (shards of one scan
    add theirs up; see validator.pipeline.merge)."""

    what: str = ""  # which exemption, and when it expired
    findings: int = 0

    @classmethod
    def of(cls, path: str, line: int | None, what: str, findings: int) -> "ExpiredExemption":
        effect = (f"{findings} finding{'s' if findings != 1 else ''} it covered {'are' if findings != 1 else 'is'}"
                  " reported as active" if findings else "it no longer suppresses anything")
        return cls(path, f"{what}: {effect}", line, what, findings)


@dataclass(frozen=True)
class SkipRule:
    """A suppression written next to the resource: a `tdv.dev/skip` annotation entry or a
    `# tdv:skip=` comment (see validator.filters.suppressions)."""

    patterns: tuple[str, ...]  # policy ids or globs
    reason: str
    location: Location  # where it is written
    problem: str | None = None  # why it is rejected; a rejected rule suppresses nothing


class SuppressionKind(str, enum.Enum):
    IN_SOURCE = "inSource"  # next to the resource (SARIF's names)
    EXTERNAL = "external"  # an exemption in the config file


@dataclass(frozen=True)
class Suppression:
    """Why the findings of a result do not count."""

    kind: SuppressionKind
    reason: str
    location: Location  # the annotation, comment or config entry
    owner: str | None = None
    expires: str | None = None  # ISO date, last day the suppression holds


# Locates a field path in the source; returns the position of the nearest existing field.
Locator = Callable[[FieldPath], Position]


# What later stages read of a detached resource's metadata: its identity (reports,
# fingerprints) and controller (validator.filters.owned); its labels only if exemptions
# select by label.
DETACHED_METADATA = ("name", "namespace", "generateName", "uid", "ownerReferences")


@dataclass(eq=False, slots=True)
class Resource:
    """One object to evaluate, with enough provenance to point back at its source."""

    kind: str
    api_version: str
    name: str
    namespace: str | None
    document: dict[str, Any]
    path: str  # display path of the file, relative to the scan root
    doc_index: int = 0  # position of the document in the file (List items count separately)
    locator: Locator | None = None
    metadata: dict[str, str] = field(default_factory=dict)  # e.g. helm-source
    identity: str | None = None  # shown instead of kind/namespace/name, e.g. a Terraform address
    # Fields whose value is not known yet (e.g. Terraform `after_unknown`): findings on them,
    # inside them or containing them are dropped by the engine.
    unknown_paths: frozenset[FieldPath] = frozenset()
    suppressions: tuple[SkipRule, ...] = ()  # written in the source, filled by the source kind
    # Stable forms of blamed field paths (see validator.fingerprint), kept by `detach`.
    stable_paths: dict[FieldPath, str] = field(default_factory=dict)
    # Terraform: the resources it refers to (validator.sources.terraform_refs.ResourceLinks)
    tf_links: Any = None

    @property
    def api_group(self) -> str:
        return self.api_version.rpartition("/")[0] if "/" in self.api_version else ""

    @property
    def ref(self) -> str:
        """Human identity, e.g. `Deployment/shop/web` (namespace omitted when absent)."""
        if self.identity:
            return self.identity
        parts = [self.kind, self.namespace, self.name] if self.namespace else [self.kind, self.name]
        return "/".join(parts)

    @property
    def labels(self) -> dict[str, Any]:
        meta = self.document.get("metadata")
        labels = meta.get("labels") if isinstance(meta, dict) else None
        return labels if isinstance(labels, dict) else {}

    def locate(self, path: FieldPath) -> Location:
        position = self.locator(path) if self.locator else Position(1, 1)
        return Location(self.path, position.line, position.column)

    def detach(self, labels: bool = True) -> None:
        """Drop the document and its source positions, keeping what later stages read:
        apiVersion, kind and the metadata in DETACHED_METADATA (and `labels`), the start
        position, and the stable paths already recorded. A resource evaluated in a worker
        process is detached before it is sent back; every location its findings need was
        resolved before that."""
        self.locator = StartOnly(self.locator(()) if self.locator else Position(1, 1))
        document = self.document
        # Kinds and versions repeat across thousands of objects: one string each.
        self.kind, self.api_version = _interned(self.kind), _interned(self.api_version)
        self.document = {key: _interned(document[key]) for key in ("apiVersion", "kind") if key in document}
        metadata = document.get("metadata")
        if isinstance(metadata, dict):
            kept = DETACHED_METADATA + ("labels",) if labels else DETACHED_METADATA
            self.document["metadata"] = {key: metadata[key] for key in kept if key in metadata}
        self.tf_links = None  # read by the inventory's entries, made before evaluation
        # Most resources have neither: one empty dict for all (nothing writes them once detached).
        if not self.metadata:
            self.metadata = _NOTHING
        if not self.stable_paths:
            self.stable_paths = _NOTHING


_NOTHING: dict[Any, Any] = {}


def _interned(value: Any) -> Any:
    return sys.intern(value) if type(value) is str else value


@dataclass(frozen=True, slots=True)
class StartOnly:
    """The locator of a detached resource: every path falls back to the object's start."""

    start: Position

    def __call__(self, path: FieldPath) -> Position:
        return self.start


class BaselineState(str, enum.Enum):
    NEW = "new"
    UNCHANGED = "unchanged"  # recorded in the baseline: reported, never blocking


@dataclass(frozen=True, slots=True)
class RelatedLocation:
    """Another object a cross-resource finding depends on (a role a binding grants, the
    Service an Ingress routes to): where it is, and what it is (its ref)."""

    location: Location
    text: str


@dataclass(frozen=True, slots=True)
class Violation:
    message: str
    field_path: FieldPath
    location: Location
    baseline: BaselineState | None = None  # set when a baseline is in use
    validation: int | None = field(default=None, compare=False)  # the index of the policy's failing validation
    related: tuple[RelatedLocation, ...] = ()  # see Validation.related_expression


class Status(str, enum.Enum):
    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"


@dataclass(slots=True)
class Result:
    """The outcome of one policy on one resource. (Slotted: a scan holds one per check, tens
    per resource.)"""

    policy: Any  # validator.engine.policy.Policy (kept loose to avoid an import cycle)
    resource: Resource
    status: Status
    violations: list[Violation] = field(default_factory=list)
    error: str | None = None
    # seconds spent evaluating, with an even share of the resource's batch evaluation
    duration: float = field(default=0.0, compare=False)
    suppression: Suppression | None = None  # set by the suppressions filter on a failure
    # validator.fix.preview.FindingFix of each violation, in order (None: not fixed), when
    # computed beside the document (see validator.pipeline.work.plan_fixes)
    fixes: tuple[Any, ...] | None = field(default=None, compare=False)
