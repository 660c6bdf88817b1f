"""SARIF output: valid against the OASIS schema and GitHub's copy, and following GitHub's
code-scanning rules that the schemas do not express."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote, urlparse

import jsonschema
import pytest
from sarif_om import Region, Result, Message, Run, Tool, ToolComponent

from validator.fingerprint import for_report
from validator.reporters import FormatOptions, sarif
from validator.reporters.attrs_json import to_json_data

from tests.helpers import load_report, tdv

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"


def render(report) -> dict:
    return json.loads(sarif.render(report, FormatOptions()))


def run_of(report) -> dict:
    log = render(report)
    assert len(log["runs"]) == 1
    return log["runs"][0]


def results_for(run: dict, rule_id: str) -> list[dict]:
    return [r for r in run["results"] if r["ruleId"] == rule_id]


def line_of(text: str, needle: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), 1) if needle in line)


def schema_errors(validator_class, schema_file: str, instance: dict) -> list[str]:
    schema = json.loads((SCHEMAS / schema_file).read_text(encoding="utf-8"))
    if schema_file == "sarif-schema-2.1.0.json":
        # GitHub's copy fails every meta-schema (an `anyOf` sits inside `properties` of
        # `region`), but validates instances fine as draft 7.
        validator_class.check_schema(schema)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator_class(schema).iter_errors(instance)]


# --- schemas -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("validator_class", "schema_file"),
    [
        (jsonschema.Draft4Validator, "sarif-schema-2.1.0.json"),
        # GitHub's copy claims draft 2020-12 but is only valid as draft 7.
        (jsonschema.Draft7Validator, "codeql-action-sarif-schema-2.1.0.json"),
    ],
)
def test_log_is_valid_against_both_schemas(report_with_evaluation_error, validator_class, schema_file):
    log = render(report_with_evaluation_error)
    assert log["version"] == "2.1.0"
    assert schema_errors(validator_class, schema_file, log) == []


def test_schema_check_catches_a_broken_log(report):
    log = render(report)
    del log["runs"][0]["results"][0]["message"]
    assert schema_errors(jsonschema.Draft4Validator, "sarif-schema-2.1.0.json", log)
    assert schema_errors(jsonschema.Draft7Validator, "codeql-action-sarif-schema-2.1.0.json", log)


def test_empty_scan_is_valid(tmp_path, write_file, scan_tree):
    write_file(tmp_path / "ok.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels: {pod-security.kubernetes.io/enforce: restricted}\n")
    log = render(scan_tree(tmp_path, tmp_path / "ok.yaml"))
    assert log["runs"][0]["results"] == []
    assert schema_errors(jsonschema.Draft4Validator, "sarif-schema-2.1.0.json", log) == []


# --- serialiser ----------------------------------------------------------------------------


def test_serialiser_uses_schema_names_and_drops_unset_fields():
    run = Run(tool=Tool(driver=ToolComponent(name="x")), results=[Result(message=Message(text="m"), rule_index=0)])
    assert to_json_data(run) == {
        "tool": {"driver": {"name": "x"}},
        "results": [{"message": {"text": "m"}, "ruleIndex": 0}],
    }
    assert to_json_data(Region(start_line=3, start_column=1)) == {"startLine": 3, "startColumn": 1}


def test_serialiser_writes_named_defaults_when_asked():
    result = Result(message=Message(text="m"), level="warning")
    assert "level" not in to_json_data(result)
    assert to_json_data(result, frozenset({"level"}))["level"] == "warning"


def test_output_has_no_nulls_and_no_python_names(report_with_evaluation_error):
    def walk(node, where="$"):
        if isinstance(node, dict):
            for key, value in node.items():
                yield where, key, value
                yield from walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                yield from walk(value, f"{where}[{index}]")

    entries = list(walk(render(report_with_evaluation_error)))
    assert [(w, k) for w, k, v in entries if v is None] == []
    python_names = {"rule_id", "rule_index", "start_line", "uri_base_id", "physical_location", "schema_uri"}
    assert [(w, k) for w, k, v in entries if k in python_names] == []


# --- tool and rules ------------------------------------------------------------------------


def test_driver_describes_the_tool_and_one_rule_per_policy(report):
    driver = run_of(report)["tool"]["driver"]
    assert driver["name"] == "tdv"
    assert driver["semanticVersion"] == driver["version"]
    assert driver["informationUri"].startswith("https://")
    assert [rule["id"] for rule in driver["rules"]] == [p.id for p in report.policies]


def test_rules_follow_github_rules(report):
    policies = {p.id: p for p in report.policies}
    for rule in run_of(report)["tool"]["driver"]["rules"]:
        policy = policies[rule["id"]]
        assert 0 < len(rule["name"]) <= 255 and rule["name"].isalnum()
        assert rule["shortDescription"]["text"] == policy.title
        assert 0 < len(rule["fullDescription"]["text"]) <= 1024
        assert policy.remediation.strip() in rule["help"]["text"]
        assert policy.remediation.strip() in rule["help"]["markdown"]
        assert rule["helpUri"].startswith("https://")
        assert rule["defaultConfiguration"]["level"] in {"note", "warning", "error"}
        properties = rule["properties"]
        assert 0 < len(properties["tags"]) <= 20
        assert policy.category in properties["tags"]
        assert properties["precision"] in {"very-high", "high", "medium", "low"}
        assert properties["problem.severity"] in {"error", "warning", "recommendation"}
        if "security" in properties["tags"]:
            score = properties["security-severity"]
            assert isinstance(score, str) and 0.1 <= float(score) <= 10.0
        else:
            assert "security-severity" not in properties


def test_rule_severity_mappings(report):
    rules = {rule["id"]: rule for rule in run_of(report)["tool"]["driver"]["rules"]}
    privileged = rules["TDV-K8S-001"]  # critical, pod-security
    assert privileged["name"] == "ContainersMustNotRunPrivileged"
    assert privileged["defaultConfiguration"]["level"] == "error"
    assert privileged["properties"]["problem.severity"] == "error"
    assert float(privileged["properties"]["security-severity"]) > 9.0  # GitHub: critical
    assert "security" in privileged["properties"]["tags"]
    assert "cis-kubernetes" in privileged["properties"]["tags"]
    labels = rules["TDV-K8S-030"]  # info, best-practice
    assert labels["defaultConfiguration"]["level"] == "note"
    assert labels["properties"]["problem.severity"] == "recommendation"
    assert "security" not in labels["properties"]["tags"]


def test_long_descriptions_and_many_tags_are_clipped(tmp_path, manifests, write_file, scan_tree):
    tags = ", ".join(f"tag-{n}" for n in range(25))
    description = " ".join(["Containers share the node kernel."] * 80)
    policy = f"""\
