"""ValidatingAdmissionPolicy manifests as tdv policies, evaluated offline.

A YAML file in a policy directory whose documents are Kubernetes objects is read as
manifests: each ValidatingAdmissionPolicy becomes a policy; its binding (at most one, found
by `spec.policyName` in the same directory) narrows the targets and names the params object,
which is looked up among the directory's other objects.

Offline there is no request: an expression may read `object`, `params` (the params object,
or null), `variables` and `oldObject` (null: every object is evaluated as a creation).
Variables are bound in order with `cel.bind`, and `matchConditions` guard every validation.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from validator.celcheck import compile_problems, pointer
from validator.engine.cel import CelEvaluator
from validator.engine.celtext import mentions, substitute_members, to_cel_literal
from validator.engine.policy import CATEGORIES, Policy, PolicyError, Targets, Validation
from validator.engine.targets import selector_matches
from validator.model import FieldPath, Severity
from validator.object_fields import mapping as _mapping, sequence as _sequence, strings as _strings
from validator.sources.kubernetes import is_kubernetes_object
from validator.sources.yaml_loader import YamlDocument, YamlError, load_documents
from validator.vap import (
    BINDING_KIND,
    CATEGORY_ANNOTATION,
    ID_ANNOTATION,
    POLICY_KIND,
    SEVERITY_ANNOTATION,
    TITLE_ANNOTATION,
)
from validator.vap.export import NAMESPACE_LABEL
from validator.vap.kinds import RESOURCES

log = logging.getLogger(__name__)

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")

_GROUP = "admissionregistration.k8s.io/"
_EVALUATED_OPERATIONS = {"CREATE", "UPDATE", "*"}


@dataclass(frozen=True)
class _Object:
    data: dict[str, Any]
    document: YamlDocument
    prefix: FieldPath  # ("items", n) inside a List
    display: str

    @property
    def kind(self) -> str:
        return self.data["kind"]

    @property
    def metadata(self) -> dict[str, Any]:
        metadata = self.data.get("metadata")
        return metadata if isinstance(metadata, dict) else {}

    @property
    def name(self) -> str:
        return str(self.metadata.get("name") or "")

    def is_admission(self, kind: str) -> bool:
        return self.kind == kind and str(self.data["apiVersion"]).startswith(_GROUP)

    def error(self, path: FieldPath, message: str) -> PolicyError:
        return PolicyError(self.display, message, self.document.locate(self.prefix + path).line)


def read_manifest_file(path: Path) -> list[YamlDocument | YamlError] | None:
    """The documents of a manifest file, or None when the file is not one (a tdv policy)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    documents = list(load_documents(text, drop_nulls=True))
    first = next((d for d in documents if isinstance(d, YamlDocument)), None)
    return documents if first is not None and is_kubernetes_object(first.data) else None


def policies_from_manifests(files: Iterable[tuple[str, list[YamlDocument | YamlError]]]) -> list[Policy | PolicyError]:
    """The policies of one policy directory's manifest files (and an error per bad one)."""
    results: list[Policy | PolicyError] = []
    objects: list[_Object] = []
    for display, documents in files:
        for document in documents:
            if isinstance(document, YamlError):
                results.append(PolicyError(display, document.message, document.line))
            else:
                objects.extend(_objects(document, display))
    bindings: dict[str, list[_Object]] = {}
    for item in objects:
        if item.is_admission(BINDING_KIND):
            spec = item.data.get("spec")
            bindings.setdefault(str(spec.get("policyName", "")) if isinstance(spec, dict) else "", []).append(item)
    for item in objects:
        if item.is_admission(POLICY_KIND):
            try:
                results.append(_policy(item, bindings.pop(item.name, []), objects))
            except PolicyError as error:
                results.append(error)
    for name, unused in bindings.items():
        log.debug("%s: binding for policy %r, which is not in the policy directory: ignored", unused[0].display, name)
    return results


def _objects(document: YamlDocument, display: str) -> list[_Object]:
    data = document.data
    if not is_kubernetes_object(data):
        log.debug("%s:%d: not a Kubernetes object: ignored", display, document.line)
        return []
    if data["kind"].endswith("List") and isinstance(data.get("items"), list):
        return [_Object(item, document, ("items", index), display)
                for index, item in enumerate(data["items"]) if is_kubernetes_object(item)]
    return [_Object(data, document, (), display)]


