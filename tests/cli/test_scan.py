"""`tdv scan`: exit codes, policy selection, outputs and paths."""

import textwrap

import pytest

from tests.builders import WEB_LABELS, container, manifest, pod
from tests.helpers import load_report, tdv, tdv_json

PRIVILEGED = manifest(pod(namespace="shop", labels=WEB_LABELS,
                             containers=[container(security_context={"privileged": True})]))

UNLABELLED = textwrap.dedent("""\
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: settings
      namespace: shop
    """)


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "pod.yaml").write_text(PRIVILEGED)
    (tmp_path / "deploy" / "config.yaml").write_text(UNLABELLED)
    return tmp_path


def scan(*args, input=None):
    return tdv("scan", *args, input=input)


def test_findings_fail_the_build_with_exit_1(workdir):
    result = scan("deploy/", "--policy", "TDV-K8S-001")
    assert result.exit_code == 1
    assert "deploy/pod.yaml:14:9" in result.output
    assert "TDV-K8S-001" in result.output and "container app runs privileged" in result.output


def test_clean_input_exits_0(workdir):
    result = scan("deploy/config.yaml", "--policy", "TDV-K8S-001")
    assert result.exit_code == 0, result.output
    assert "0 findings" in result.output


def test_fail_on_threshold(workdir):
    # TDV-K8S-030 is info: it is reported but only blocks with --fail-on info.
    assert scan("deploy/config.yaml", "--policy", "TDV-K8S-030").exit_code == 0
    assert scan("deploy/config.yaml", "--policy", "TDV-K8S-030", "--fail-on", "info").exit_code == 1
    assert scan("deploy/pod.yaml", "--policy", "TDV-K8S-001", "--fail-on", "critical").exit_code == 1


def test_soft_fail_exits_0_unless_input_errors(workdir):
    assert scan("deploy/", "--soft-fail").exit_code == 0
    (workdir / "deploy" / "broken.yaml").write_text("a: [1,\n")
    assert scan("deploy/", "--soft-fail").exit_code == 2


def test_input_error_exits_2_and_other_files_are_scanned(workdir):
    (workdir / "deploy" / "broken.yaml").write_text("kind: Pod\nmetadata: {name: x\n")
    result, report = tdv_json("scan", "deploy/")
    assert result.exit_code == 2
    assert [e["path"] for e in report["errors"]] == ["deploy/broken.yaml"]
    assert {f["policyId"] for f in report["findings"]} >= {"TDV-K8S-001", "TDV-K8S-030"}


def test_policy_and_skip_policy_globs(workdir):
    _, report = tdv_json("scan", "deploy/", "--policy", "tdv-k8s-0*", "--skip-policy", "TDV-K8S-03?")
    ids = {p["id"] for p in report["policies"]}
    assert "TDV-K8S-001" in ids and not any(i.startswith("TDV-K8S-03") for i in ids)


def test_no_policy_selected_is_a_usage_error(workdir):
    result = scan("deploy/", "--policy", "NOPE-*")
    assert result.exit_code == 2
    assert "no policies selected" in result.output


def test_min_severity_hides_lower_findings(workdir):
    _, report = tdv_json("scan", "deploy/", "--min-severity", "high")
    assert report["findings"] and all(f["severity"] in ("high", "critical") for f in report["findings"])


def test_stdin(workdir):
    result, report = tdv_json("scan", "-", "--policy", "TDV-K8S-001", input=PRIVILEGED)
    assert result.exit_code == 1
    assert report["findings"][0]["location"] == {"path": "<stdin>", "line": 14, "column": 9}


def test_several_outputs_at_once(workdir):
    result = scan("deploy/", "-o", "console", "-o", "json=out/report.json")
    assert result.exit_code == 1
    assert "finding" in result.output
    assert load_report(workdir / "out" / "report.json")["summary"]["findings"] >= 2


def test_unknown_output_format_is_a_usage_error(workdir):
    result = scan("deploy/", "-o", "yaml")
    assert result.exit_code == 2
    assert "unknown output format 'yaml'" in result.output


def test_only_one_output_may_use_stdout(workdir):
    result = scan("deploy/", "-o", "console", "-o", "json")
    assert result.exit_code == 2


def test_missing_path_is_an_input_error(workdir):
    result = scan("nope.yaml")
    assert result.exit_code == 2
    assert "nope.yaml: no such file or directory" in result.output


def test_paths_relative_to_root(workdir):
    _, report = tdv_json("scan", str(workdir / "deploy" / "pod.yaml"), "--root", str(workdir / "deploy"))
    assert report["findings"][0]["location"]["path"] == "pod.yaml"


def test_quiet_shows_only_failures(workdir):
    result = scan("deploy/", "--quiet")
    assert "TDV-K8S-001" in result.output
    assert "checks passed" not in result.output


def test_colour_is_used_only_when_asked(workdir):
    assert "\x1b[" not in scan("deploy/").output
    assert "\x1b[" in scan("deploy/", "--color").output


def test_invalid_custom_policy_is_reported_not_raised(workdir):
    bad = workdir / "policies"
    bad.mkdir()
    (bad / "bad.yaml").write_text("id: X-1\ntitle: t\n")
    result = scan("deploy/", "--policies", str(bad))
    assert result.exit_code != 0
    assert "invalid policy" in result.output and "bad.yaml" in result.output
