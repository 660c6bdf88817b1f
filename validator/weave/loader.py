"""Weave and Magalix `Policy` objects of a policy directory as tdv policies.

Each Policy becomes one Rego policy, evaluated as the Weave policy agent evaluates it: the
`violation` rule of its `spec.code`, with `input.review` (the admission review of the
object's creation) and `input.parameters` (each parameter's `value`, the default a
configuration file may override). Its id is `spec.id` upper-cased with dashes
(`weave.policies.container-running-as-root` gives `WEAVE-POLICIES-CONTAINER-RUNNING-AS-ROOT`).

`targets` (kinds, namespaces, labels) and `exclude` (namespaces, `namespace/name` resources,
labels) are matched as the agent matches them: exact names, and a label value `*` for any
value. A finding is located at its `violating_key`; one written for a Deployment's pod
template (`spec.template.spec.containers[0]`) is moved to the pod template of a CronJob or
the spec of a Pod, where the library's policies mean it.

Manifests in a `tests/` directory beside a Policy's file are its fixtures, read as the
library's own runner (polctl's test_policies) reads them: the first document of each file
must give no violation with the default parameters, and a directory that also holds `.rego`
files (OPA unit tests, which `tdv test` runs on their own) has no manifest cases.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass
from typing import Any, Iterable

from validator.engine.policy import CATEGORIES, Parameter, PolicyError, PolicyTest, Targets
from validator.gatekeeper.match import is_kubernetes
from validator.model import FieldPath, Severity
from validator.object_fields import mapping as _mapping, sequence as _sequence, strings as _strings
from validator.rego import (
    GATEKEEPER,
    INSTALL_HINT,
    ImportedPolicyError,
    ManifestObject,
    RegoPolicy,
    RegoRule,
    available,
)
from validator.rego.evaluator import compile_problem
from validator.rego.unit import with_deprecated_builtins
from validator.sources.kubernetes import is_kubernetes_object
from validator.sources.yaml_loader import YamlDocument, YamlError
from validator.weave import is_weave_policy

_PACKAGE = re.compile(r"^[ \t]*package[ \t]+([A-Za-z_][A-Za-z0-9_.]*)", re.MULTILINE)
_VIOLATION = re.compile(r"^[ \t]*violation\b", re.MULTILINE)
# The agent's parameter types, as tdv parameter types.
_TYPES = {"string": "string", "integer": "integer", "number": "number", "boolean": "boolean", "bool": "boolean",
          "array": "list", "list": "list", "object": "map", "map": "map"}
# Weave's categories (weave.categories.NAME), as tdv's.
_CATEGORIES = {
    "pod-security": "pod-security", "access-control": "rbac", "network-security": "network",
    "reliability": "resilience", "capacity-management": "resilience", "software-supply-chain": "supply-chain",
    "data-protection": "data-protection", "observability": "logging",
}
_SEVERITIES = {"low": Severity.LOW, "medium": Severity.MEDIUM, "high": Severity.HIGH, "critical": Severity.CRITICAL}
_HOW_TO_SOLVE = ("how_to_solve", "howToSolve", "howtosolve")
# The library writes a violating_key for a Deployment's pod template (`spec.template.spec...`)
# whatever the kind; on a CronJob or a Pod the findings are located at the field it means.
LOCATIONS_PACKAGE = "tdv_internal.weave_locations"
_LOCATIONS = """package %(package)s

violation[finding] {
  item := data.%(policy)s.violation[_]
  finding := located(item)
}

located(item) = out {
  startswith(item.violating_key, "spec.template.")
  key := concat("", [pod_template, trim_prefix(item.violating_key, "spec.template.")])
  out := object.union(item, {"violating_key": key})
} else = item

pod_template = "spec.jobTemplate.spec.template." {
  input.review.object.kind == "CronJob"
}

