"""`tdv test` on the test formats of other tools: gator Suite files, Rego unit tests
(conftest's `_test.rego`, `opa test`) and the Rego tests of Weave policies."""

import textwrap
from pathlib import Path

import pytest

from validator.gatekeeper import suite

from tests.helpers import tdv, write
from tests.rego.test_weave import policy

pytest.importorskip("regorus", reason="the Rego extra is not installed (pip install '.[rego]')")

TEMPLATE = textwrap.dedent("""\
    apiVersion: templates.gatekeeper.sh/v1
    kind: ConstraintTemplate
    metadata: {name: replicafloor}
    spec:
      crd:
        spec:
          names: {kind: ReplicaFloor}
      targets:
        - target: admission.k8s.gatekeeper.sh
          rego: |
            package replicafloor
            violation[{"msg": msg}] {
              replicas := object.get(input.review.object.spec, "replicas", 1)
              replicas < input.parameters.minimum
              minimum := input.parameters.minimum
              msg := sprintf("%v has %v replicas, fewer than %v", [input.review.name, replicas, minimum])
            }
            violation[{"msg": msg}] {
              not input.review.object.spec.strategy
              msg := sprintf("%v names no rollout strategy", [input.review.name])
            }
    """)

CONSTRAINT = textwrap.dedent("""\
    apiVersion: constraints.gatekeeper.sh/v1beta1
    kind: ReplicaFloor
    metadata: {name: at-least-two}
    spec:
      match:
        kinds: [{apiGroups: [apps], kinds: [Deployment]}]
        excludedNamespaces: [sandbox]
      parameters: {minimum: 2}
    """)


def deployment(name: str, namespace: str = "shop", replicas: int | None = None, strategy: bool = True) -> str:
    spec = {"replicas": replicas} if replicas is not None else {}
    lines = [f"apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: {namespace}}}\nspec:"]
    lines += [f"  replicas: {replicas}"] if spec else []
    lines += ["  strategy: {type: RollingUpdate}"] if strategy else []
    lines += ["  template: {spec: {containers: [{name: app, image: registry.example/app:1}]}}"]
    return "\n".join(lines) + "\n"


SUITE = textwrap.dedent("""\
    kind: Suite
    apiVersion: test.gatekeeper.sh/v1alpha1
    metadata: {name: replicafloor}
    tests:
    - name: floor-of-two
      template: template.yaml
      constraint: samples/constraint.yaml
      cases:
      - name: three-replicas
        object: samples/three.yaml
        assertions:
        - violations: no
      - name: one-replica-no-strategy
        object: samples/one.yaml
        assertions:
        - violations: yes
        - violations: 2
        - message: fewer than 2
          violations: 1
        - message: "^one names no rollout"
      - name: default-replicas
        object: samples/default.yaml
        assertions:
        - violations: 1
          message: "has 1 replicas"
      - name: sandbox-is-not-matched
        object: samples/sandbox.yaml
        assertions:
        - violations: no
    """)


def suite_dir(tmp_path: Path, suite_text: str = SUITE) -> Path:
    directory = tmp_path / "replicafloor"
    write(directory / "template.yaml", TEMPLATE)
    write(directory / "samples" / "constraint.yaml", CONSTRAINT)
    write(directory / "samples" / "three.yaml", deployment("three", replicas=3))
    write(directory / "samples" / "one.yaml", deployment("one", replicas=1, strategy=False))
    write(directory / "samples" / "default.yaml", deployment("default"))
    write(directory / "samples" / "sandbox.yaml", deployment("toy", namespace="sandbox", replicas=1))
    write(directory / "suite.yaml", suite_text)
    return directory


def test_a_suite_runs_each_case_against_its_template_and_constraint(tmp_path):
    directory = suite_dir(tmp_path)
    cases = suite.run_suite(directory / "suite.yaml", "suite.yaml")
    assert [(c.test, c.case, c.passed) for c in cases] == [
        ("floor-of-two", "three-replicas", True), ("floor-of-two", "one-replica-no-strategy", True),
        ("floor-of-two", "default-replicas", True), ("floor-of-two", "sandbox-is-not-matched", True)]
    assert [a.text for a in cases[1].assertions] == [
        "violations: yes", "violations: 2", "violations: 1, message: fewer than 2",
        "violations: yes, message: ^one names no rollout"]
    result = tdv("test", str(directory), "-v")
    assert result.exit_code == 0, result.output
    assert f"PASS {directory / 'suite.yaml'}  floor-of-two/one-replica-no-strategy" in result.output
    # the suite's constraint is its fixture, not a policy of the directory without cases
    assert result.output.strip().endswith("0 policies, 4 cases: 4 passed, 0 failed")


@pytest.mark.parametrize("change,detail", [
    (("- violations: no", "- violations: 1"), "three-replicas\n     violations: 1: got 0"),
    (("- violations: 2", "- violations: 3"), "one-replica-no-strategy\n     violations: 3: got 2 (one has 1"
                                             " replicas, fewer than 2; one names no rollout strategy)"),
    (('message: "has 1 replicas"', 'message: "has 2 replicas"'),
     "default-replicas\n     violations: 1, message: has 2 replicas: got 0 matching of 1 (default has 1 replicas"),
    (("object: samples/three.yaml", "object: samples/absent.yaml"), "three-replicas\n     cannot read"
                                                                    " samples/absent.yaml"),
])
def test_a_failing_assertion_names_what_it_got(tmp_path, change, detail):
    directory = suite_dir(tmp_path, SUITE.replace(*change))
    result = tdv("test", str(directory))
    assert result.exit_code == 1
    assert f"FAIL {directory / 'suite.yaml'}  floor-of-two/{detail}" in result.output


