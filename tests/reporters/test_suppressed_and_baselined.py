"""Suppressed and baselined findings in every format: reported as such, never dropped
silently, never blocking; new findings still block."""

from __future__ import annotations

import json
import textwrap
from datetime import date
from pathlib import Path

import jsonschema
import pytest
import xmlschema

from validator.config import load_config
from validator.reporters import FormatOptions, codequality, console, gitlab_sast, json_report, junit, markdown, sarif

from tests.helpers import load_report

TESTS = Path(__file__).resolve().parent.parent
REPORT_SCHEMA = TESTS.parent / "validator" / "schemas" / "report-v1.schema.json"

WEB = textwrap.dedent("""\
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
      namespace: shop
    spec:
      template:
        metadata:
          annotations:
            tdv.dev/skip: "TDV-K8S-022: the tag is pinned by the release pipeline"
        spec:
          containers:
            - name: app
              image: nginx:latest
              securityContext: {privileged: true}
    """)
SECOND_CONTAINER = textwrap.indent(textwrap.dedent("""\
    - name: debug
      image: busybox:1.36
      securityContext: {privileged: true}
    """), "        ")
DB = textwrap.dedent("""\
    apiVersion: apps/v1
    kind: StatefulSet
    metadata: {name: db, namespace: shop}
    spec:
      template:
        spec:
          containers:
            - name: postgres
              image: postgres:16
              securityContext: {privileged: true}
    """)
CONFIG = textwrap.dedent("""\
    policies: {include: [TDV-K8S-001, TDV-K8S-022]}
    exemptions:
      - policy: TDV-K8S-001
        kind: StatefulSet
        name: db
        reason: the storage driver needs privileged mode
        owner: dba-team
        expires: 2030-12-31
      - policy: TDV-K8S-022
        name: db
        reason: old exemption
        owner: dba-team
        expires: 2020-01-01
    """)