def _policy(vap: _Object, bindings: list[_Object], objects: list[_Object]) -> Policy:
    if not vap.name:
        raise vap.error(("metadata",), "a ValidatingAdmissionPolicy needs metadata.name")
    if len(bindings) > 1:
        raise bindings[1].error((), f"policy {vap.name!r} has {len(bindings)} bindings; tdv evaluates a policy"
                                    " with one binding (keep one in the policy directory)")
    binding = bindings[0] if bindings else None
    spec = _mapping(vap, vap.data.get("spec"), ("spec",))
    annotations = _mapping(vap, vap.metadata.get("annotations") or {}, ("metadata", "annotations"))
    policy_id = str(annotations.get(ID_ANNOTATION) or vap.name).upper()
    try:
        severity = Severity.parse(str(annotations.get(SEVERITY_ANNOTATION, "medium")))
    except ValueError as error:
        raise vap.error(("metadata", "annotations", SEVERITY_ANNOTATION), str(error)) from None
    category = str(annotations.get(CATEGORY_ANNOTATION, ""))
    binding_spec = _mapping(binding, binding.data.get("spec"), ("spec",)) if binding else {}
    targets = _merge(_targets(vap, spec.get("matchConstraints"), ("spec", "matchConstraints"), required=True),
                     _optional_targets(binding, binding_spec.get("matchResources"), ("spec", "matchResources"))
                     if binding else None)
    if not targets.kinds:
        assert binding is not None  # the policy's own targets name at least one kind
        raise binding.error(("spec", "matchResources"), "the binding matches none of the policy's resources")
    wrapper = _Wrapper(vap, spec, _params(vap, spec, binding, binding_spec, objects))
    validations = [wrapper.validation(index, item)
                   for index, item in enumerate(_sequence(vap, spec.get("validations"), ("spec", "validations")))]
    if not validations:
        raise vap.error(("spec",), "the policy has no validations (tdv evaluates spec.validations)")
    return Policy(
        id=policy_id,
        title=str(annotations.get(TITLE_ANNOTATION) or vap.name),
        severity=severity,
        category=category if category in CATEGORIES else "best-practice",
        description=f"The ValidatingAdmissionPolicy `{vap.name}`, evaluated offline.",
        remediation="Change the resource so that the policy's validations hold.",
        standards={},
        targets=targets,
        validations=tuple(validations),
        tags=("validating-admission-policy",),
        source=vap.display,
    )


class _Wrapper:
    """Turns VAP validations into self-contained expressions: params, oldObject, variables
    and match conditions are bound around the author's expression."""

    def __init__(self, vap: _Object, spec: dict[str, Any], params: Any):
        self.vap = vap
        self.extra = ("oldObject", "variables") if spec.get("variables") else ("oldObject",)
        variables = _sequence(vap, spec.get("variables") or [], ("spec", "variables"))
        self.variables = [self._named(vap, item, ("spec", "variables", index), identifier=True)
                          for index, item in enumerate(variables)]
        self.conditions = [self._named(vap, item, ("spec", "matchConditions", index))[1]
                           for index, item in enumerate(_sequence(vap, spec.get("matchConditions") or [],
                                                                  ("spec", "matchConditions")))]
        names = [name for name, _ in self.variables]
        duplicate = next((n for i, n in enumerate(names) if n in names[:i]), None)
        if duplicate:
            raise vap.error(("spec", "variables"), f"variable {duplicate!r} is defined twice")
        self.params = to_cel_literal(params)

    def _named(self, vap: _Object, item: Any, path: FieldPath, identifier: bool = False) -> tuple[str, str]:
        item = _mapping(vap, item, path)
        name, expression = item.get("name"), item.get("expression")
        if not isinstance(name, str) or not name or not isinstance(expression, str) or not expression.strip():
            raise vap.error(path, "needs a name and an expression")
        if identifier and not _IDENTIFIER.match(name):
            raise vap.error(path + ("name",), f"variable name {name!r} must be a CEL identifier")
        self._check(expression, path + ("expression",))
        return name, expression

    def validation(self, index: int, item: Any) -> Validation:
        path = ("spec", "validations", index)
        item = _mapping(self.vap, item, path)
        expression = item.get("expression")
        if not isinstance(expression, str) or not expression.strip():
            raise self.vap.error(path, "a validation needs an expression")
        self._check(expression, path + ("expression",))
        body = _group(expression)
        if self.conditions:
            body = f"(!({' && '.join(_group(c) for c in self.conditions)}) || {body})"
        message_expression = item.get("messageExpression")
        if message_expression is not None:
            if not isinstance(message_expression, str):
                raise self.vap.error(path + ("messageExpression",), "messageExpression must be a string")
            self._check(message_expression, path + ("messageExpression",))
        message = item.get("message") or "failed expression: " + " ".join(expression.split())
        return Validation(
            expression=self._bind(body),
            message=" ".join(str(message).split()),
            message_expression=self._bind(_group(message_expression)) if message_expression else None,
            line=self.vap.document.locate(self.vap.prefix + path + ("expression",)).line,
        )

    def _bind(self, body: str) -> str:
        """Variables are inlined where used (lazily, as the API server evaluates them);
        params and oldObject are bound around the whole expression."""
        inlined: dict[str, str] = {}
        for name, expression in self.variables:
            inlined[name] = substitute_members(_group(expression), "variables", inlined)
        body = substitute_members(body, "variables", inlined)
        if mentions(body, "oldObject"):
            body = f"[dyn(null)].map(oldObject, {body})[0]"
        return f"[dyn({self.params})].map(params, {body})[0]" if mentions(body, "params") else body

    def _check(self, expression: str, path: FieldPath) -> None:
        problems = compile_problems(_evaluator().env(self.extra), expression)
        if problems:
            first = problems[0]
            shown = " | ".join(line.rstrip() for line in pointer(expression, first))
            hint = _OFFLINE_HINT if first.message.startswith("undeclared reference") else ""
            raise self.vap.error(path, f"CEL compile error at {first.where()}: {first.message}{hint}: {shown}")


