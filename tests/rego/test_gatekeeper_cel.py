"""ConstraintTemplates whose code is K8sNativeValidation (CEL), run on tdv's CEL engine."""

import json
import textwrap
from pathlib import Path

import pytest

from validator.engine.library import load_each
from validator.engine.policy import PolicyError

from tests.helpers import tdv

pytest.importorskip("regorus", reason="the Rego extra is not installed (pip install '.[rego]')")

TEMPLATE = textwrap.dedent("""\
    apiVersion: templates.gatekeeper.sh/v1
    kind: ConstraintTemplate
    metadata: {name: allowedpullpolicy}
    spec:
      crd: {spec: {names: {kind: AllowedPullPolicy}}}
      targets:
        - target: admission.k8s.gatekeeper.sh
          code:
            - engine: K8sNativeValidation
              source:
                matchCondition:
                  - name: not-ignored
                    expression: '!has(variables.anyObject.metadata.annotations) || !("skip" in variables.anyObject.metadata.annotations)'
                variables:
                  - name: allowed
                    expression: 'has(variables.params.policies) ? variables.params.policies : ["Always"]'
                  - name: bad
                    expression: >-
                      variables.anyObject.spec.containers.filter(c, !has(c.imagePullPolicy) ||
                      !(c.imagePullPolicy in variables.allowed)).map(c, c.name)
                  - name: strict
                    expression: 'has(variables.params.strict) && variables.params.strict'
                validations:
                  - expression: 'request.operation == "UPDATE" || size(variables.bad) == 0'
                    messageExpression: '"containers " + variables.bad.join(", ") + " pull with a policy outside " + variables.allowed.join(", ")'
                  - expression: '!has(variables.strict) || !variables.strict || variables.anyObject.metadata.name != "web"'
                    message: the strict mode refuses the name web
    ---
    apiVersion: constraints.gatekeeper.sh/v1beta1
    kind: AllowedPullPolicy
    metadata: {name: pull}
    spec:
      match: {kinds: [{apiGroups: [""], kinds: [Pod]}]}
      parameters: {policies: [Always, IfNotPresent], strict: true}
    """)

PODS = textwrap.dedent("""\
    apiVersion: v1
    kind: Pod
    metadata: {name: web}
    spec:
      containers:
        - {name: app, image: app:1, imagePullPolicy: Never}
        - {name: proxy, image: proxy:1, imagePullPolicy: IfNotPresent}
    ---
    apiVersion: v1
    kind: Pod
    metadata: {name: skipped, annotations: {skip: "yes"}}
    spec:
      containers:
        - {name: app, image: app:1}
    """)


def scan(tmp_path: Path, template: str = TEMPLATE, *args: str):
    directory = tmp_path / "policies"
    directory.mkdir(exist_ok=True)
    (directory / "gatekeeper.yaml").write_text(template)
    (tmp_path / "pods.yaml").write_text(PODS)
    result = tdv("scan", str(tmp_path / "pods.yaml"), "--policies", str(directory), "--policy",
                 "ALLOWEDPULLPOLICY-*", "-o", "json", *args)
    report = json.loads(result.stdout)
    return result, sorted((f["resource"]["ref"], f["message"]) for f in report["findings"])


def test_cel_template_runs_with_params_variables_and_match_conditions(tmp_path):
    result, found = scan(tmp_path)
    assert result.exit_code == 1
    assert found == [("Pod/web", "containers app pull with a policy outside Always, IfNotPresent"),
                     ("Pod/web", "the strict mode refuses the name web")]


def test_a_config_file_overrides_the_parameters_cel_reads(tmp_path):
    (tmp_path / ".tdv.yaml").write_text("parameters:\n  ALLOWEDPULLPOLICY-PULL:\n    policies: [Never, IfNotPresent]\n"
                                        "    strict: false\n")
    _, found = scan(tmp_path, TEMPLATE, "--config", str(tmp_path / ".tdv.yaml"))
    assert found == []


def test_without_parameters_the_defaults_of_the_template_apply(tmp_path):
    _, found = scan(tmp_path, TEMPLATE.replace("  parameters: {policies: [Always, IfNotPresent], strict: true}\n", ""))
    assert found == [("Pod/web", "containers app, proxy pull with a policy outside Always")]


@pytest.mark.parametrize("change,message", [
    (("size(variables.bad) == 0", "size(variables.missing) == 0"), "CEL does not compile: undeclared reference"),
    (("- name: strict", "- name: params"), "'params' is reserved"),
    (("validations:", "nothing:"), "has no validations"),
])
def test_bad_cel_templates_are_errors_naming_the_file(tmp_path, change, message):
    directory = tmp_path / "policies"
    directory.mkdir()
    (directory / "gatekeeper.yaml").write_text(TEMPLATE.replace(*change))
    [error] = load_each([directory], include_builtin=False)
    assert isinstance(error, PolicyError) and message in str(error) and "gatekeeper.yaml:" in str(error)
