"""Reports are never inputs: the files this run writes (-o FORMAT=FILE), and SARIF, tdv JSON,
GitLab SAST and Code Quality reports left in the tree (recognised by their content)."""

import json

import pytest

from validator.sources.recognise import report_format

from tests.helpers import load_report, tdv


@pytest.mark.parametrize("name,file", [("json", "tdv.json"), ("sarif", "tdv.sarif.json"),
                                       ("codequality", "gl-code-quality-report.json"),
                                       ("gitlab-sast", "gl-sast-report.json")])
def test_a_report_left_in_the_tree_is_skipped(project, name, file):
    first = tdv("scan", ".", "--policy", "TDV-K8S-001", "-o", name)
    assert first.exit_code == 1
    (project / file).write_text(first.stdout)
    again = tdv("scan", ".", "--policy", "TDV-K8S-001", "-o", name, "-v")
    assert again.exit_code == 1, again.output
    if name == "json":
        assert json.loads(again.stdout)["summary"] == json.loads(first.stdout)["summary"]
    assert f"tdv: {file}: not scanned: a " in again.stderr


def test_the_files_this_run_writes_are_not_inputs(project):
    (project / "out.json").write_text('{"half a report": ')  # an interrupted run's
    result = tdv("scan", ".", "--policy", "TDV-K8S-001", "-o", "json=out.json", "-v")
    assert result.exit_code == 1, result.output
    assert "tdv: out.json: not scanned: this scan writes a report there" in result.stderr
    assert load_report(project / "out.json")["summary"]["files"] == 1


OTHER_SARIF = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
               "runs": [{"tool": {"driver": {"name": "other"}}, "results": []}]}
OTHER_SAST = {"version": "15.0.7", "vulnerabilities": [], "scan": {"type": "sast"}}
CODE_QUALITY = [{"description": "x", "check_name": "c", "fingerprint": "f", "severity": "minor",
                 "location": {"path": "a.yaml", "lines": {"begin": 1}}}]


@pytest.mark.parametrize("data,expected", [
    (OTHER_SARIF, "SARIF log"),
    ({"version": "2.1.0", "runs": []}, "SARIF log"),
    (OTHER_SAST, "GitLab security report"),
    (CODE_QUALITY, "GitLab Code Quality report"),
    ({"schemaVersion": "1.1", "tool": {"name": "tdv"}, "summary": {}}, "tdv JSON report"),
])
def test_reports_of_other_tools_are_recognised(data, expected):
    assert report_format(json.dumps(data, indent=2)) == expected


@pytest.mark.parametrize("data", [
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "runs"}, "data": {"runs": "[]", "version": "2.1.0"}},
    {"apiVersion": "v1", "kind": "List", "items": [{"check_name": "x", "location": {}, "description": ""}]},
    {"format_version": "1.2", "planned_values": {"root_module": {}}, "runs": []},
    {"apiVersion": "v1", "kind": "ConfigMap", "vulnerabilities": [], "version": "1"},
    [],
])
def test_inputs_are_not_taken_for_reports(data):
    assert report_format(json.dumps(data)) is None


def test_yaml_is_never_parsed_as_a_report():
    assert report_format('runs: []\nversion: "2.1.0"\n') is None