def _group(expression: str) -> str:
    """The expression in parentheses; the line break ends a trailing `//` comment."""
    return f"({expression}\n)"


_OFFLINE_HINT = " (offline, expressions see object, oldObject, params and variables)"
@functools.cache
def _evaluator() -> CelEvaluator:
    return CelEvaluator()


def _params(vap: _Object, spec: dict[str, Any], binding: _Object | None, binding_spec: dict[str, Any],
            objects: list[_Object]) -> Any:
    kind = spec.get("paramKind")
    ref = binding_spec.get("paramRef")
    if not isinstance(kind, dict) or not isinstance(ref, dict) or binding is None:
        return None
    candidates = [o for o in objects
                  if o.kind == kind.get("kind") and o.data.get("apiVersion") == kind.get("apiVersion")]
    if ref.get("name"):
        candidates = [o for o in candidates if o.name == str(ref["name"])
                      and (not ref.get("namespace") or o.metadata.get("namespace") == ref["namespace"])]
    elif ref.get("selector") is not None:
        selector = _selector(binding, ref["selector"], ("spec", "paramRef", "selector"))
        candidates = [o for o in candidates if selector_matches(selector, _labels(o))]
    if len(candidates) > 1:
        raise binding.error(("spec", "paramRef"), f"paramRef selects {len(candidates)} {kind.get('kind')} objects;"
                                                  " tdv evaluates a policy with one params object")
    if not candidates:
        log.warning("%s: the params object of binding %r is not in the policy directory; params is null",
                    binding.display, binding.name)
        return None
    return candidates[0].data


def _optional_targets(owner: _Object, value: Any, path: FieldPath) -> Targets | None:
    return None if value is None else _targets(owner, value, path)


def _targets(owner: _Object, value: Any, path: FieldPath, required: bool = False) -> Targets:
    match = _mapping(owner, value, path)
    rules = match.get("resourceRules")
    kinds: tuple[str, ...]
    if rules is None and not required:
        kinds, groups = ("*",), None
    else:
        kinds, groups = _kinds(owner, _sequence(owner, rules, path + ("resourceRules",)), path + ("resourceRules",))
    excluded = _excluded(owner, match.get("excludeResourceRules") or [], path + ("excludeResourceRules",))
    include, exclude = _namespaces(owner, match.get("namespaceSelector"), path + ("namespaceSelector",))
    selector = _selector(owner, match.get("objectSelector") or {}, path + ("objectSelector",))
    kinds = tuple(k for k in kinds if k not in excluded)
    if not kinds:
        raise owner.error(path + ("excludeResourceRules",), "the exclusions leave no resource to evaluate")
    return Targets(kinds=kinds, api_groups=groups,
                   namespaces_include=include, namespaces_exclude=exclude,
                   label_selector=selector)


def _kinds(owner: _Object, rules: list[Any], path: FieldPath) -> tuple[tuple[str, ...], tuple[str, ...] | None]:
    kinds: list[str] = []
    groups: set[str] = set()
    any_group = False
    for index, rule in enumerate(rules):
        rule = _mapping(owner, rule, path + (index,))
        if not _EVALUATED_OPERATIONS & set(_strings(owner, rule, path + (index,), "operations")):
            continue
        if rule.get("resourceNames"):
            raise owner.error(path + (index, "resourceNames"), "resourceNames cannot be evaluated offline")
        rule_groups = _strings(owner, rule, path + (index,), "apiGroups")
        any_group = any_group or "*" in rule_groups
        groups.update(rule_groups)
        for resource in _strings(owner, rule, path + (index,), "resources"):
            kinds.extend(_resource_kinds(owner, rule_groups, resource))
    if not kinds:
        raise owner.error(path, "no resource rule tdv can evaluate offline (CREATE or UPDATE of a built-in resource)")
    return tuple(dict.fromkeys(kinds)), None if any_group else tuple(sorted(groups))


