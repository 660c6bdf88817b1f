"""Gatekeeper manifests of a policy directory as tdv policies: each Constraint, with the
ConstraintTemplate of its kind, becomes one Rego policy.

A Constraint's id is its kind and name (`K8SREQUIREDLABELS-MUST-HAVE-OWNER`). Its
`enforcementAction` decides whether a finding fails the build: `deny` (the default) gives
the severity of the `tdv.dev/severity` annotation (constraint, then template) or high;
`warn` and `dryrun` give info, which no `--fail-on` level fails on.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any, Iterable

from validator.engine.policy import CATEGORIES, Parameter, PolicyError, Targets, Validation, check_parameter_type
from validator.gatekeeper import ADMISSION_TARGET, CONSTRAINT_GROUP, TEMPLATE_GROUP, TEMPLATE_KIND
from validator.gatekeeper.cel import CelSource, cel_source, validations
from validator.gatekeeper.match import Match
from validator.inventory.gatekeeper import EVERY_KIND, RELATION, sync
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
from validator.sources.kubernetes import is_kubernetes_object
from validator.sources.yaml_loader import YamlDocument, YamlError
from validator.vap import CATEGORY_ANNOTATION, SEVERITY_ANNOTATION, TITLE_ANNOTATION

log = logging.getLogger(__name__)

_PACKAGE = re.compile(r"^[ \t]*package[ \t]+([A-Za-z_][A-Za-z0-9_.]*)", re.MULTILINE)
_ACTIONS = {"deny": None, "warn": Severity.INFO, "dryrun": Severity.INFO}
GATEKEEPER_TITLE = "metadata.gatekeeper.sh/title"
SYNC_ANNOTATION = "metadata.gatekeeper.sh/requires-sync-data"


@dataclass(frozen=True)
class _Template:
    kind: str
    modules: tuple[tuple[str, str], ...]
    package: str
    source: ManifestObject
    synced: frozenset[tuple[str, str]] = frozenset()  # (API group, kind) it reads in data.inventory
    validations: tuple[Validation, ...] = ()  # K8sNativeValidation (CEL) code, when it has no Rego


def is_gatekeeper(data: dict[str, Any]) -> bool:
    api_version = str(data.get("apiVersion") or "")
    return api_version.startswith(CONSTRAINT_GROUP) or (
        api_version.startswith(TEMPLATE_GROUP) and data.get("kind") == TEMPLATE_KIND)


def policies_from_manifests(
        files: Iterable[tuple[str, list[YamlDocument | YamlError]]]) -> list[RegoPolicy | PolicyError]:
    """The policies of one directory's Gatekeeper objects (other objects are left to the
    ValidatingAdmissionPolicy importer), and an error for each bad one."""
    objects = [item for display, documents in files for document in documents
               if isinstance(document, YamlDocument) for item in _objects(document, display)]
    if not objects:
        return []
    if not available():
        return [ImportedPolicyError(objects[0].display, INSTALL_HINT)]
    results: list[RegoPolicy | PolicyError] = []
    templates = _templates(objects, results)
    for item in objects:
        if item.data.get("kind") == TEMPLATE_KIND:
            continue
        kind = str(item.data["kind"])
        if kind not in templates:
            results.append(item.error((), f"no ConstraintTemplate for kind {kind} in the policy directory"))
        elif (found := templates[kind]) is not None:
            try:
                results.append(_policy(found, item))
            except PolicyError as error:
                results.append(error)
    return results


def _templates(objects: list[ManifestObject], errors: list[RegoPolicy | PolicyError]) -> dict[str, _Template | None]:
    """The ConstraintTemplates by the kind they define (None for one in error, added to `errors`)."""
    templates: dict[str, _Template | None] = {}
    for item in objects:
        if item.data.get("kind") == TEMPLATE_KIND:
            try:
                template = _template(item)
                templates[template.kind] = template
            except PolicyError as error:
                errors.append(error)
                templates.setdefault(_kind_name(item), None)  # its constraints are not orphans
    return templates


def _objects(document: YamlDocument, display: str) -> list[ManifestObject]:
    data = document.data
    if not is_kubernetes_object(data):
        return []
    if data["kind"].endswith("List") and isinstance(data.get("items"), list):
        return [ManifestObject(item, document, ("items", index), display) for index, item in enumerate(data["items"])
                if is_kubernetes_object(item) and is_gatekeeper(item)]
    return [ManifestObject(data, document, (), display)] if is_gatekeeper(data) else []


def _kind_name(item: ManifestObject) -> str:
    try:
        return str(item.data["spec"]["crd"]["spec"]["names"]["kind"])
    except (KeyError, TypeError):
        return ""


def _rego_source(target: dict[str, Any], path: FieldPath) -> tuple[Any, Any, FieldPath]:
    """The Rego and libs of an admission target, from its `code` list (the last Rego entry)
    or its own fields, and the path of the mapping that holds them."""
    rego, libs = target.get("rego"), target.get("libs") or []
    where = path
    for number, code in enumerate(target.get("code") or []):
        if isinstance(code, dict) and code.get("engine") == "Rego" and isinstance(code.get("source"), dict):
            rego = code["source"].get("rego", rego)
            libs = code["source"].get("libs", libs)
            where = path + ("code", number, "source")
    return rego, libs, where


def _template(item: ManifestObject) -> _Template:
    kind = _kind_name(item)
    if not kind:
        raise item.error(("spec",), "a ConstraintTemplate needs spec.crd.spec.names.kind")
    targets = _sequence(item, item.data["spec"].get("targets"), ("spec", "targets"))
    for index, target in enumerate(targets):
        target = _mapping(item, target, ("spec", "targets", index))
        if target.get("target") != ADMISSION_TARGET:
            continue
        rego, libs, path = _rego_source(target, ("spec", "targets", index))
        if not isinstance(rego, str) or not rego.strip():
            cel = cel_source(target, ("spec", "targets", index))
            if cel is None:
                raise item.error(path, f"template {kind}: no Rego nor K8sNativeValidation code for the admission"
                                       " target")
            return _cel_template(item, kind, cel)
        libs = _sequence(item, libs, path + ("libs",))
        if not all(isinstance(lib, str) for lib in libs):
            raise item.error(path + ("libs",), "libs must be a list of Rego texts")
        package = _PACKAGE.search(rego)
        if package is None:
            raise item.error(path + ("rego",), f"template {kind}: the Rego has no package declaration")
        texts = (rego, *libs)
        synced = _synced(item, kind) if any("data.inventory" in text for text in texts) else frozenset()
        modules = ((f"{item.name or kind}.rego", rego),
                   *((f"{item.name or kind}-lib{n}.rego", lib) for n, lib in enumerate(libs)))
        for number, (name, text) in enumerate(modules):
            problem = compile_problem(name, text)
            if problem:
                where = path + (("rego",) if number == 0 else ("libs", number - 1))
                raise item.error(where, f"template {kind}: Rego does not compile: {problem}")
        return _Template(kind, modules, package.group(1), item, synced)
    raise item.error(("spec", "targets"), f"template {kind} has no target {ADMISSION_TARGET}")


def _cel_template(item: ManifestObject, kind: str, cel: CelSource) -> _Template:
    def fail(path: FieldPath, message: str) -> PolicyError:
        return item.error(path, f"template {kind}: {message}")
    found = validations(cel, fail, lambda path: item.document.locate(item.prefix + path).line)
    return _Template(kind, (), "", item, validations=found)


def _synced(item: ManifestObject, kind: str) -> frozenset[tuple[str, str]]:
    """The kinds a referential template reads, from its requires-sync-data annotation (a JSON
    list of lists of {groups, versions, kinds} clauses, written inside quotes); every kind
    without one."""
    text = item.annotations.get(SYNC_ANNOTATION)
    if text is None:
        log.warning("%s: template %s reads data.inventory without a %s annotation: the objects of every kind"
                    " are kept for it", item.display, kind, SYNC_ANNOTATION)
        return frozenset({EVERY_KIND})
    where = ("metadata", "annotations", SYNC_ANNOTATION)
    try:
        requirements = json.loads(str(text).strip('\n" '))
        pairs = {(str(group), str(name)) for requirement in requirements for clause in requirement
                 for group in clause.get("groups") or [] for name in clause.get("kinds") or []}
    except (ValueError, TypeError, AttributeError) as error:
        raise item.error(where, f"template {kind}: {SYNC_ANNOTATION} is not a JSON list of lists of"
                                f" {{groups, versions, kinds}}: {error}") from None
    return frozenset(pairs)


def _policy(template: _Template, constraint: ManifestObject) -> RegoPolicy:
    if not constraint.name:
        raise constraint.error(("metadata",), "a Constraint needs metadata.name")
    spec = _mapping(constraint, constraint.data.get("spec") or {}, ("spec",))
    action = str(spec.get("enforcementAction") or "deny")
    if action == "scoped":
        actions = [str(a.get("action")) for a in spec.get("scopedEnforcementActions") or [] if isinstance(a, dict)]
        action = "deny" if "deny" in actions else "warn"
    if action not in _ACTIONS:
        raise constraint.error(("spec", "enforcementAction"),
                               f"enforcementAction {action!r} is not one of: {', '.join(_ACTIONS)}, scoped")
    annotations = {**template.source.annotations, **constraint.annotations}
    try:
        fixed = _ACTIONS[action]
        severity = fixed if fixed is not None else Severity.parse(str(annotations.get(SEVERITY_ANNOTATION, "high")))
    except ValueError as error:
        raise constraint.error(("metadata", "annotations", SEVERITY_ANNOTATION), str(error)) from None
    category = str(annotations.get(CATEGORY_ANNOTATION, ""))
    parameters = _mapping(constraint, spec.get("parameters") or {}, ("spec", "parameters"))
    match, targets = _match(constraint, spec.get("match") or {})
    synced = set(template.synced) | ({("", "Namespace")} if match.namespace_selector is not None else set())
    sync(synced)  # their objects are kept whole in the scan's inventory
    description = str(template.source.annotations.get("description") or "").strip()
    title = annotations.get(TITLE_ANNOTATION) or template.source.annotations.get(GATEKEEPER_TITLE) or template.kind
    return RegoPolicy(
        id=re.sub(r"[^A-Z0-9]+", "-", f"{template.kind}-{constraint.name}".upper()).strip("-"),
        title=f"{title} ({constraint.name})",
        severity=severity,
        category=category if category in CATEGORIES else "best-practice",
        description=description or f"The Gatekeeper constraint {template.kind} `{constraint.name}`, evaluated"
                                   " offline.",
        remediation=f"Change the resource so that the Gatekeeper constraint {template.kind} `{constraint.name}`"
                    " no longer reports it (its message says what to change).",
        standards={},
        targets=targets,
        tags=("gatekeeper", f"enforcement-action:{action}"),
        language="rego",
        source=constraint.display,
        modules=template.modules,
        rules=(RegoRule(f"data.{template.package}.violation"),) if template.modules else (),
        validations=template.validations,
        style=GATEKEEPER,
        rego_parameters=parameters,
        parameters=_declared(parameters),
        relations=(RELATION,) if synced else (),
    )


def _declared(parameters: dict[str, Any]) -> tuple[Parameter, ...]:
    """The constraint's parameters as tdv parameters (type from the value), so that a config
    file may override them by policy id like any policy's."""
    declared = []
    for name, value in parameters.items():
        kind = next((k for k in ("boolean", "integer", "number", "string", "list", "map")
                     if check_parameter_type(k, value)), None)
        if kind is not None:
            declared.append(Parameter(str(name), kind, value, "from the Constraint's spec.parameters"))
    return tuple(declared)