def test_a_template_that_does_not_load_fails_its_cases_with_the_reason(tmp_path):
    directory = suite_dir(tmp_path)
    write(directory / "template.yaml", TEMPLATE.replace("package replicafloor", "package"))
    result = tdv("test", str(directory))
    assert result.exit_code == 1 and result.output.count("FAIL ") == 4
    assert "cannot load the template and constraint:" in result.output
    assert "the Rego has no package declaration" in result.output


CONFTEST_POLICY = textwrap.dedent("""\
    package main
    import data.lib.names

    deny contains msg if {
      input.kind == "Deployment"
      not names.team_label(input)
      msg := sprintf("%s has no team label", [input.metadata.name])
    }
    """)

CONFTEST_LIB = textwrap.dedent("""\
    package lib.names

    team_label(obj) {
      obj.metadata.labels.team
    }
    """)

CONFTEST_TESTS = textwrap.dedent("""\
    package main

    test_unlabelled_deployment_is_denied if {
      deny["web has no team label"] with input as {"kind": "Deployment", "metadata": {"name": "web"}}
    }

    test_labelled_deployment_passes if {
      count(deny) == 0 with input as {"kind": "Deployment", "metadata": {"name": "web", "labels": {"team": "a"}}}
    }

    test_wrong_expectation if {
      count(deny) == 2 with input as {"kind": "Deployment", "metadata": {"name": "web"}}
    }

    test_an_error if {
      1 / 0 == 1
    }
    """)


def test_conftest_unit_tests_run_with_the_policies_and_their_libraries(tmp_path):
    write(tmp_path / "policy" / "deploy.rego", CONFTEST_POLICY)
    write(tmp_path / "policy" / "deploy_test.rego", CONFTEST_TESTS)
    write(tmp_path / "lib" / "names.rego", CONFTEST_LIB)  # v0 syntax: all run as v0, the others get rego.v1
    result = tdv("test", str(tmp_path), "-v")
    assert result.exit_code == 1
    test_file = tmp_path / "policy" / "deploy_test.rego"
    assert f"PASS {test_file}  test_unlabelled_deployment_is_denied" in result.output
    assert f"PASS {test_file}  test_labelled_deployment_passes" in result.output
    assert (f"FAIL {test_file}  test_wrong_expectation\n     data.main.test_wrong_expectation is undefined,"
            " not true") in result.output
    assert f"FAIL {test_file}  test_an_error\n     error: " in result.output and "divide by zero" in result.output
    assert "1 policy, 4 cases: 2 passed, 2 failed" in result.output  # CONFTEST-MAIN-DENY, tested by the file


def test_rego_tests_of_a_weave_policy_use_the_code_of_its_custom_resource(tmp_path):
    directory = tmp_path / "policies" / "memory"
    write(directory / "policy.yaml", policy())
    write(directory / "tests" / "limit_test.rego", textwrap.dedent("""\
        package team.memory

        case(limit) = {"parameters": {"max_mib": 512, "skip_label": "none"},
                       "review": {"name": "p", "object": {"kind": "Pod", "metadata": {"name": "p"},
                         "spec": {"containers": [{"name": "c", "resources": {"limits": {"memory": limit}}}]}}}}

        test_within_budget {
          count(violation) == 0 with input as case("256Mi")
        }

        test_over_budget {
          violation[{"issue_detected": true, "msg": "container c asks for 1024Mi, over 512Mi",
                     "violating_key": "spec.template.spec.containers[0].resources.limits.memory",
                     "recommended_value": "512Mi"}] with input as case("1024Mi")
        }
        """))
    result = tdv("test", str(tmp_path / "policies"), "-v")
    assert result.exit_code == 0, result.output
    assert "limit_test.rego  test_within_budget" in result.output
    assert "limit_test.rego  test_over_budget" in result.output
    assert result.output.strip().endswith("1 policy, 2 cases: 2 passed, 0 failed")


def test_a_policy_rego_file_beside_the_custom_resource_is_used_once(tmp_path):
    directory = tmp_path / "policies" / "memory"
    text = policy()
    write(directory / "policy.yaml", text)
    code = textwrap.dedent(text.split("  code: |\n", 1)[1])
    write(directory / "policy.rego", code.replace("has no memory limit", "lacks a memory limit"))
    write(directory / "tests" / "message_test.rego", textwrap.dedent("""\
        package team.memory

        test_message_of_the_rego_file {
          some result
          violation[result] with input as {"parameters": {"skip_label": "none"}, "review": {"name": "p",
            "object": {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}}}}
          result.msg == "container c in p lacks a memory limit"
          count(violation) == 1 with input as {"parameters": {"skip_label": "none"}, "review": {"name": "p",
            "object": {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}}}}
        }
        """))
    result = tdv("test", str(tmp_path / "policies"))
    assert result.exit_code == 0, result.output



def test_the_deprecated_re_match_runs_as_regex_match(tmp_path):
    write(tmp_path / "policy" / "names.rego", textwrap.dedent("""\
        package main

        deny[msg] {
          not re_match(`^[a-z-]+$`, input.metadata.name)
          msg := "bad name"
        }
        """))
    write(tmp_path / "policy" / "names_test.rego", textwrap.dedent("""\
        package main

        test_good_name { count(deny) == 0 with input as {"metadata": {"name": "web-x"}} }
        test_bad_name { deny["bad name"] with input as {"metadata": {"name": "Web"}} }
        test_direct_call { re_match(`^a`, "abc") }
        """))
    result = tdv("test", str(tmp_path / "policy"), "-v")
    assert "test_good_name" in result.output and "3 cases: 3 passed, 0 failed" in result.output, result.output