def _resource_kinds(owner: _Object, groups: list[str], resource: str) -> list[str]:
    if "/" in resource:
        return []  # a subresource: not an object tdv sees
    if resource == "*":
        return ["*"]
    found = [kind for (group, name), kind in RESOURCES.items()
             if name == resource and ("*" in groups or group in groups)]
    if not found:
        log.warning("%s: resource %r in %s is not a built-in resource tdv knows: ignored", owner.display, resource,
                    ", ".join(repr(g) for g in groups))
    return found


def _excluded(owner: _Object, rules: Any, path: FieldPath) -> set[str]:
    excluded: set[str] = set()
    for index, rule in enumerate(_sequence(owner, rules, path)):
        rule = _mapping(owner, rule, path + (index,))
        if rule.get("resourceNames"):
            log.warning("%s: an excludeResourceRule with resourceNames cannot be evaluated offline: ignored",
                        owner.display)
            continue
        groups = _strings(owner, rule, path + (index,), "apiGroups")
        for resource in _strings(owner, rule, path + (index,), "resources"):
            excluded.update(k for k in _resource_kinds(owner, groups, resource) if k != "*")
    return excluded


def _namespaces(owner: _Object, value: Any, path: FieldPath) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A namespaceSelector on namespace names as include and exclude lists; other namespace
    labels are not known offline, so such terms are ignored (with a warning)."""
    if not value:
        return (), ()
    selector = _selector(owner, value, path)
    include: list[str] = []
    exclude: list[str] = []
    for key, label in selector.get("matchLabels", {}).items():
        if key == NAMESPACE_LABEL:
            include.append(label)
        else:
            log.warning("%s: namespace label %r is not known offline: ignored", owner.display, key)
    for term in selector.get("matchExpressions", []):
        operator = term["operator"]
        if term["key"] == NAMESPACE_LABEL and operator in ("In", "NotIn"):
            (include if operator == "In" else exclude).extend(term["values"])
        else:
            log.warning("%s: namespaceSelector term %r cannot be evaluated offline: ignored", owner.display, term)
    return tuple(include), tuple(exclude)


def _merge(policy: Targets, binding: Targets | None) -> Targets:
    """The binding narrows the policy's targets."""
    if binding is None:
        return policy
    if "*" in policy.kinds:
        kinds = binding.kinds
    elif "*" in binding.kinds:
        kinds = policy.kinds
    else:
        kinds = tuple(k for k in policy.kinds if k in binding.kinds)
    if policy.api_groups is None or binding.api_groups is None:
        groups = binding.api_groups if policy.api_groups is None else policy.api_groups
    else:
        groups = tuple(g for g in policy.api_groups if g in binding.api_groups)
    include = (tuple(n for n in policy.namespaces_include if n in binding.namespaces_include)
               if policy.namespaces_include and binding.namespaces_include
               else policy.namespaces_include or binding.namespaces_include)
    labels = {**(policy.label_selector.get("matchLabels") or {}), **(binding.label_selector.get("matchLabels") or {})}
    expressions = list(policy.label_selector.get("matchExpressions") or []) + list(
        binding.label_selector.get("matchExpressions") or [])
    selector = {k: v for k, v in (("matchLabels", labels), ("matchExpressions", expressions)) if v}
    return Targets(kinds=kinds, api_groups=groups, namespaces_include=include,
                   namespaces_exclude=tuple(dict.fromkeys(policy.namespaces_exclude + binding.namespaces_exclude)),
                   label_selector=selector)


def _selector(owner: _Object, value: Any, path: FieldPath) -> dict[str, Any]:
    """A label selector, checked: matchLabels of strings, matchExpressions of known operators."""
    selector = _mapping(owner, value, path)
    labels = _mapping(owner, selector.get("matchLabels") or {}, path + ("matchLabels",))
    terms = []
    expressions = _sequence(owner, selector.get("matchExpressions") or [], path + ("matchExpressions",))
    for index, term in enumerate(expressions):
        term = _mapping(owner, term, path + ("matchExpressions", index))
        if not isinstance(term.get("key"), str) or term.get("operator") not in _SELECTOR_OPERATORS:
            raise owner.error(path + ("matchExpressions", index),
                              f"needs a key and an operator ({', '.join(_SELECTOR_OPERATORS)})")
        terms.append({"key": term["key"], "operator": term["operator"],
                      "values": _strings(owner, term, path + ("matchExpressions", index), "values")})
    result: dict[str, Any] = {}
    if labels:
        result["matchLabels"] = {str(k): str(v) for k, v in labels.items()}
    if terms:
        result["matchExpressions"] = terms
    return result


def _labels(item: _Object) -> dict[str, Any]:
    labels = item.metadata.get("labels")
    return labels if isinstance(labels, dict) else {}