def _match(owner: ManifestObject, value: Any) -> tuple[Match, Targets]:
    path: FieldPath = ("spec", "match")
    match = _mapping(owner, value, path)
    pairs = []
    for index, entry in enumerate(_sequence(owner, match.get("kinds") or [], path + ("kinds",))):
        entry = _mapping(owner, entry, path + ("kinds", index))
        groups = _strings(owner, entry, path + ("kinds", index), "apiGroups") or ["*"]
        kinds = _strings(owner, entry, path + ("kinds", index), "kinds") or ["*"]
        pairs.append((tuple(groups), tuple(kinds)))
    selector = _mapping(owner, match.get("labelSelector") or {}, path + ("labelSelector",))
    namespaces = match.get("namespaceSelector")
    namespaces = None if namespaces is None else _mapping(owner, namespaces, path + ("namespaceSelector",))
    scope = str(match.get("scope") or "*")
    if scope not in ("*", "Cluster", "Namespaced"):
        raise owner.error(path + ("scope",), f"scope {scope!r} is not one of: *, Cluster, Namespaced")
    name = match.get("name")
    result = Match(
        kinds=tuple(pairs),
        namespaces=tuple(_strings(owner, match, path, "namespaces")),
        excluded_namespaces=tuple(_strings(owner, match, path, "excludedNamespaces")),
        label_selector=tuple(sorted(selector.items())),
        name=str(name) if name else None,
        scope=scope,
        namespace_selector=namespaces,
    )
    kinds = sorted({kind for _, kinds in pairs for kind in kinds}) if pairs else ["*"]
    return result, Targets(kinds=("*",) if "*" in kinds else tuple(kinds), applies=result)