id: TDV-TEST-901
title: {"Very long title words " * 20}
severity: high
category: rbac
description: {description}
remediation: Do less.
tags: [{tags}]
standards:
  internal: ["x"]
targets:
  kinds: [ConfigMap]
validations:
  - expression: "true"
    message: "never"
"""
    write_file(tmp_path / "long" / "TDV-TEST-901.yaml", policy)
    report = scan_tree(tmp_path, manifests, policy_dirs=[tmp_path / "long"], include=["TDV-TEST-901"])
    (rule,) = run_of(report)["tool"]["driver"]["rules"]
    assert len(description) > 1024
    assert len(rule["fullDescription"]["text"]) <= 1024
    assert rule["fullDescription"]["text"].endswith("…")
    assert description in rule["help"]["text"]  # help keeps the whole text
    assert len(rule["properties"]["tags"]) == 20
    assert rule["properties"]["tags"][:2] == ["rbac", "security"]
    assert rule["properties"]["security-severity"] == "8.0"
    assert len(rule["name"]) <= 255


# --- results -------------------------------------------------------------------------------


def test_privileged_container_result(report, app_text):
    run = run_of(report)
    (result,) = results_for(run, "TDV-K8S-001")
    assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == "TDV-K8S-001"
    assert result["level"] == "error"
    assert "container app runs privileged" in result["message"]["text"]
    (location,) = result["locations"]
    physical = location["physicalLocation"]
    assert physical["artifactLocation"] == {"uri": "manifests/app.yaml", "uriBaseId": "%SRCROOT%"}
    assert physical["region"]["startLine"] == line_of(app_text, "privileged: true")
    assert physical["region"]["startColumn"] == app_text.splitlines()[physical["region"]["startLine"] - 1].index("p") + 1
    (logical,) = location["logicalLocations"]
    assert logical["fullyQualifiedName"] == "Deployment/shop/web"
    assert logical["kind"] == "resource"
    assert logical["name"] == "web"
    assert logical["properties"] == {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "shop"}
    assert result["properties"]["field"] == "spec.template.spec.containers[0].securityContext.privileged"
    assert result["properties"]["helmSource"] == "shop/templates/web.yaml"
    assert result["properties"]["blocking"] is True


def test_fingerprint_is_the_shared_one(report):
    failure = next(r for r in report.failures if r.policy.id == "TDV-K8S-001")
    (violation,) = failure.violations
    (result,) = results_for(run_of(report), "TDV-K8S-001")
    expected = for_report(report)[(id(failure), 0)]
    assert result["partialFingerprints"] == {"tdvFingerprint/v2": expected}


def test_configmap_without_labels_is_a_note(report, app_text):
    results = results_for(run_of(report), "TDV-K8S-030")
    by_resource = {r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]: r for r in results}
    configmap = by_resource["ConfigMap/shop/settings"]
    assert configmap["level"] == "note"
    assert configmap["properties"]["blocking"] is False  # info is below the default fail-on (low)
    assert configmap["locations"][0]["physicalLocation"]["region"]["startLine"] == line_of(app_text, "  name: settings") - 1
    assert "helmSource" not in configmap["properties"]
    assert "Secret/shop/creds" not in by_resource  # labelled, so it passed


def test_one_result_per_violation(report):
    run = run_of(report)
    assert len(run["results"]) == sum(len(r.violations) for r in report.failures)


def test_every_result_has_one_relative_location_with_a_line(report):
    for result in run_of(report)["results"]:
        assert result["message"]["text"].strip()
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        uri = physical["artifactLocation"]["uri"]
        assert urlparse(uri).scheme == "" and not uri.startswith("/") and "\\" not in uri
        assert physical["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert physical["region"]["startLine"] >= 1
        assert result["partialFingerprints"]["tdvFingerprint/v2"]


def test_fingerprints_survive_line_shifts(tmp_path, input_tree, scan_tree):
    before_root, after_root = tmp_path / "before", tmp_path / "after"
    before = run_of(scan_tree(before_root, input_tree(before_root)))
    after = run_of(scan_tree(after_root, input_tree(after_root, prefix="\n\n\n")))

    def keyed(run):
        return {
            (r["ruleId"], r["partialFingerprints"]["tdvFingerprint/v2"],
             r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]):
                r["locations"][0]["physicalLocation"]["region"]["startLine"]
            for r in run["results"]
        }

    # Only app.yaml gets the three extra lines; findings in the other inputs keep theirs.
    old, new = keyed(before), keyed(after)
    assert old.keys() == new.keys() and len(old) == len(before["results"])
    assert any(uri.endswith("app.yaml") for _, _, uri in old)
    assert all(new[key] == line + (3 if key[2].endswith("app.yaml") else 0) for key, line in old.items())


def test_paths_with_spaces_are_encoded(tmp_path, write_file, scan_tree):
    write_file(tmp_path / "my app" / "cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    run = run_of(scan_tree(tmp_path, tmp_path / "my app"))
    (result,) = results_for(run, "TDV-K8S-030")
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "my%20app/cm.yaml"


# --- run-level data and errors -------------------------------------------------------------


def test_srcroot_is_the_scan_root(report, tmp_path):
    run = run_of(report)
    uri = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert uri.startswith("file://") and uri.endswith("/")
    assert Path(unquote(urlparse(uri).path)) == tmp_path
    assert run["automationDetails"]["id"] == "tdv/"


def test_input_errors_are_notifications(report):
    (invocation,) = run_of(report)["invocations"]
    assert invocation["executionSuccessful"] is False
    assert invocation["exitCode"] == report.exit_code == 2
    (error,) = report.errors
    (notification,) = [
        n for n in invocation["toolExecutionNotifications"] if "manifests/broken.yaml" in n["message"]["text"]
    ]
    assert notification["level"] == "error"
    assert f"manifests/broken.yaml:{error.line}:" in notification["message"]["text"]
    physical = notification["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"] == {"uri": "manifests/broken.yaml", "uriBaseId": "%SRCROOT%"}
    assert physical["region"]["startLine"] == error.line


def test_evaluation_errors_are_notifications(report_with_evaluation_error):
    run = run_of(report_with_evaluation_error)
    notifications = run["invocations"][0]["toolExecutionNotifications"]
    (notification,) = [n for n in notifications if n.get("associatedRule", {}).get("id") == "TDV-TEST-900"]
    assert notification["level"] == "error"
    text = notification["message"]["text"]
    assert text.startswith("manifests/app.yaml:") and "TDV-TEST-900" in text and "Deployment/shop/web" in text
    rules = run["tool"]["driver"]["rules"]
    assert rules[notification["associatedRule"]["index"]]["id"] == "TDV-TEST-900"
    assert not results_for(run, "TDV-TEST-900")


def test_clean_scan_is_successful(tmp_path, write_file, scan_tree):
    write_file(tmp_path / "ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels: {pod-security.kubernetes.io/enforce: restricted}\n")
    (invocation,) = run_of(scan_tree(tmp_path, tmp_path / "ns.yaml"))["invocations"]
    assert invocation["executionSuccessful"] is True
    assert invocation["exitCode"] == 0
    assert "toolExecutionNotifications" not in invocation


def test_no_secret_values_in_output(report_with_evaluation_error, secrets):
    text = sarif.render(report_with_evaluation_error, FormatOptions())
    for secret in secrets:
        assert secret not in text


# --- command line --------------------------------------------------------------------------


def test_cli_writes_sarif_and_junit(tmp_path, manifests, secrets):
    out = tmp_path / "out"
    result = tdv("scan", str(manifests), "--root", str(tmp_path),
                 "-o", f"sarif={out / 'tdv.sarif'}", "-o", f"junit={out / 'tdv.xml'}")
    assert result.exit_code == 2, result.output  # the broken file is an input error
    log = load_report(out / "tdv.sarif", "sarif")
    assert schema_errors(jsonschema.Draft4Validator, "sarif-schema-2.1.0.json", log) == []
    assert schema_errors(jsonschema.Draft7Validator, "codeql-action-sarif-schema-2.1.0.json", log) == []
    run = log["runs"][0]
    assert {r["ruleId"] for r in run["results"]} >= {"TDV-K8S-001", "TDV-K8S-030"}
    assert run["invocations"][0]["exitCode"] == 2
    assert (out / "tdv.xml").read_text(encoding="utf-8").lstrip().startswith("<?xml")
    for secret in secrets:
        assert secret not in (out / "tdv.sarif").read_text(encoding="utf-8")


def test_cloud_risks_are_security_alerts_with_a_severity():
    """GitHub files a rule as a security alert only when it carries security-severity: public
    buckets, admin IAM policies and unencrypted secrets are security risks too."""
    from validator.engine.library import load_policies

    rules = {p.id: sarif.rule(p) for p in load_policies([])}
    for policy_id in ("TDV-AWS-001", "TDV-AWS-010", "TDV-AWS-027", "TDV-K8S-018"):
        properties = rules[policy_id].properties
        assert "security" in properties.tags and float(properties.security_severity) > 0, policy_id
    for policy in load_policies([]):
        if policy.category in {"data-protection", "identity", "logging"} or any(
                name.startswith("cis-") for name in policy.standards):
            assert rules[policy.id].properties.security_severity, policy.id
    assert rules["TDV-K8S-030"].properties.security_severity is None  # labels: not a security rule
