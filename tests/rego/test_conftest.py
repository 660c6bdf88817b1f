"""conftest `.rego` files in a policy directory: deny, violation and warn rules judge each document."""

import json
import textwrap
from pathlib import Path

import pytest

from validator.engine.library import load_each, load_policies
from validator.engine.policy import PolicyError
from validator.model import Severity

from tests.helpers import tdv

pytest.importorskip("regorus", reason="the Rego extra is not installed (pip install '.[rego]')")

V0 = textwrap.dedent("""\
    package main
    import data.helpers.image_tag

    deny[msg] {
      input.kind == "Deployment"
      not input.spec.template.spec.securityContext.runAsNonRoot
      msg := sprintf("Deployment %s must run as non-root", [input.metadata.name])
    }

    violation_replicas[{"msg": msg, "field": "spec.replicas"}] {
      input.spec.replicas > 5
      msg := sprintf("%s asks for %d replicas", [input.metadata.name, input.spec.replicas])
    }

    warn[msg] {
      c := input.spec.template.spec.containers[_]
      image_tag(c.image) == "latest"
      msg := sprintf("container %s uses the latest tag", [c.name])
    }
    """)

HELPERS_V1 = textwrap.dedent("""\
    package helpers

    image_tag(image) := tag if {
      parts := split(image, ":")
      count(parts) > 1
      tag := parts[count(parts) - 1]
    }
    """)

UNIT_TEST = "package main\n\ntest_nothing if { true }\n"

MANIFESTS = textwrap.dedent("""\
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      replicas: 8
      template:
        spec:
          containers:
            - {name: app, image: "shop/web:latest"}
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: api}
    spec:
      replicas: 2
      template:
        spec:
          securityContext: {runAsNonRoot: true}
          containers:
            - {name: app, image: "shop/api:1.4"}
    """)


def policy_dir(tmp_path: Path, **files: str) -> Path:
    directory = tmp_path / "rego"
    directory.mkdir(exist_ok=True)
    for name, text in files.items():
        (directory / f"{name}.rego").write_text(text)
    return directory


def scan(tmp_path: Path, directory: Path):
    (tmp_path / "app.yaml").write_text(MANIFESTS)
    result = tdv("scan", str(tmp_path / "app.yaml"), "--policies", str(directory), "--policy", "CONFTEST-*",
                 "-o", "json")
    return result, json.loads(result.stdout)


def test_deny_and_warn_rules_become_two_policies(tmp_path):
    deny, warn = load_policies([policy_dir(tmp_path, main=V0, helpers=HELPERS_V1, main_test=UNIT_TEST)],
                               include_builtin=False)
    assert (deny.id, deny.severity, warn.id, warn.severity) == (
        "CONFTEST-MAIN-DENY", Severity.HIGH, "CONFTEST-MAIN-WARN", Severity.INFO)
    assert [r.query for r in deny.rules] == ["data.main.deny", "data.main.violation_replicas"]
    assert [name for name, _ in deny.modules] == [str(tmp_path / "rego" / f) for f in ("helpers.rego", "main.rego")]


def test_each_document_is_the_input(tmp_path):
    result, report = scan(tmp_path, policy_dir(tmp_path, main=V0, helpers=HELPERS_V1))
    assert result.exit_code == 1
    found = sorted((f["policyId"], f["resource"]["ref"], f["message"], f["location"]["line"], f["severity"])
                   for f in report["findings"])
    assert found == [
        ("CONFTEST-MAIN-DENY", "Deployment/web", "Deployment web must run as non-root", 1, "high"),
        ("CONFTEST-MAIN-DENY", "Deployment/web", "web asks for 8 replicas", 5, "high"),  # at its `field`
        ("CONFTEST-MAIN-WARN", "Deployment/web", "container app uses the latest tag", 1, "info"),
    ]
    assert report["summary"]["passed"] == 2  # api passes both


def test_warn_alone_does_not_fail_the_build(tmp_path):
    only_warn = V0[:V0.index("deny[msg]")] + V0[V0.index("warn[msg]"):]
    result, report = scan(tmp_path, policy_dir(tmp_path, main=only_warn, helpers=HELPERS_V1))
    assert result.exit_code == 0 and [f["severity"] for f in report["findings"]] == ["info"]


def test_other_packages_are_libraries_only(tmp_path):
    other = V0.replace("package main", "package team")
    assert load_each([policy_dir(tmp_path, team=other, helpers=HELPERS_V1)], include_builtin=False) == []


def test_a_file_that_does_not_compile_is_an_error_naming_it(tmp_path):
    directory = policy_dir(tmp_path, main=V0, helpers=HELPERS_V1, broken="package main\ndeny[msg] {\n")
    entries = load_each([directory], include_builtin=False)
    errors = [e for e in entries if isinstance(e, PolicyError)]
    assert len(errors) == 1 and "broken.rego" in str(errors[0]) and "Rego does not compile" in str(errors[0])
    assert {e.id for e in entries if not isinstance(e, PolicyError)} == {"CONFTEST-MAIN-DENY", "CONFTEST-MAIN-WARN"}


def test_terraform_resources_are_left_alone(tmp_path):
    (tmp_path / "main.tf").write_text('resource "aws_s3_bucket" "logs" {\n  bucket = "logs"\n}\n')
    directory = policy_dir(tmp_path, main='package main\n\ndeny contains "no labels" if { not input.metadata.labels }\n')
    result = tdv("scan", str(tmp_path / "main.tf"), "--policies", str(directory), "--policy", "CONFTEST-*",
                 "-o", "json")
    report = json.loads(result.stdout)
    assert result.exit_code == 0 and report["findings"] == [] and report["summary"]["errors"] == 0


def test_conftest_namespace_picks_other_packages(tmp_path):
    directory = policy_dir(tmp_path, main=V0, helpers=HELPERS_V1, team=V0.replace("package main", "package team"))
    (tmp_path / "app.yaml").write_text(MANIFESTS)
    result = tdv("scan", str(tmp_path / "app.yaml"), "--policies", str(directory), "--conftest-namespace", "team",
                 "--policy", "CONFTEST-*", "-o", "json")
    report = json.loads(result.stdout)
    assert {f["policyId"] for f in report["findings"]} == {"CONFTEST-TEAM-DENY", "CONFTEST-TEAM-WARN"}
    both = load_policies([directory], include_builtin=False, conftest_namespaces=("main", "team"))
    assert [p.id for p in both] == ["CONFTEST-MAIN-DENY", "CONFTEST-MAIN-WARN", "CONFTEST-TEAM-DENY",
                                    "CONFTEST-TEAM-WARN"]
