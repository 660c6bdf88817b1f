"""ValidatingAdmissionPolicy manifests in a policy directory are evaluated offline by `tdv scan`."""

import logging
import textwrap
from pathlib import Path

import pytest

from validator.engine.library import load_each, load_policies
from validator.engine.policy import Policy, PolicyError
from validator.model import Severity

from tests.helpers import tdv, tdv_json

DATA = Path(__file__).parent / "data" / "replica-limit"

MANIFESTS = textwrap.dedent("""\
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: big, namespace: shop}
    spec: {replicas: 10}
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: small, namespace: shop}
    spec: {replicas: 3}
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: system, namespace: kube-system}
    spec: {replicas: 10}
    ---
    apiVersion: apps/v1
    kind: StatefulSet
    metadata:
      name: exempt
      namespace: shop
      labels: {replica-limit.example.com/exempt: "yes"}
    spec: {replicas: 10}
    """)

POLICY = """\
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: %(name)s}
spec:
  matchConstraints:
    resourceRules:
      - {apiGroups: [""], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [%(resources)s]}
  validations:
    - expression: %(expression)s
"""


def write(directory: Path, name="labels", resources="configmaps", expression="\"has(object.metadata.labels)\"", extra=""):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "policy.yaml").write_text(POLICY % locals() + extra)
    return directory


def test_policy_binding_and_params_become_one_policy():
    [policy] = load_policies([DATA], include_builtin=False)
    assert (policy.id, policy.severity, policy.title) == ("REPLICA-LIMIT", Severity.HIGH, "replica-limit")
    assert set(policy.targets.kinds) == {"Deployment", "StatefulSet"}  # the scale subresource is left out
    assert policy.targets.api_groups == ("apps",)
    assert policy.targets.namespaces_exclude == ("kube-system",)
    assert len(policy.validations) == 2
    assert policy.source.endswith("policy.yaml")


def test_scan_evaluates_the_policy_offline(tmp_path):
    (tmp_path / "deploy.yaml").write_text(MANIFESTS)
    result, report = tdv_json("scan", str(tmp_path), "--policies", str(DATA), "--policy", "REPLICA-LIMIT")
    assert result.exit_code == 1
    [finding] = report["findings"]
    assert finding["resource"]["ref"] == "Deployment/shop/big"
    assert finding["message"] == "replicas 10 exceed the limit of 5"  # from the params ConfigMap
    # small passes; exempt is excluded by the match condition; kube-system by the binding
    assert report["summary"]["passed"] == 2 and report["summary"]["errors"] == 0


def test_exported_annotations_give_back_the_identity(tmp_path):
    write(tmp_path, name="acme-007")
    text = (tmp_path / "policy.yaml").read_text().replace(
        "metadata: {name: acme-007}",
        "metadata:\n  name: acme-007\n  annotations:\n"
        "    tdv.dev/policy-id: ACME-7\n    tdv.dev/severity: critical\n"
        "    tdv.dev/title: ConfigMaps need labels\n    tdv.dev/category: rbac\n")
    (tmp_path / "policy.yaml").write_text(text)
    [policy] = load_policies([tmp_path], include_builtin=False)
    assert (policy.id, policy.severity, policy.title, policy.category) == (
        "ACME-7", Severity.CRITICAL, "ConfigMaps need labels", "rbac")
    assert policy.validations[0].message == "failed expression: has(object.metadata.labels)"


def test_a_list_of_policies_as_kubectl_prints_it(tmp_path):
    policy = textwrap.indent(POLICY % {"name": "labels", "resources": "configmaps",
                                       "expression": "\"has(object.metadata.labels)\""}, "  ")
    (tmp_path / "vaps.yaml").write_text("apiVersion: v1\nkind: List\nitems:\n-" + policy[1:])
    [policy] = load_policies([tmp_path], include_builtin=False)
    assert policy.id == "LABELS" and policy.targets.kinds == ("ConfigMap",)


@pytest.mark.parametrize("expression,column,message", [
    ("\"object.metadata.nam ==\"", 23, "Syntax error"),
    ("\"request.userInfo.username == 'x'\"", 17, "offline, expressions see object, oldObject, params and variables"),
])
def test_cel_errors_name_file_line_and_column(tmp_path, expression, column, message):
    write(tmp_path, expression=expression)
    [error] = load_each([tmp_path], include_builtin=False)
    assert isinstance(error, PolicyError)
    assert error.line == 9 and f"column {column}" in error.message and message in error.message
    result = tdv("scan", str(tmp_path), "--policies", str(tmp_path))
    assert result.exit_code == 2
    [line] = [line for line in result.output.splitlines() if "policy.yaml" in line]
    assert f"policy.yaml:9: CEL compile error at column {column}" in line


