"""GitLab reports: SAST (`-o gitlab-sast`) and Code Quality (`-o codequality`).

The SAST report is validated against GitLab's own security report schema, version 15.0.7
(`tests/integrations/schemas/gitlab-sast-report-format-15.0.7.json`, copied from
gitlabhq/gitlabhq, see tests/SOURCES.tsv). GitLab publishes no JSON schema for Code Quality
reports, so those are checked against the fields its documentation lists: a JSON array
without BOM of issues with `description`, `check_name`, `fingerprint`, `severity` (info,
minor, major, critical or blocker) and a relative `location.path` with `location.lines.begin`.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import jsonschema
import pytest

from validator.reporters import FormatOptions, codequality, gitlab_sast

from tests.helpers import load_report, tdv

SAST_SCHEMA = Path(__file__).resolve().parent.parent / "integrations" / "schemas" / "gitlab-sast-report-format-15.0.7.json"
CODE_QUALITY_SEVERITIES = {"info", "minor", "major", "critical", "blocker"}
OPTIONS = FormatOptions()


def sast(report) -> dict:
    return json.loads(gitlab_sast.render(report, OPTIONS))


def quality(report) -> list[dict]:
    text = codequality.render(report, OPTIONS)
    assert text.startswith("[")  # one array, no BOM
    return json.loads(text)


def findings(report) -> list[tuple]:
    return [(r, v) for r in report.failures for v in r.violations]


@pytest.fixture(scope="module")
def sast_validator():
    schema = json.loads(SAST_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())


# --- SAST ---------------------------------------------------------------------------------

def test_sast_report_is_valid_against_gitlab_schema(report, report_with_evaluation_error, sast_validator):
    for each in (report, report_with_evaluation_error):
        errors = sorted(sast_validator.iter_errors(sast(each)), key=str)
        assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_sast_schema_check_catches_a_broken_report(report, sast_validator):
    data = sast(report)
    data["scan"]["type"] = "dast"
    del data["vulnerabilities"][0]["identifiers"]
    assert len(list(sast_validator.iter_errors(data))) == 2


def test_sast_has_one_vulnerability_per_finding(report):
    data = sast(report)
    vulnerabilities = data["vulnerabilities"]
    assert len(vulnerabilities) == len(findings(report)) > 0
    expected = sorted((v.location.path, v.location.line, r.policy.id) for r, v in findings(report))
    got = sorted((x["location"]["file"], x["location"]["start_line"], x["identifiers"][0]["value"])
                 for x in vulnerabilities)
    assert got == expected
    assert len({x["id"] for x in vulnerabilities}) == len(vulnerabilities)
    for item in vulnerabilities:
        uuid.UUID(item["id"])
        assert item["name"] and item["description"] and item["solution"]


def test_sast_fields(report):
    data = sast(report)
    assert data["version"] == "15.0.7"
    scan = data["scan"]
    assert scan["type"] == "sast" and scan["analyzer"]["id"] == scan["scanner"]["id"] == "tdv"
    assert scan["start_time"] <= scan["end_time"]
    privileged = next(x for x in data["vulnerabilities"] if x["identifiers"][0]["value"] == "TDV-K8S-001")
    assert privileged["severity"] == "Critical"
    assert privileged["identifiers"][0]["type"] == "tdv_policy"
    assert privileged["identifiers"][0]["url"].startswith("https://")
    assert {"type": "cis-kubernetes", "name": "cis-kubernetes 5.2.2", "value": "5.2.2"} in privileged["identifiers"]


def test_sast_ids_survive_line_shifts(tmp_path, input_tree, scan_tree):
    before = sast(scan_tree(tmp_path / "a", input_tree(tmp_path / "a")))["vulnerabilities"]
    after = sast(scan_tree(tmp_path / "b", input_tree(tmp_path / "b", prefix="# moved\n" * 7)))["vulnerabilities"]
    assert {x["id"] for x in before} == {x["id"] for x in after}
    assert [x["location"]["start_line"] for x in before] != [x["location"]["start_line"] for x in after]


def test_sast_reports_bad_input_as_failed_scan_naming_the_file(report_with_evaluation_error):
    scan = sast(report_with_evaluation_error)["scan"]
    assert scan["status"] == "failure"
    values = [m["value"] for m in scan["messages"]]
    assert any(v.startswith("manifests/broken.yaml:") for v in values)
    assert any("TDV-TEST-900 could not be evaluated" in v for v in values)


def test_sast_clean_scan_succeeds(tmp_path, write_file, scan_tree):
    manifest = write_file(tmp_path / "cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n")
    data = sast(scan_tree(tmp_path, manifest, include=["TDV-K8S-001"]))
    assert data["scan"]["status"] == "success" and "messages" not in data["scan"]
    assert data["vulnerabilities"] == []


# --- Code Quality -------------------------------------------------------------------------

def test_code_quality_issues_have_the_documented_fields(report_with_evaluation_error):
    issues = quality(report_with_evaluation_error)
    assert issues
    for issue in issues:
        assert {"description", "check_name", "fingerprint", "severity", "location"} <= issue.keys()
        assert all(isinstance(issue[k], str) and issue[k] for k in ("description", "check_name", "fingerprint"))
        assert issue["severity"] in CODE_QUALITY_SEVERITIES
        path, begin = issue["location"]["path"], issue["location"]["lines"]["begin"]
        assert path and not path.startswith("/") and isinstance(begin, int) and begin >= 1
    fingerprints = [issue["fingerprint"] for issue in issues]
    assert len(set(fingerprints)) == len(fingerprints)


def test_code_quality_has_one_issue_per_finding_with_mapped_severity(report):
    issues = [i for i in quality(report) if i["check_name"].startswith("TDV-")]
    expected = sorted((v.location.path, v.location.line, r.policy.id) for r, v in findings(report))
    assert sorted((i["location"]["path"], i["location"]["lines"]["begin"], i["check_name"]) for i in issues) == expected
    privileged = next(i for i in issues if i["check_name"] == "TDV-K8S-001")
    assert privileged["severity"] == "blocker"


def test_code_quality_lists_input_and_evaluation_errors(report_with_evaluation_error):
    issues = quality(report_with_evaluation_error)
    broken = [i for i in issues if i["check_name"] == codequality.INPUT_ERROR]
    assert [i["location"]["path"] for i in broken] == ["manifests/broken.yaml"]
    evaluation = [i for i in issues if i["check_name"] == codequality.EVALUATION_ERROR]
    assert len(evaluation) == 1 and "TDV-TEST-900" in evaluation[0]["description"]


def test_code_quality_fingerprints_survive_line_shifts(tmp_path, input_tree, scan_tree):
    before = quality(scan_tree(tmp_path / "a", input_tree(tmp_path / "a")))
    after = quality(scan_tree(tmp_path / "b", input_tree(tmp_path / "b", prefix="# moved\n" * 7)))
    assert {i["fingerprint"] for i in before} == {i["fingerprint"] for i in after}


# --- Both ---------------------------------------------------------------------------------

def test_no_secret_values_in_either_report(report, secrets):
    for text in (gitlab_sast.render(report, OPTIONS), codequality.render(report, OPTIONS)):
        for secret in secrets:
            assert secret not in text


def test_cli_writes_both_reports(tmp_path, input_tree, sast_validator):
    manifests = input_tree(tmp_path)
    out = tmp_path / "reports"
    result = tdv("scan", str(manifests), "--root", str(tmp_path),
                 "-o", f"gitlab-sast={out / 'gl-sast-report.json'}", "-o", f"codequality={out / 'gl-code-quality.json'}")
    assert result.exit_code == 2, result.output  # broken.yaml is an input error; the rest is still scanned
    data = load_report(out / "gl-sast-report.json")
    assert not list(sast_validator.iter_errors(data)) and data["vulnerabilities"]
    assert load_report(out / "gl-code-quality.json")