@pytest.fixture(autouse=True)
def in_repository(tmp_path, monkeypatch):
    """Run from the scanned tree, as CI does: baseline paths are shown relative to it."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def mixed(tmp_path, write_file, scan_tree):
    """One finding in the baseline, one new, one suppressed in source, one by the config."""
    config_path = write_file(tmp_path / ".tdv.yaml", CONFIG)
    manifests = tmp_path / "manifests"
    write_file(manifests / "web.yaml", WEB)
    write_file(manifests / "db.yaml", DB)
    config = load_config(config_path, ".tdv.yaml")
    options = dict(config=config, today=date(2030, 1, 1))
    scan_tree(tmp_path, manifests, write_baseline=tmp_path / "baseline.json", **options)
    write_file(manifests / "web.yaml", WEB + SECOND_CONTAINER)
    return scan_tree(tmp_path, manifests, baseline=tmp_path / "baseline.json", **options)


def by_state(findings: list[dict]) -> dict[str, list[str]]:
    states: dict[str, list[str]] = {}
    for finding in findings:
        states.setdefault(finding.get("baseline", "-"), []).append(finding["message"])
    return states


def test_the_scan_fails_on_the_new_finding_only(mixed):
    counts = mixed.counts()
    assert (counts["new"], counts["baselined"], counts["suppressed"]) == (1, 1, 2)
    assert mixed.exit_code == 1
    [new] = [(r, v) for r in mixed.failures for v in r.violations if mixed.blocks(r, v)]
    assert "container debug runs privileged" in new[1].message


def test_json_is_valid_and_lists_suppressed_findings_apart(mixed):
    report = json.loads(json_report.render(mixed, FormatOptions()))
    jsonschema.Draft202012Validator(json.loads(REPORT_SCHEMA.read_text())).validate(report)
    assert report["schemaVersion"] == "1.1"
    assert by_state(report["findings"]) == {"new": ["container debug runs privileged"],
                                            "unchanged": ["container app runs privileged"]}
    assert {f["message"]: f["blocking"] for f in report["findings"]} == {
        "container debug runs privileged": True, "container app runs privileged": False}
    suppressed = {f["policyId"]: f["suppression"] for f in report["suppressed"]}
    assert suppressed["TDV-K8S-022"] == {"kind": "inSource", "reason": "the tag is pinned by the release pipeline",
                                         "location": {"path": "manifests/web.yaml", "line": 10}}
    assert suppressed["TDV-K8S-001"] == {"kind": "external", "reason": "the storage driver needs privileged mode",
                                         "location": {"path": ".tdv.yaml", "line": 3}, "owner": "dba-team",
                                         "expires": "2030-12-31"}
    assert all(not f["blocking"] for f in report["suppressed"])
    summary = report["summary"]
    assert (summary["findings"], summary["suppressed"]) == (2, 2)
    assert summary["baseline"] == {"path": "baseline.json", "new": 1, "unchanged": 1, "absent": 0}
    assert [w["line"] for w in report["warnings"]] == [9]
    stats = {p["id"]: p for p in report["policies"]}
    assert (stats["TDV-K8S-001"]["failed"], stats["TDV-K8S-001"]["suppressed"]) == (1, 1)


def test_json_without_any_of_it_is_still_a_valid_report(report):
    data = json.loads(json_report.render(report, FormatOptions()))
    jsonschema.Draft202012Validator(json.loads(REPORT_SCHEMA.read_text())).validate(data)
    assert data["suppressed"] == [] and data["warnings"] == [] and "baseline" not in data["summary"]
    assert all("baseline" not in f and "suppression" not in f for f in data["findings"])


@pytest.mark.parametrize(("validator_class", "schema_file"), [
    (jsonschema.Draft4Validator, "sarif-schema-2.1.0.json"),
    (jsonschema.Draft7Validator, "codeql-action-sarif-schema-2.1.0.json"),
])
def test_sarif_is_valid(mixed, validator_class, schema_file):
    log = json.loads(sarif.render(mixed, FormatOptions()))
    validator_class(json.loads((TESTS / "schemas" / schema_file).read_text())).validate(log)


def test_sarif_marks_suppressions_and_baseline_states(mixed):
    run = json.loads(sarif.render(mixed, FormatOptions()))["runs"][0]
    results = run["results"]
    assert len(results) == 4
    suppressed = {r["ruleId"]: r["suppressions"] for r in results if "suppressions" in r}
    assert suppressed["TDV-K8S-022"] == [{
        "kind": "inSource", "status": "accepted", "justification": "the tag is pinned by the release pipeline",
        "location": {"physicalLocation": {"artifactLocation": {"uri": "manifests/web.yaml", "uriBaseId": "%SRCROOT%"},
                                          "region": {"startLine": 10}}}}]
    [external] = suppressed["TDV-K8S-001"]
    assert (external["kind"], external["status"], external["properties"]) == (
        "external", "accepted", {"owner": "dba-team", "expires": "2030-12-31"})
    active = [r for r in results if "suppressions" not in r]
    assert sorted((r["baselineState"], r["properties"]["blocking"]) for r in active) == [
        ("new", True), ("unchanged", False)]
    assert all("baselineState" not in r for r in results if "suppressions" in r)
    [warning] = run["invocations"][0]["toolExecutionNotifications"]
    assert warning["level"] == "warning" and "expired on 2020-01-01" in warning["message"]["text"]


def test_junit_skips_suppressed_and_baselined_checks_and_fails_new_ones(mixed):
    text = junit.render(mixed, FormatOptions())
    xmlschema.XMLSchema(TESTS / "schemas" / "junit-10-with-file.xsd").validate(text)
    cases = {(c.get("classname"), c.get("name").split(" in ")[0]): c
             for c in load_report(text, "junit").iter("testcase")}
    exempted = cases[("tdv.TDV-K8S-001", "StatefulSet/shop/db")].find("skipped")
    assert exempted.get("message") == "suppressed: the storage driver needs privileged mode"
    assert "suppressed by .tdv.yaml:3" in exempted.text
    annotated = cases[("tdv.TDV-K8S-022", "Deployment/shop/web")].find("skipped")
    assert annotated.get("message") == "suppressed: the tag is pinned by the release pipeline"
    failure = cases[("tdv.TDV-K8S-001", "Deployment/shop/web")].find("failure")
    assert failure.get("message") == "container debug runs privileged"
    assert "container app runs privileged  (baselined)" in failure.text


def test_junit_check_with_only_baselined_findings_is_skipped(tmp_path, write_file, scan_tree):
    write_file(tmp_path / "m" / "db.yaml", DB)
    scan_tree(tmp_path, tmp_path / "m", include=["TDV-K8S-001"], write_baseline=tmp_path / "b.json")
    report = scan_tree(tmp_path, tmp_path / "m", include=["TDV-K8S-001"], baseline=tmp_path / "b.json")
    [case] = load_report(junit.render(report, FormatOptions()), "junit").iter("testcase")
    assert case.find("skipped").get("message") == "baselined: 1 known finding recorded in b.json"
    assert case.find("failure") is None


def test_console_lists_new_findings_and_counts_the_rest(mixed):
    text = console.render(mixed, FormatOptions())
    assert "container debug runs privileged" in text and "container app runs privileged" not in text
    assert "storage driver" not in text
    assert "1 new finding (1 critical); 1 baselined; 2 suppressed;" in text
    assert "warning: .tdv.yaml:9: exemption of TDV-K8S-022 (owner: dba-team) expired on 2020-01-01" in text
    assert "settings from .tdv.yaml" in text


def test_verbose_console_lists_suppressed_and_baselined_findings(mixed):
    text = console.render(mixed, FormatOptions(verbose=True))
    assert "container app runs privileged  [Deployment/shop/web]  (baselined)" in text
    assert ("suppressed: the storage driver needs privileged mode (.tdv.yaml:3, owner dba-team, until 2030-12-31)"
            in text)
    assert "suppressed: the tag is pinned by the release pipeline (manifests/web.yaml:10)" in text


def test_console_names_baseline_findings_no_longer_found(tmp_path, write_file, scan_tree):
    write_file(tmp_path / "m" / "db.yaml", DB)
    scan_tree(tmp_path, tmp_path / "m", include=["TDV-K8S-001"], write_baseline=tmp_path / "b.json")
    write_file(tmp_path / "m" / "db.yaml", DB.replace("privileged: true", "privileged: false"))
    report = scan_tree(tmp_path, tmp_path / "m", include=["TDV-K8S-001"], baseline=tmp_path / "b.json")
    text = console.render(report, FormatOptions())
    assert "1 finding of the baseline b.json is no longer found; refresh it with --write-baseline." in text
    verbose = console.render(report, FormatOptions(verbose=True))
    assert "TDV-K8S-001  container postgres runs privileged  [StatefulSet/shop/db]" in verbose


def test_markdown_lists_new_findings_and_says_what_it_leaves_out(mixed):
    text = markdown.render(mixed, FormatOptions())
    assert "tdv failed: 1 new finding, 1 blocking" in text
    assert "container debug runs privileged" in text and "container app runs privileged" not in text
    assert "Not listed: 1 in the baseline; 2 suppressed; 1 warning" in text


def test_gitlab_formats_leave_out_suppressed_findings_and_keep_baselined_ones(mixed):
    sast = gitlab_sast.build(mixed)
    assert sorted(v["description"].split(" (")[0] for v in sast["vulnerabilities"]) == [
        "container app runs privileged", "container debug runs privileged"]
    issues = codequality.build(mixed)
    assert sorted(i["check_name"] for i in issues) == ["TDV-K8S-001", "TDV-K8S-001"]