pod_template = "" {
  input.review.object.kind == "Pod"
}
"""
FIXTURE_DIRS = ("tests", "test")


@dataclass(frozen=True)
class _Object(ManifestObject):
    @property
    def spec(self) -> dict[str, Any]:
        spec = self.data.get("spec")
        if not isinstance(spec, dict):
            raise self.error(("spec",), "a Policy needs a spec mapping")
        return spec


def policies_from_manifests(
        files: Iterable[tuple[str, list[YamlDocument | YamlError]]]) -> list[RegoPolicy | PolicyError]:
    """The policies of one directory's Weave Policy objects, and an error for each bad one.
    Other objects are left to the other importers, and are the fixtures of the Policies
    whose `tests/` directory holds them."""
    files = list(files)
    found = [_Object(data, document, prefix, display) for display, documents in files for document in documents
             if isinstance(document, YamlDocument) for data, prefix in _items(document.data) if is_weave_policy(data)]
    if not found:
        return []
    if not available():
        return [ImportedPolicyError(found[0].display, INSTALL_HINT)]
    fixtures = _fixtures(files)
    results: list[RegoPolicy | PolicyError] = []
    for item in found:
        try:
            results.append(_policy(item, fixtures.get(_policy_dir(item.display), [])))
        except PolicyError as error:
            results.append(error)
    return results


def _items(data: Any) -> list[tuple[dict[str, Any], FieldPath]]:
    if not is_kubernetes_object(data):
        return []
    if str(data["kind"]).endswith("List") and isinstance(data.get("items"), list):
        return [(item, ("items", index)) for index, item in enumerate(data["items"]) if is_kubernetes_object(item)]
    return [(data, ())]


def _policy_dir(display: str) -> str:
    return posixpath.dirname(display.replace("\\", "/"))


def _fixtures(files: list[tuple[str, list[YamlDocument | YamlError]]]) -> dict[str, list[tuple[str, dict]]]:
    """The objects of the files in a `tests/` directory, by the directory above it: (case
    name, object)."""
    fixtures: dict[str, list[tuple[str, dict]]] = {}
    for display, documents in sorted(files, key=lambda entry: entry[0]):
        directory = _policy_dir(display)
        if posixpath.basename(directory) not in FIXTURE_DIRS or _has_rego(directory):
            continue
        first = next((document for document in documents if isinstance(document, YamlDocument)), None)
        if first is not None and is_kubernetes_object(first.data) and not is_weave_policy(first.data):
            name = posixpath.basename(display.replace("\\", "/"))
            fixtures.setdefault(posixpath.dirname(directory), []).append((name, first.data))
    return fixtures


def _has_rego(directory: str) -> bool:
    """Whether a fixture directory also holds Rego tests: polctl then reads none of its
    manifests (a file that does not parse as YAML makes it skip the whole directory)."""
    try:
        return any(name.endswith(".rego") for name in os.listdir(directory))
    except OSError:
        return False


def _text(item: _Object, spec: dict[str, Any], key: str) -> str:
    value = spec.get(key)
    if value is None:
        return ""
    if not isinstance(value, (str, int, float)):
        raise item.error(("spec", key), f"spec.{key} must be a string")
    return str(value).strip()


def _policy(item: _Object, fixtures: list[tuple[str, dict]]) -> RegoPolicy:
    spec = item.spec
    metadata = item.data.get("metadata")
    ident = _text(item, spec, "id") or str((metadata if isinstance(metadata, dict) else {}).get("name") or "")
    if not ident:
        raise item.error(("spec",), "a Policy needs spec.id (or metadata.name)")
    code = spec.get("code")
    if not isinstance(code, str) or not code.strip():
        raise item.error(("spec", "code"), f"policy {ident}: spec.code must hold the Rego")
    code = with_deprecated_builtins(code)
    if str(spec.get("provider") or "kubernetes") != "kubernetes":
        raise item.error(("spec", "provider"), f"policy {ident}: provider {spec['provider']!r} is not supported"
                                               " (tdv runs Weave policies on Kubernetes objects)")
    package = _PACKAGE.search(code)
    if package is None:
        raise item.error(("spec", "code"), f"policy {ident}: the Rego has no package declaration")
    if not _VIOLATION.search(code):
        raise item.error(("spec", "code"), f"policy {ident}: the Rego has no violation rule")
    problem = compile_problem(f"{ident}.rego", code)
    if problem:
        raise item.error(("spec", "code"), f"policy {ident}: Rego does not compile: {problem}")
    values, declared = _parameters(item, spec.get("parameters") or [])
    severity_text = _text(item, spec, "severity").lower() or "medium"
    if severity_text not in _SEVERITIES:
        raise item.error(("spec", "severity"), f"policy {ident}: severity {severity_text!r} is not one of:"
                                               f" {', '.join(_SEVERITIES)}")
    category = _text(item, spec, "category").rpartition(".")[2]
    tags = [str(tag) for tag in spec.get("tags") or [] if isinstance(tag, (str, int))]
    remediation = next((_text(item, spec, key) for key in _HOW_TO_SOLVE if spec.get(key)), "")
    title = _text(item, spec, "name") or ident
    return RegoPolicy(
        id=re.sub(r"[^A-Z0-9]+", "-", ident.upper()).strip("-"),
        title=title,
        severity=_SEVERITIES[severity_text],
        category=_CATEGORIES.get(category, "best-practice"),
        description=_text(item, spec, "description") or f"The Weave policy {ident}, evaluated offline.",
        remediation=remediation or f"Change the resource so that the Weave policy {ident} no longer reports it"
                                   " (its message says what to change).",
        standards=_standards(item, spec),
        targets=_targets(item, spec),
        validations=(),
        tests=tuple(PolicyTest(name, "pass", data) for name, data in fixtures),
        tags=("weave", *([f"weave-category:{category}"] if category and category not in CATEGORIES else []), *tags),
        language="rego",
        source=item.display,
        enabled=_enabled(item, spec),
        modules=((f"{ident}.rego", code),
                 ("tdv-weave-locations.rego", _LOCATIONS % {"package": LOCATIONS_PACKAGE, "policy": package.group(1)})),
        rules=(RegoRule(f"data.{LOCATIONS_PACKAGE}.violation"),),
        style=GATEKEEPER,
        rego_parameters=values,
        parameters=declared,
    )


def _enabled(item: _Object, spec: dict[str, Any]) -> bool:
    """`enabled` (v2), or the string `enable` of v1 objects; enabled when neither is given."""
    value = spec.get("enabled", spec.get("enable", True))
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if not isinstance(value, bool):
        raise item.error(("spec", "enabled"), "spec.enabled must be true or false")
    return value


def _parameters(item: _Object, value: Any) -> tuple[dict[str, Any], tuple[Parameter, ...]]:
    """The parameters' values (`input.parameters`), and their declarations for configuration
    overrides (a parameter of an unknown type is passed on but cannot be overridden)."""
    values: dict[str, Any] = {}
    declared = []
    for index, entry in enumerate(_sequence(item, value, ("spec", "parameters"))):
        entry = _mapping(item, entry, ("spec", "parameters", index))
        name = entry.get("name")
        if not isinstance(name, str) or not name:
            raise item.error(("spec", "parameters", index), "a parameter needs a name")
        values[name] = entry.get("value")
        kind = _TYPES.get(str(entry.get("type") or "").lower())
        if kind is not None:
            declared.append(Parameter(name, kind, entry.get("value"), "from the Policy's spec.parameters"))
    return values, tuple(declared)


def _standards(item: _Object, spec: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """`standards: [{id: weave.standards.pci-dss, controls: [weave.controls.pci-dss.2.2.4]}]`
    as `{weave.standards.pci-dss: (2.2.4,)}` (the standard keeps Weave's id: its control
    numbers are Weave's, not those of tdv's catalogue of the same benchmark); v1's bare
    `controls` list under the standard `weave`."""
    standards: dict[str, tuple[str, ...]] = {}
    for index, entry in enumerate(_sequence(item, spec.get("standards") or [], ("spec", "standards"))):
        entry = _mapping(item, entry, ("spec", "standards", index))
        name = str(entry.get("id") or "")
        controls = _strings(item, entry, ("spec", "standards", index), "controls")
        if name:
            prefix = f"weave.controls.{name.removeprefix('weave.standards.')}."
            standards[name] = tuple(control.removeprefix(prefix) for control in controls)
    bare = _strings(item, spec, ("spec",), "controls")
    if bare:
        standards["weave"] = tuple(bare)
    return standards


@dataclass(frozen=True)
class Match:
    """A Policy's `targets` and `exclude`, as the Weave agent applies them."""

    kinds: tuple[str, ...] = ()
    namespaces: tuple[str, ...] = ()
    labels: tuple[tuple[tuple[str, str], ...], ...] = ()  # any one of these label sets
    excluded_namespaces: tuple[str, ...] = ()
    excluded_resources: tuple[str, ...] = ()  # namespace/name
    excluded_labels: tuple[tuple[str, str], ...] = ()

    def __call__(self, resource: Any) -> bool:
        if not is_kubernetes(resource):
            return False
        if self.kinds and resource.kind not in self.kinds:
            return False
        namespace = resource.namespace or ""
        if self.namespaces and namespace not in self.namespaces:
            return False
        labels = resource.labels
        if self.labels and not any(_has_label(labels, key, value) for group in self.labels for key, value in group):
            return False
        if namespace in self.excluded_namespaces or f"{namespace}/{resource.name}" in self.excluded_resources:
            return False
        return not any(_has_label(labels, key, value) for key, value in self.excluded_labels)


