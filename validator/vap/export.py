"""tdv policies as ValidatingAdmissionPolicy and ValidatingAdmissionPolicyBinding manifests.

What changes on the way (docs/vap.md explains why):

- targets: kinds become `matchConstraints.resourceRules` (groups and resources from
  `kinds.KINDS`, every version, CREATE and UPDATE); namespaces become a `namespaceSelector`
  on `kubernetes.io/metadata.name`; the label selector becomes the `objectSelector`;
- parameters: one policy variable `params` holds their values as a CEL literal, and each
  expression rebinds it with `[variables.params].all(params, ...)`, so expressions keep
  reading `params.x` and no parameter resource or CRD is needed;
- `cel.bind`, which the API server lacks, becomes a one-item comprehension;
- forEach validations become `all` over the items (`Scope.holds`); their messageExpression
  joins the messages of the failing items (`Scope.collect`), since a VAP messageExpression
  cannot see the item variable.

Each exported expression is compiled with an environment holding only what the API server
provides; a policy that needs more is not exported, with the reason. A cross-resource policy
(`relations:`) is never exported: an admission request holds one object.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import yaml
from cel_expr_python import cel
from cel_expr_python.ext import ext_optional, ext_strings

from validator.engine.celtext import CelTextError, compact, inline_binds, literal
from validator.engine.policy import Policy, Targets, Validation
from validator.engine.scopes import ScopeError, parse_scope
from validator.vap import (
    API_VERSION,
    BINDING_KIND,
    CATEGORY_ANNOTATION,
    ID_ANNOTATION,
    MANAGED_BY,
    POLICY_KIND,
    SEVERITY_ANNOTATION,
    TITLE_ANNOTATION,
)
from validator.vap.kinds import KINDS

ACTIONS = ("Deny", "Warn", "Audit")
# A first rollout should not take a cluster down: bindings warn and audit unless told to deny,
# a policy that fails to evaluate lets the request through, and the namespaces of the
# control plane and its add-ons (CNI, kube-proxy, DNS) are left alone.
DEFAULT_ACTIONS = ("Warn", "Audit")
FAILURE_POLICIES = ("Ignore", "Fail")
DEFAULT_FAILURE_POLICY = "Ignore"
SYSTEM_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease")
OPERATIONS = ["CREATE", "UPDATE"]
NAMESPACE_LABEL = "kubernetes.io/metadata.name"
# The variables a ValidatingAdmissionPolicy expression may read.
API_SERVER_VARIABLES = ("object", "oldObject", "params", "request", "namespaceObject", "authorizer", "variables")
_UNDECLARED = re.compile(r"<input>:(\d+):(\d+): undeclared reference to '([^']+)'")


class NotExportable(Exception):
    """The API server cannot enforce this policy; the message says why."""


@dataclass(frozen=True)
class Export:
    documents: list[dict[str, Any]]  # a policy and its binding, for each exported policy
    skipped: list[tuple[Policy, str]]  # policies that cannot be exported, with the reason


@dataclass(frozen=True)
class Binding:
    """How every exported policy is bound and what happens when it cannot be evaluated."""

    actions: Sequence[str] = DEFAULT_ACTIONS
    failure_policy: str = DEFAULT_FAILURE_POLICY
    exclude_namespaces: Sequence[str] = SYSTEM_NAMESPACES


def is_kubernetes_policy(policy: Policy) -> bool:
    """Whether the policy checks Kubernetes objects (kinds are CamelCase, `*` or an alias),
    not Terraform resources (`aws_s3_bucket`): only those are candidates for export."""
    return any(not kind[:1].islower() for kind in policy.targets.kinds)


def export_policies(policies: Iterable[Policy], binding: Binding = Binding(),
                    overrides: dict[str, dict[str, Any]] | None = None) -> Export:
    documents: list[dict[str, Any]] = []
    skipped: list[tuple[Policy, str]] = []
    for policy in policies:
        try:
            documents.extend(export_policy(policy, policy.defaults() | (overrides or {}).get(policy.id, {}), binding))
        except NotExportable as reason:
            skipped.append((policy, str(reason)))
    return Export(documents, skipped)


def export_policy(policy: Policy, parameters: dict[str, Any],
                  binding: Binding = Binding()) -> list[dict[str, Any]]:
    """The ValidatingAdmissionPolicy and its binding. Raises NotExportable."""
    if policy.language != "cel":
        raise NotExportable(f"it is written in {policy.language}, not CEL")
    if policy.relations:
        raise NotExportable(f"it reads other objects of the scan (relations: {', '.join(policy.relations)}); a"
                            " ValidatingAdmissionPolicy sees one object, and paramKind is not an inventory")
    name = resource_name(policy.id)
    spec: dict[str, Any] = {"failurePolicy": binding.failure_policy,
                            "matchConstraints": match_constraints(policy.targets)}
    if parameters:
        spec["variables"] = [{"name": "params", "expression": literal(parameters)}]
    spec["validations"] = [_validation(v, bool(parameters)) for v in policy.validations]
    metadata = {
        "name": name,
        "labels": dict(MANAGED_BY),
        "annotations": {
            ID_ANNOTATION: policy.id,
            SEVERITY_ANNOTATION: policy.severity.label,
            TITLE_ANNOTATION: _one_line(policy.title),
            CATEGORY_ANNOTATION: policy.category,
        },
    }
    binding_spec: dict[str, Any] = {"policyName": name, "validationActions": list(binding.actions)}
    if binding.exclude_namespaces:
        binding_spec["matchResources"] = {"namespaceSelector": {"matchExpressions": [
            {"key": NAMESPACE_LABEL, "operator": "NotIn", "values": list(binding.exclude_namespaces)}]}}
    binding_document = {
        "apiVersion": API_VERSION,
        "kind": BINDING_KIND,
        "metadata": {"name": name, "labels": dict(MANAGED_BY)},
        "spec": binding_spec,
    }
    return [{"apiVersion": API_VERSION, "kind": POLICY_KIND, "metadata": metadata, "spec": spec}, binding_document]


def resource_name(policy_id: str) -> str:
    """`TDV-K8S-001` -> `tdv-k8s-001` (a valid Kubernetes object name)."""
    return re.sub(r"[^a-z0-9.-]+", "-", policy_id.lower()).strip("-.") or "policy"


def match_constraints(targets: Targets) -> dict[str, Any]:
    constraints: dict[str, Any] = {"resourceRules": _resource_rules(targets)}
    expressions = []
    if targets.namespaces_include:
        expressions.append({"key": NAMESPACE_LABEL, "operator": "In", "values": list(targets.namespaces_include)})
    if targets.namespaces_exclude:
        expressions.append({"key": NAMESPACE_LABEL, "operator": "NotIn", "values": list(targets.namespaces_exclude)})
    if expressions:
        constraints["namespaceSelector"] = {"matchExpressions": expressions}
    selector = {key: value for key, value in targets.label_selector.items() if value}
    if selector:
        constraints["objectSelector"] = selector
    return constraints


def _resource_rules(targets: Targets) -> list[dict[str, Any]]:
    if "*" in targets.kinds:
        groups = sorted(targets.api_groups) if targets.api_groups is not None else ["*"]
        return [_rule(groups, ["*"])]
    unknown = [kind for kind in targets.kinds if kind not in KINDS]
    if unknown:
        raise NotExportable(f"it targets {', '.join(unknown)}, not a built-in Kubernetes kind")
    by_group: dict[str, list[str]] = {}
    for kind in targets.kinds:
        group, resource = KINDS[kind]
        if targets.api_groups is None or group in targets.api_groups:
            by_group.setdefault(group, []).append(resource)
    if not by_group:
        raise NotExportable("none of its kinds is in its apiGroups")
    return [_rule([group], resources) for group, resources in by_group.items()]


def _rule(groups: list[str], resources: list[str]) -> dict[str, Any]:
    return {"apiGroups": groups, "apiVersions": ["*"], "operations": list(OPERATIONS), "resources": resources}


def _validation(validation: Validation, has_params: bool) -> dict[str, Any]:
    try:
        scope = parse_scope(validation.for_each, validation.variable) if validation.for_each else None
        body = f"({compact(inline_binds(validation.expression))})"
        message = compact(inline_binds(validation.message_expression)) if validation.message_expression else None
    except (ScopeError, CelTextError) as error:
        raise NotExportable(str(error)) from None
    expression = scope.holds(body) if scope else body
    if message and scope:
        message = scope.collect(f"({body} ? '' : ({message}))")
    if has_params:
        expression = f"[variables.params].all(params, {expression})"
        message = f"[variables.params].map(params, {message})[0]" if message else None
    result = {"expression": expression, "message": _one_line(validation.message)}
    if message:
        result["messageExpression"] = message
    for text in filter(None, (expression, message)):
        check_api_server_cel(text)
    return result


def _one_line(text: str) -> str:
    return " ".join(text.split())


@functools.cache
def api_server_env() -> Any:
    """A CEL environment with only what the Kubernetes API server offers to a policy: its
    variables, optional types and the strings extension; no cel.bind, math or tdv functions."""
    return cel.NewEnv(variables={name: cel.Type.DYN for name in API_SERVER_VARIABLES},
                      extensions=[ext_strings.ExtStrings(), ext_optional.ExtOptional()])


def check_api_server_cel(expression: str) -> None:
    """Raise NotExportable when the API server could not compile `expression`."""
    try:
        api_server_env().compile(expression)
    except RuntimeError as error:
        raise NotExportable(_reason(str(error), expression)) from None


def _reason(error: str, expression: str) -> str:
    match = _UNDECLARED.search(error)
    if not match:
        first = error.replace("INVALID_ARGUMENT: ", "").replace("ERROR: ", "").splitlines()[0]
        return f"the API server cannot compile its CEL: {first}"
    line, column = int(match.group(1)), int(match.group(2))
    text = expression.splitlines()[line - 1] if line <= len(expression.splitlines()) else ""
    called = re.match(r"[A-Za-z_][A-Za-z0-9_.]*", text[column - 1:])
    name = called.group(0) if called else match.group(3)
    return f"it uses {name}, which the Kubernetes API server does not provide"


class _Dumper(yaml.SafeDumper):
    pass


def _string(dumper: yaml.SafeDumper, value: str) -> Any:
    style = ">" if len(value) > 80 and "\n" not in value and value == value.strip() else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _list(dumper: yaml.SafeDumper, value: list[Any]) -> Any:
    flow = all(isinstance(item, (str, int, float, bool)) for item in value)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flow)


_Dumper.add_representer(str, _string)
_Dumper.add_representer(list, _list)


def render(documents: list[dict[str, Any]], header: str = "") -> str:
    """Multi-document YAML, long expressions folded for reading."""
    text = yaml.dump_all(documents, Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                         allow_unicode=True, width=100, explicit_start=True)
    return header + text
