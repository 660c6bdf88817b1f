"""The policy file format: one YAML file per policy, holding its docs, checks and tests.

See docs/policy-format.md for the full reference. Loading validates the file and reports
each problem with the file, line and key so that policy authors can fix it quickly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from validator.document_reader import DocumentReader
from validator.engine.fix_spec import FixStep, parse_fix
from validator.model import FieldPath, Severity, parse_path
from validator.sources.yaml_loader import YamlDocument, YamlError, load_documents

CATEGORIES = (
    "pod-security", "rbac", "network", "resilience", "supply-chain", "best-practice",
    "data-protection", "logging", "identity",
)
PARAMETER_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str, "integer": int, "number": (int, float), "boolean": bool, "list": list, "map": dict}
_ID = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$")

POD_BEARING = {
    "Pod": "",
    "Deployment": "apps",
    "StatefulSet": "apps",
    "DaemonSet": "apps",
    "ReplicaSet": "apps",
    "ReplicationController": "",
    "Job": "batch",
    "CronJob": "batch",
    "DeploymentConfig": "apps.openshift.io",  # OpenShift
    "Rollout": "argoproj.io",  # Argo Rollouts (one with a workloadRef has no template of its own)
}
POD_BEARING_ALIAS = "@pod-bearing"

_TOP_KEYS = {
    "id": True, "title": True, "severity": True, "category": True, "description": True,
    "remediation": True, "standards": False, "partial": False, "targets": True, "validations": True,
    "parameters": False, "tests": False, "helpUri": False, "tags": False, "language": False,
    "relations": False, "enabled": False,
}
_VALIDATION_KEYS = {"expression", "message", "messageExpression", "forEach", "as", "field", "reads", "fix",
                    "relatedExpression"}
_TARGET_KEYS = {"kinds", "apiGroups", "namespaces", "labelSelector"}
_TEST_KEYS = {"name", "expect", "object", "objects", "subject", "tf", "plan", "field", "count", "parameters"}
FIXTURE_FORMS = ("object", "objects", "tf", "plan")  # a test case holds exactly one
# `related.NAME` in an expression: a policy reads only the relations it declares.
_RELATED_READ = re.compile(r"\brelated\s*\.\s*\??([A-Za-z_][A-Za-z0-9_]*)")
_PLAN_FIXTURE_KEYS = {"type": True, "after": True, "address": False, "actions": False,
                      "after_unknown": False, "after_sensitive": False, "references": False}


class PolicyError(Exception):
    """A policy file that does not follow the format."""

    def __init__(self, path: str, message: str, line: int | None = None):
        super().__init__(f"{path}:{line}: {message}" if line else f"{path}: {message}")
        self.path, self.message, self.line = path, message, line


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    default: Any
    description: str


@dataclass(frozen=True)
class Validation:
    expression: str
    message: str
    message_expression: str | None = None
    for_each: str | None = None
    variable: str | None = None
    field_path: FieldPath = ()
    line: int | None = None  # where the expression is written, for compile errors
    # Other fields the expression reads: a finding is dropped when one of them is unknown.
    reads: tuple[FieldPath, ...] = ()
    fix: tuple[FixStep, ...] = ()  # how `tdv fix` makes a failing item comply (see validator.fix)
    # CEL giving the related items (see validator.inventory) a finding names as related locations
    related_expression: str | None = None


@dataclass(frozen=True)
class Targets:
    kinds: tuple[str, ...]
    api_groups: tuple[str, ...] | None = None  # None: any group
    namespaces_include: tuple[str, ...] = ()
    namespaces_exclude: tuple[str, ...] = ()
    label_selector: dict[str, Any] = field(default_factory=dict)
    pod_bearing: bool = False  # `@pod-bearing`: also the custom kinds configured with pod templates
    # A further test on the resource (e.g. a Gatekeeper Constraint's match: names, scope,
    # namespace globs), for policies imported from other formats.
    applies: Callable[[Any], bool] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class PolicyTest:
    name: str
    expect: str  # "pass" or "fail"
    object: dict[str, Any] | None  # a Kubernetes object (None for the Terraform forms)
    field_path: FieldPath | None = None
    count: int | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    tf: str | None = None  # Terraform: `.tf` text
    # Terraform: one planned resource (see _PLAN_FIXTURE_KEYS), or a list of them
    plan: dict[str, Any] | list[dict[str, Any]] | None = None
    # Kubernetes, cross-resource: several objects, evaluated with an inventory of them all;
    # the policy runs on objects[subject].
    objects: tuple[dict[str, Any], ...] = ()
    subject: int = 0


@dataclass(frozen=True)
class Policy:
    id: str
    title: str
    severity: Severity
    category: str
    description: str
    remediation: str
    standards: dict[str, tuple[str, ...]]  # controls the policy checks fully
    targets: Targets
    validations: tuple[Validation, ...]
    parameters: tuple[Parameter, ...] = ()
    tests: tuple[PolicyTest, ...] = ()
    help_uri: str | None = None
    tags: tuple[str, ...] = ()
    language: str = "cel"
    partial: dict[str, tuple[str, ...]] = field(default_factory=dict)  # controls it checks in part
    source: str = ""  # the file it came from
    builtin: bool = False  # shipped with tdv (tested in its own CI)
    # Cross-resource: the relations (validator.inventory) its expressions read as `related`.
    relations: tuple[str, ...] = ()
    enabled: bool = True  # False: runs only when selected by its exact id (see library.select)

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.parameters}


def load_policy_file(path: Path, display: str | None = None, skip_tests: bool = False) -> Policy:
    """With `skip_tests`, the block-style `tests:` section that ends a file is not read (a
    scan has no use for the fixtures, which are half the library's text); the policy then
    has no tests. Only for files known to be laid out so, as the built-in ones are."""
    display = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise PolicyError(display, f"cannot read policy file: {error}") from None
    if skip_tests:
        text = _without_tests(text)
    documents = list(load_documents(text))
    if len(documents) != 1:
        raise PolicyError(display, "a policy file holds exactly one YAML document")
    document = documents[0]
    if isinstance(document, YamlError):
        raise PolicyError(display, document.message, document.line)
    return parse_policy(document, display)


_TESTS_SECTION = re.compile(r"^tests:[ \t]*$(?![\s\S]*^[A-Za-z])", re.MULTILINE)


def _without_tests(text: str) -> str:
    """`text` up to a last top-level key `tests:` whose value is a block on the next lines."""
    found = _TESTS_SECTION.search(text)
    return text[:found.start()] if found else text


def parse_policy(document: YamlDocument, display: str) -> Policy:
    data = document.data
    reader = _Reader(document, display)
    if not isinstance(data, dict):
        raise PolicyError(display, "a policy must be a mapping", document.line)
    reader.check_keys(data, (), _TOP_KEYS)
    policy_id = reader.string(data, ("id",))
    if not _ID.match(policy_id):
        reader.fail(("id",), f"id {policy_id!r} must look like TDV-K8S-001 (upper case, dash-separated)")
    severity_text = reader.string(data, ("severity",))
    try:
        severity = Severity.parse(severity_text)
    except ValueError as error:
        reader.fail(("severity",), str(error))
    category = reader.string(data, ("category",))
    if category not in CATEGORIES:
        reader.fail(("category",), f"unknown category {category!r} (expected one of: {', '.join(CATEGORIES)})")
    parameters = tuple(_parameters(reader, data.get("parameters") or {}))
    return Policy(
        id=policy_id,
        title=reader.string(data, ("title",)),
        severity=severity,
        category=category,
        description=reader.string(data, ("description",)),
        remediation=reader.string(data, ("remediation",)),
        standards=_controls(reader, data.get("standards") or {}, "standards"),
        partial=_controls(reader, data.get("partial") or {}, "partial"),
        targets=_targets(reader, data["targets"]),
        validations=tuple(_validations(reader, data["validations"])),
        parameters=parameters,
        tests=tuple(_tests(reader, data.get("tests") or [], {p.name for p in parameters})),
        help_uri=data.get("helpUri"),
        tags=tuple(str(t) for t in data.get("tags") or ()),
        language=str(data.get("language", "cel")),
        source=display,
        relations=_relations(reader, data),
        enabled=_enabled(reader, data),
    )


def _relations(reader: "_Reader", data: dict[str, Any]) -> tuple[str, ...]:
    """`relations:` names registered relations; every `related.NAME` the expressions read is
    one of them."""
    from validator.inventory import RELATIONS

    names = []
    for index, name in enumerate(reader.sequence(data.get("relations") or [], ("relations",))):
        if name not in RELATIONS:
            known = ", ".join(sorted(RELATIONS))
            reader.fail(("relations", index), f"unknown relation {name!r} (expected one of: {known})")
        names.append(name)
    for index, item in enumerate(data.get("validations") or []):
        if not isinstance(item, dict):
            continue
        for key in ("expression", "messageExpression", "relatedExpression"):
            text = item.get(key)
            for read in _RELATED_READ.findall(text) if isinstance(text, str) else ():
                if read not in names:
                    reader.fail(("validations", index, key),
                                f"the expression reads related.{read}: declare it under relations:")
        if "relatedExpression" in item and not names:
            reader.fail(("validations", index, "relatedExpression"), "relatedExpression needs relations:")
    return tuple(dict.fromkeys(names))


def _enabled(reader: "_Reader", data: dict[str, Any]) -> bool:
    value = data.get("enabled", True)
    if not isinstance(value, bool):
        reader.fail(("enabled",), "enabled must be true or false")
    return value


class _Reader(DocumentReader):
    """Typed access to the policy document that fails with the line of the bad key."""

    error = PolicyError


def _controls(reader: _Reader, value: Any, key: str) -> dict[str, tuple[str, ...]]:
    """`standards:` or `partial:`: standard name -> control ids. Both are optional."""
    standards = reader.mapping(value, (key,))
    result = {}
    for name, controls in standards.items():
        controls = controls if isinstance(controls, list) else [controls]
        if not controls or not all(isinstance(c, (str, int, float)) for c in controls):
            reader.fail((key, name), f"standard {name!r} needs one or more control ids")
        result[name] = tuple(str(c) for c in controls)
    return result


def _targets(reader: _Reader, value: Any) -> Targets:
    path = ("targets",)
    targets = reader.mapping(value, path)
    reader.check_keys(targets, path, dict.fromkeys(_TARGET_KEYS, False) | {"kinds": True})
    kinds: list[str] = []
    groups: list[str] | None = None
    for kind in reader.sequence(targets["kinds"], path + ("kinds",)):
        if kind == POD_BEARING_ALIAS:
            kinds.extend(POD_BEARING)
        elif isinstance(kind, str) and kind:
            kinds.append(kind)
        else:
            reader.fail(path + ("kinds",), "kinds must be strings")
    if "apiGroups" in targets:
        groups = [str(g) for g in reader.sequence(targets["apiGroups"], path + ("apiGroups",))]
    namespaces = reader.mapping(targets.get("namespaces") or {}, path + ("namespaces",))
    reader.check_keys(namespaces, path + ("namespaces",), {"include": False, "exclude": False})
    selector = reader.mapping(targets.get("labelSelector") or {}, path + ("labelSelector",))
    reader.check_keys(selector, path + ("labelSelector",), {"matchLabels": False, "matchExpressions": False})
    return Targets(
        kinds=tuple(dict.fromkeys(kinds)),
        api_groups=tuple(groups) if groups is not None and "*" not in groups else None,
        namespaces_include=tuple(namespaces.get("include") or ()),
        namespaces_exclude=tuple(namespaces.get("exclude") or ()),
        label_selector=selector,
        pod_bearing=POD_BEARING_ALIAS in targets["kinds"],
    )


def _validations(reader: _Reader, value: Any) -> list[Validation]:
    items = reader.sequence(value, ("validations",))
    if not items:
        reader.fail(("validations",), "a policy needs at least one validation")
    result = []
    for index, item in enumerate(items):
        path = ("validations", index)
        item = reader.mapping(item, path)
        reader.check_keys(item, path, dict.fromkeys(_VALIDATION_KEYS, False) | {"expression": True, "message": True})
        try:
            blamed = parse_path(str(item.get("field", "")))
        except ValueError as error:
            reader.fail(path + ("field",), str(error))
        reads = []
        for number, read in enumerate(reader.sequence(item.get("reads", []), path + ("reads",))):
            try:
                reads.append(parse_path(str(read)))
            except ValueError as error:
                reader.fail(path + ("reads", number), str(error))
        result.append(
            Validation(
                expression=reader.string(item, path + ("expression",)),
                message=reader.string(item, path + ("message",)),
                message_expression=item.get("messageExpression"),
                for_each=item.get("forEach"),
                variable=item.get("as"),
                field_path=blamed,
                line=reader.document.locate(path + ("expression",)).line,
                reads=tuple(reads),
                fix=parse_fix(reader, item["fix"], path + ("fix",)) if "fix" in item else (),
                related_expression=(reader.string(item, path + ("relatedExpression",))
                                    if "relatedExpression" in item else None),
            )
        )
    return result


def _parameters(reader: _Reader, value: Any) -> list[Parameter]:
    result = []
    for name, spec in reader.mapping(value, ("parameters",)).items():
        path = ("parameters", name)
        spec = reader.mapping(spec, path)
        reader.check_keys(spec, path, {"type": True, "default": True, "description": True})
        kind = spec["type"]
        if kind not in PARAMETER_TYPES:
            known = ", ".join(PARAMETER_TYPES)
            reader.fail(path + ("type",), f"unknown parameter type {kind!r} (expected one of: {known})")
        if not check_parameter_type(kind, spec["default"]):
            reader.fail(path + ("default",), f"default of {name!r} is not a {kind}")
        result.append(Parameter(name, kind, spec["default"], reader.string(spec, path + ("description",))))
    return result


def check_parameter_type(kind: str, value: Any) -> bool:
    if kind in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(value, PARAMETER_TYPES[kind])


def _tests(reader: _Reader, value: Any, parameter_names: set[str]) -> list[PolicyTest]:
    result = []
    for index, item in enumerate(reader.sequence(value, ("tests",))):
        path = ("tests", index)
        item = reader.mapping(item, path)
        reader.check_keys(item, path, dict.fromkeys(_TEST_KEYS, False) | {"name": True, "expect": True})
        forms = [form for form in FIXTURE_FORMS if form in item]
        if len(forms) != 1:
            reader.fail(path, f"a test case needs exactly one of: {', '.join(FIXTURE_FORMS)}")
        if item["expect"] not in ("pass", "fail"):
            reader.fail(path + ("expect",), "expect must be 'pass' or 'fail'")
        blamed = None
        if "field" in item:
            try:
                blamed = parse_path(str(item["field"]))
            except ValueError as error:
                reader.fail(path + ("field",), str(error))
        overrides = reader.mapping(item.get("parameters") or {}, path + ("parameters",))
        for name in overrides:
            if name not in parameter_names:
                reader.fail(path + ("parameters", name), f"unknown parameter {name!r}")
        objects, subject = _objects(reader, item, path)
        result.append(
            PolicyTest(
                name=reader.string(item, path + ("name",)),
                expect=item["expect"],
                object=(reader.mapping(item["object"], path + ("object",)) if "object" in item
                        else objects[subject] if objects else None),
                objects=tuple(objects),
                subject=subject,
                field_path=blamed,
                count=item.get("count"),
                parameters=overrides,
                tf=reader.string(item, path + ("tf",)) if "tf" in item else None,
                plan=_plan_fixture(reader, item["plan"], path + ("plan",)) if "plan" in item else None,
            )
        )
    return result


def _objects(reader: _Reader, item: dict[str, Any], path: FieldPath) -> tuple[list[dict[str, Any]], int]:
    """An `objects:` case's objects, and the index of the one the policy runs on."""
    objects: list[dict[str, Any]] = []
    if "objects" in item:
        for number, obj in enumerate(reader.sequence(item["objects"], path + ("objects",))):
            objects.append(reader.mapping(obj, path + ("objects", number)))
        if not objects:
            reader.fail(path + ("objects",), "objects needs at least one object")
    subject = item.get("subject", 0)
    if "subject" in item and ("objects" not in item or isinstance(subject, bool) or not isinstance(subject, int)
                              or not 0 <= subject < len(objects)):
        reader.fail(path + ("subject",), "subject is the index of one of the test's objects")
    return objects, subject


def _plan_fixture(reader: _Reader, value: Any, path: FieldPath) -> dict[str, Any] | list[dict[str, Any]]:
    if isinstance(value, list):
        if not value:
            reader.fail(path, "a list of planned resources needs at least one")
        return [_plan_resource(reader, item, path + (index,)) for index, item in enumerate(value)]
    return _plan_resource(reader, value, path)


def _plan_resource(reader: _Reader, value: Any, path: FieldPath) -> dict[str, Any]:
    plan = reader.mapping(value, path)
    reader.check_keys(plan, path, _PLAN_FIXTURE_KEYS)
    reader.string(plan, path + ("type",))
    reader.mapping(plan["after"], path + ("after",))
    references = reader.mapping(plan.get("references") or {}, path + ("references",))
    for name, texts in references.items():
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            reader.fail(path + ("references", name), "references are a list of Terraform references (strings)")
    return plan
