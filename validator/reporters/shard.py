"""The shard report: a scan's whole report as JSON, from which `tdv merge` makes any other
format (see validator.pipeline.merge and docs/ci.md).

It holds every result (passes too: JUnit has a case for each), every input error and
warning, the planned fixes and what fingerprints need, and the metadata of the policies
evaluated, so that a merge needs nothing but the reports. It holds no resource's content:
of each resource only its identity (kind, name, namespace, `generateName`), its place, the
suppressions written next to it and the stable forms of the fields its findings blame.

Each class travels as the values of all its dataclass fields, in declaration order, behind
a header listing those fields as the writer knew them; a reader whose classes differ refuses
the report (as validator.pipeline.codec does between processes). Reading builds only the
declared classes, the model's enumerations and plain values: nothing in a report is run.

JSON shapes: an array is a list; every object is tagged: `{"@": class, "v": [fields]}`,
`{"t": [...]}` a tuple, `{"m": {...}}` a dict with text keys, `{"d": [[key, value], ...]}`
another dict, `{"fs": [...]}` a frozenset, `{"e": enum, "v": value}`, `{"r": n}` the n-th
resource, `{"p": n}` the n-th policy. A passing result with nothing else to say is the
array `[policy, resource, seconds]`.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from typing import Any, Callable

from validator import __version__, model
from validator.checks import Checks
from validator.engine.policy import Parameter, Policy, Targets
from validator.filters.baseline import Entry as BaselineEntry
from validator.fingerprint import stable_path
from validator.fix.preview import FindingFix
from validator.fix.textedit import Replacement
from validator.model import (
    ExpiredExemption,
    InputProblem,
    Location,
    Position,
    RelatedLocation,
    Resource,
    Result,
    ScanWarning,
    SkipRule,
    StartOnly,
    Status,
    Suppression,
    Violation,
)
from validator.report import BaselineUse, ScanReport, ShardOrigin

FORMAT = "tdv-shard-report"
FORMAT_VERSION = 1
CLASSES: tuple[type, ...] = (ScanReport, ShardOrigin, BaselineUse, BaselineEntry, Result, Violation, Location,
                             Position, Resource, StartOnly, SkipRule, Suppression, InputProblem, ScanWarning,
                             FindingFix, Replacement, RelatedLocation, Targets, Parameter, ExpiredExemption)
_BY_NAME = {cls.__name__: cls for cls in CLASSES}
# A policy's targets travel without the function compiled from them (not compared: derived).
_FIELDS = {cls.__name__: tuple(f.name for f in dataclasses.fields(cls) if f.compare or cls is not Targets)
           for cls in CLASSES}
_ENUMS = {name: value for name, value in vars(model).items()
          if isinstance(value, type) and issubclass(value, enum.Enum) and value.__module__ == model.__name__}
# What a report keeps of each policy: what reporters show of it.
POLICY_FIELDS = ("id", "title", "severity", "category", "description", "remediation", "standards", "partial",
                 "targets", "parameters", "help_uri", "tags", "language", "source", "builtin", "relations", "enabled")
# What a report keeps of a resource's document: what fingerprints and reporters read.
_KEPT_METADATA = ("name", "namespace", "generateName")


class ShardReportError(Exception):
    """A file that is not a shard report this tdv can read."""


def render(report: ScanReport, options: Any = None) -> str:
    writer = _Writer(report.policies)
    body = writer.value(report)
    return json.dumps({
        "format": FORMAT,
        "formatVersion": FORMAT_VERSION,
        "tdv": __version__,
        "classes": _FIELDS,
        "policies": [[writer.value(getattr(p, name)) for name in POLICY_FIELDS] for p in report.policies],
        "resources": writer.table(),
        "report": body,
    }, separators=(",", ":"), allow_nan=False) + "\n"


def read(text: str) -> ScanReport:
    """The report written by `render`. Raises ShardReportError."""
    try:
        data = json.loads(text)
    except ValueError as error:
        raise ShardReportError(f"not JSON: {error}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ShardReportError("not a tdv shard report (write one with `tdv scan -o shard=FILE`)")
    if data.get("formatVersion") != FORMAT_VERSION or data.get("tdv") != __version__:
        raise ShardReportError(f"written by tdv {data.get('tdv')} (shard report format {data.get('formatVersion')});"
                               f" this is tdv {__version__} (format {FORMAT_VERSION}): merge reports of one version")
    _check_classes(data.get("classes"))
    try:
        reader = _Reader(data["policies"], data["resources"])
        report = reader.value(data["report"])
    except ShardReportError:
        raise
    except (KeyError, IndexError, TypeError, ValueError) as error:
        raise ShardReportError(f"malformed shard report: {type(error).__name__}: {error}") from None
    if not isinstance(report, ScanReport):
        raise ShardReportError("malformed shard report: no scan report in it")
    return report


def _check_classes(sent: Any) -> None:
    if not isinstance(sent, dict):
        raise ShardReportError("malformed shard report: no field lists")
    for name, names in _FIELDS.items():
        if tuple(sent.get(name) or ()) != names:
            raise ShardReportError(f"its {name} fields ({', '.join(sent.get(name) or ())}) are not this tdv's"
                                   f" ({', '.join(names)})")
    if set(sent) - set(_FIELDS):
        raise ShardReportError(f"unknown class {sorted(set(sent) - set(_FIELDS))[0]} in it")


class _Writer:
    def __init__(self, policies: list):
        self.policies = {id(policy): index for index, policy in enumerate(policies)}
        self.seen: list[Resource] = []
        self.resource_index: dict[int, int] = {}
        self.failed_paths: dict[int, set] = {}

    def value(self, value: Any) -> Any:  # noqa: C901 - one branch per shape, in one place
        if isinstance(value, enum.Enum):  # before str and int: the model's enumerations are both
            return {"e": type(value).__name__, "v": value.value}
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, (list, Checks)):
            return [self.value(item) for item in value]
        if isinstance(value, tuple):
            return {"t": [self.value(item) for item in value]}
        if isinstance(value, frozenset):
            return {"fs": sorted((self.value(item) for item in value), key=repr)}
        if isinstance(value, dict):
            if all(isinstance(key, str) for key in value):
                return {"m": {key: self.value(item) for key, item in value.items()}}
            return {"d": [[self.value(key), self.value(item)] for key, item in value.items()]}
        if isinstance(value, Result):
            return self.result(value)
        if isinstance(value, Resource):
            return {"r": self.resource(value)}
        if isinstance(value, Policy):
            return {"p": self.policies[id(value)]}
        name = type(value).__name__
        if name in _BY_NAME and dataclasses.is_dataclass(value):
            return {"@": name, "v": [self.value(getattr(value, field)) for field in _FIELDS[name]]}
        raise TypeError(f"a shard report cannot hold a {type(value).__name__}")

    def result(self, result: Result) -> Any:
        if result.status is Status.FAIL:
            paths = self.failed_paths.setdefault(id(result.resource), set())
            paths.update(violation.field_path for violation in result.violations)
        resource = self.resource(result.resource)
        if (result.status is Status.PASS and not result.violations and result.error is None
                and result.suppression is None and not result.fixes):
            return [self.policies[id(result.policy)], resource, result.duration]
        return {"@": "Result", "v": [self.value(getattr(result, name)) for name in _FIELDS["Result"]]}

    def resource(self, resource: Resource) -> int:
        """Its index in the table (written by `table` once every result is known, so that the
        paths its findings blame are)."""
        index = self.resource_index.get(id(resource))
        if index is None:
            index = self.resource_index[id(resource)] = len(self.seen)
            self.seen.append(resource)
        return index

    def table(self) -> list[Any]:
        return [self.value_of_resource(resource) for resource in self.seen]

    def value_of_resource(self, resource: Resource) -> Any:
        stable = dict(resource.stable_paths)
        for path in self.failed_paths.get(id(resource), ()):
            if path not in stable:
                stable[path] = stable_path(resource.document, path)
        start = resource.locator(()) if resource.locator else Position(1, 1)
        shown = dataclasses.replace(resource, document=_identity(resource.document), locator=StartOnly(start),
                                    tf_links=None, stable_paths=stable)
        return {"@": "Resource", "v": [self.value(getattr(shown, n)) if n != "document" else self.value(shown.document)
                                       for n in _FIELDS["Resource"]]}


def _identity(document: Any) -> dict[str, Any]:
    if not isinstance(document, dict):
        return {}
    kept: dict[str, Any] = {key: document[key] for key in ("apiVersion", "kind") if key in document}
    metadata = document.get("metadata")
    if isinstance(metadata, dict):
        kept["metadata"] = {key: metadata[key] for key in _KEPT_METADATA if key in metadata}
    return kept


class _Reader:
    def __init__(self, policies: list, resources: list):
        self.policies = [self.policy(entry) for entry in policies]
        self.resources: list[Resource] = []
        for entry in resources:
            resource = self.value(entry)
            if not isinstance(resource, Resource):
                raise ShardReportError("malformed shard report: a resource is not one")
            self.resources.append(resource)

    def policy(self, values: list) -> Policy:
        if not isinstance(values, list) or len(values) != len(POLICY_FIELDS):
            raise ShardReportError("malformed shard report: a policy's fields")
        fields = {name: self.value(value) for name, value in zip(POLICY_FIELDS, values)}
        return Policy(**fields, validations=())

    def value(self, value: Any) -> Any:  # noqa: C901 - one branch per shape, in one place
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, list):
            return [self.value(item) for item in value]
        if not isinstance(value, dict) or len(value) not in (1, 2):
            raise ShardReportError(f"malformed shard report: {str(value)[:60]}")
        tag = next(iter(value))
        if tag == "@":
            return self.instance(value["@"], value["v"])
        reader = self._TAGS.get(tag)
        if reader is None:
            raise ShardReportError(f"malformed shard report: unknown tag {tag!r}")
        return reader(self, value[tag], value)

    def instance(self, name: str, values: list) -> Any:
        cls = _BY_NAME.get(name)
        if cls is None or not isinstance(values, list) or len(values) != len(_FIELDS[name]):
            raise ShardReportError(f"malformed shard report: {name!r} with {len(values)} fields")
        if cls is ScanReport:
            return self.scan_report(values)
        return cls(**{name: self.value(item) for name, item in zip(_FIELDS[name], values)})

    def scan_report(self, values: list) -> ScanReport:
        fields: dict[str, Any] = {name: self.value(value) for name, value in zip(_FIELDS["ScanReport"], values)
                                  if name != "results"}
        results = values[_FIELDS["ScanReport"].index("results")]
        if not isinstance(results, list):
            raise ShardReportError("malformed shard report: its results")
        fields["results"] = [self.passing(item) if isinstance(item, list) else self.value(item) for item in results]
        return ScanReport(**fields)

    def passing(self, item: list) -> Result:
        policy, resource, seconds = item
        return Result(self.policies[policy], self.resources[resource], Status.PASS, duration=float(seconds))

    def enum(self, name: Any, tagged: dict) -> Any:
        cls = _ENUMS.get(name)
        if cls is None:
            raise ShardReportError(f"malformed shard report: unknown enumeration {name!r}")
        return cls(tagged["v"])

    _TAGS: dict[str, Callable[..., Any]] = {
        "t": lambda self, items, _: tuple(self.value(item) for item in items),
        "m": lambda self, items, _: {key: self.value(item) for key, item in items.items()},
        "d": lambda self, pairs, _: {self.value(key): self.value(item) for key, item in pairs},
        "fs": lambda self, items, _: frozenset(self.value(item) for item in items),
        "e": enum,
        "r": lambda self, index, _: self.resources[index],
        "p": lambda self, index, _: self.policies[index],
    }