def test_variables_match_conditions_and_old_object(tmp_path):
    extra = """\
  variables:
    - {name: labels, expression: "object.metadata.?labels.orValue({})"}
    - {name: team, expression: "variables.labels.?team.orValue('')"}
  matchConditions:
    - {name: not-generated, expression: "!has(object.metadata.generateName)"}
"""
    text = POLICY % {"name": "team", "resources": "configmaps",
                     "expression": "\"oldObject == null && variables.team != ''\""}
    tmp_path.joinpath("policy").mkdir()
    (tmp_path / "policy" / "policy.yaml").write_text(text.replace("  validations:", extra.rstrip() + "\n  validations:"))
    (tmp_path / "in.yaml").write_text(textwrap.dedent("""\
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: a, labels: {team: shop}}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: b}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: c, generateName: c-}
        """))
    result, report = tdv_json("scan", str(tmp_path / "in.yaml"), "--policies", str(tmp_path / "policy"),
                              "--policy", "TEAM")
    assert [f["resource"]["name"] for f in report["findings"]] == ["b"]
    assert report["summary"]["passed"] == 2


@pytest.mark.parametrize("extra,message", [
    ("---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\n"
     "metadata: {name: one}\nspec: {policyName: labels}\n"
     "---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\n"
     "metadata: {name: two}\nspec: {policyName: labels}\n", "has 2 bindings"),
    ("---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\n"
     "metadata: {name: one}\nspec:\n  policyName: labels\n  matchResources:\n    resourceRules:\n"
     "      - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}\n",
     "the binding matches none of the policy's resources"),
    ("---\n: [unbalanced\n", "policy.yaml:"),
])
def test_bindings_tdv_cannot_evaluate_are_errors(tmp_path, extra, message):
    write(tmp_path, extra=extra)
    errors = [e for e in load_each([tmp_path], include_builtin=False) if isinstance(e, PolicyError)]
    assert errors and message in str(errors[0])


def test_rules_tdv_cannot_evaluate_are_errors(tmp_path):
    write(tmp_path / "names", resources="configmaps], resourceNames: [one")
    write(tmp_path / "crd", resources="widgets")
    names, crd = (load_each([tmp_path / d], include_builtin=False)[0] for d in ("names", "crd"))
    assert "resourceNames cannot be evaluated offline" in str(names)
    assert "no resource rule tdv can evaluate offline" in str(crd)


def test_missing_params_object_is_a_warning_and_params_is_null(tmp_path, caplog):
    text = (DATA / "policy.yaml").read_text()
    (tmp_path / "policy.yaml").write_text(text)
    with caplog.at_level(logging.WARNING):
        [policy] = load_each([tmp_path], include_builtin=False)
    assert isinstance(policy, Policy)
    assert "params object of binding 'replica-limit-outside-system' is not in the policy directory" in caplog.text
    (tmp_path / "in.yaml").write_text(MANIFESTS)
    result, report = tdv_json("scan", str(tmp_path / "in.yaml"), "--policies", str(tmp_path),
                              "--policy", "REPLICA-LIMIT")
    assert result.exit_code == 2 and report["summary"]["errors"] == 2  # params.data on null: an error, not a pass


def test_namespace_labels_unknown_offline_are_ignored_with_a_warning(tmp_path, caplog):
    write(tmp_path)
    text = (tmp_path / "policy.yaml").read_text().replace(
        "  validations:", "    namespaceSelector:\n      matchLabels: {env: prod}\n  validations:")
    (tmp_path / "policy.yaml").write_text(text)
    with caplog.at_level(logging.WARNING):
        [policy] = load_policies([tmp_path], include_builtin=False)
    assert "namespace label 'env' is not known offline: ignored" in caplog.text
    assert policy.targets.namespaces_include == ()


@pytest.mark.parametrize("old,new,message", [
    ("metadata: {name: labels}", "metadata: {name: labels, annotations: [a]}", "metadata.annotations must be a mapping"),
    ("operations: [CREATE, UPDATE]", "operations: CREATE", "operations must be a list of strings"),
    ("resources: [configmaps]}",
     "resources: [configmaps]}\n    objectSelector: {matchExpressions: [{key: a, operator: Is}]}",
     "needs a key and an operator"),
    ("  validations:", "  variables: [{name: my-var, expression: '1'}]\n  validations:",
     "variable name 'my-var' must be a CEL identifier"),
    ("    - expression:", "    - message: no expression\n      expression2:", "a validation needs an expression"),
])
def test_malformed_manifests_are_errors_with_a_line(tmp_path, old, new, message):
    write(tmp_path)
    path = tmp_path / "policy.yaml"
    path.write_text(path.read_text().replace(old, new, 1))
    [error] = load_each([tmp_path], include_builtin=False)
    assert isinstance(error, PolicyError) and message in error.message and error.line


def test_expressions_may_end_with_a_comment(tmp_path):
    write(tmp_path, expression="\"has(object.metadata.labels) // every ConfigMap is labelled\"")
    [policy] = load_policies([tmp_path], include_builtin=False)
    (tmp_path / "in.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
    result, report = tdv_json("scan", str(tmp_path / "in.yaml"), "--policies", str(tmp_path), "--policy", policy.id)
    assert result.exit_code == 1 and report["summary"]["findings"] == 1