def _has_label(labels: dict[str, Any], key: str, value: str) -> bool:
    return key in labels and (value == "*" or str(labels[key]) == value)


def _label_pairs(item: _Object, value: Any, path: FieldPath) -> tuple[tuple[str, str], ...]:
    return tuple((str(key), str(label)) for key, label in _mapping(item, value, path).items())


def _targets(item: _Object, spec: dict[str, Any]) -> Targets:
    targets = _mapping(item, spec.get("targets") or {}, ("spec", "targets"))
    exclude = _mapping(item, spec.get("exclude") or {}, ("spec", "exclude"))
    kinds = tuple(_strings(item, targets, ("spec", "targets"), "kinds"))
    labels = _sequence(item, targets.get("labels") or [], ("spec", "targets", "labels"))
    match = Match(
        kinds=kinds,
        namespaces=tuple(_strings(item, targets, ("spec", "targets"), "namespaces")),
        labels=tuple(_label_pairs(item, group, ("spec", "targets", "labels", n)) for n, group in enumerate(labels)),
        excluded_namespaces=tuple(_strings(item, exclude, ("spec", "exclude"), "namespaces")),
        excluded_resources=tuple(_strings(item, exclude, ("spec", "exclude"), "resources")),
        excluded_labels=_label_pairs(item, exclude.get("labels") or {}, ("spec", "exclude", "labels")),
    )
    return Targets(kinds=kinds or ("*",), applies=match)
