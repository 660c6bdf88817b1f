"""`tdv config` and the settings `tdv scan` takes from `.tdv.yaml`: selection, parameters,
exclusions, exemptions, outputs, the baseline, and command-line options winning over the file."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from tests.builders import WEB_LABELS, container, manifest, pod
from tests.helpers import load_report, tdv, tdv_json, tdv_process

POD = manifest(pod(namespace="shop", labels=WEB_LABELS,
                   containers=[container(image="quay.io/shop/web:1.4", security_context={"privileged": True})]))
SYSTEM_POD = manifest(pod("coredns", namespace="kube-system", containers=[
    container("dns", "registry.k8s.io/coredns:1.11", security_context={"privileged": True})]))


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A repository with manifests; the working directory is its root."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "web.yaml").write_text(POD)
    (tmp_path / "deploy" / "dns.yaml").write_text(SYSTEM_POD)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def configure(repo: Path, text: str) -> Path:
    path = repo / ".tdv.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def active(report) -> set[tuple[str, str]]:
    return {(f["policyId"], f["resource"]["name"]) for f in report["findings"]}


def one_line_error(result, expected: str) -> None:
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert result.output.strip().splitlines() == [f"Error: {expected}"]


# --- tdv config init / check ------------------------------------------------------------------


def test_init_writes_a_starter_that_loads(repo):
    result = tdv("config", "init")
    assert result.exit_code == 0 and "wrote .tdv.yaml" in result.output
    assert (repo / ".tdv.yaml").read_text().startswith("## tdv configuration")
    assert tdv("config", "check").exit_code == 0
    assert tdv("scan", "deploy").exit_code == 1


def test_init_refuses_to_overwrite_without_force(repo):
    configure(repo, "fail-on: high\n")
    one_line_error(tdv("config", "init"), ".tdv.yaml already exists; use --force to overwrite it")
    assert (repo / ".tdv.yaml").read_text() == "fail-on: high\n"
    assert tdv("config", "init", "--force").exit_code == 0
    assert (repo / ".tdv.yaml").read_text().startswith("## tdv configuration")


def test_init_to_another_file(repo):
    assert tdv("config", "init", "ci/tdv.yaml").exit_code == 2  # no such directory: one line
    (repo / "ci").mkdir()
    assert tdv("config", "init", "ci/tdv.yaml").exit_code == 0
    assert tdv("config", "check", "-c", "ci/tdv.yaml").exit_code == 0


def test_check_reports_the_first_problem_with_file_and_line(repo):
    configure(repo, """\
        parameters:
          TDV-K8S-024:
            allowed_registries: quay.io/
        """)
    one_line_error(tdv("config", "check"), ".tdv.yaml:3: TDV-K8S-024 parameter 'allowed_registries' must be a list")


def test_check_without_a_config_file(repo):
    result = tdv("config", "check")
    assert result.exit_code == 2 and "no .tdv.yaml" in result.output


def test_check_warns_about_expired_exemptions(repo):
    configure(repo, """\
        exemptions:
          - {policy: TDV-K8S-001, name: web, reason: legacy, owner: shop, expires: 2001-01-31}
        """)
    result = tdv("config", "check")
    assert result.exit_code == 0
    assert "warning: .tdv.yaml:2: exemption of TDV-K8S-001 (owner: shop) expired on 2001-01-31" in result.stderr


# --- scan: finding and reading the file -------------------------------------------------------


def test_config_is_found_from_a_subdirectory(repo, monkeypatch):
    configure(repo, "policies: {include: [TDV-K8S-001]}\n")
    monkeypatch.chdir(repo / "deploy")
    result = tdv("scan", ".")
    assert "with 1 policy " in result.output and "settings from ../.tdv.yaml" in result.output


def test_bad_config_is_one_line_naming_file_and_line(repo):
    configure(repo, "policies:\n  include: [TDV-K8S-001]\n  exlude: [x]\n")
    one_line_error(tdv("scan", "deploy"), ".tdv.yaml:3: unknown key 'exlude' (allowed: categories, dirs,"
                                          " exclude, include, min-severity, standards)")


def test_no_config_and_explicit_config(repo):
    configure(repo, "policies: {include: [TDV-K8S-001]}\n")
    other = repo / "strict.yaml"
    other.write_text("policies: {include: [TDV-K8S-002]}\n")
    assert {p["id"] for p in tdv_json("scan", "deploy")[1]["policies"]} == {"TDV-K8S-001"}
    assert {p["id"] for p in tdv_json("scan", "deploy", "--config", "strict.yaml")[1]["policies"]} == {"TDV-K8S-002"}
    assert len(tdv_json("scan", "deploy", "--no-config")[1]["policies"]) > 2
    assert tdv("scan", "deploy", "--config", "strict.yaml", "--no-config").exit_code == 2


# --- scan: which policies run -----------------------------------------------------------------


def test_selection_by_category_severity_and_standard(repo):
    configure(repo, """\
        policies:
          categories: [pod-security]
          min-severity: high
          standards: [pod-security-standards]
        """)
    _, report = tdv_json("scan", "deploy")
    policies = report["policies"]
    assert policies and all(p["severity"] in ("high", "critical") for p in policies)
    assert "TDV-K8S-001" in {p["id"] for p in policies}
    assert not {p["id"] for p in policies} & {"TDV-K8S-022", "TDV-K8S-030", "TDV-K8S-031"}


def test_command_line_policy_replaces_include_and_skip_adds_to_exclude(repo):
    configure(repo, "policies:\n  include: ['TDV-K8S-00*']\n  exclude: [TDV-K8S-002]\n")
    ids = {p["id"] for p in tdv_json("scan", "deploy")[1]["policies"]}
    assert "TDV-K8S-001" in ids and "TDV-K8S-002" not in ids and "TDV-K8S-022" not in ids
    _, report = tdv_json("scan", "deploy", "--policy", "TDV-K8S-0*", "--skip-policy", "TDV-K8S-001")
    ids = {p["id"] for p in report["policies"]}
    assert "TDV-K8S-022" in ids and not ids & {"TDV-K8S-001", "TDV-K8S-002"}


def test_min_severity_option_replaces_the_configured_one(repo):
    configure(repo, "policies: {min-severity: critical}\n")
    assert {p["severity"] for p in tdv_json("scan", "deploy")[1]["policies"]} == {"critical"}
    assert "info" in {p["severity"] for p in tdv_json("scan", "deploy", "--min-severity", "info")[1]["policies"]}


def test_custom_policy_directory_relative_to_the_config_file(repo, monkeypatch):
    policy = (Path(__file__).resolve().parent.parent.parent / "policies" / "kubernetes" / "pod-security"
              / "TDV-K8S-001-privileged-container.yaml").read_text()
    (repo / "team").mkdir()
    (repo / "team" / "TDV-TEAM-001.yaml").write_text(policy.replace("id: TDV-K8S-001", "id: TDV-TEAM-001"))
    configure(repo, "policies:\n  include: [TDV-TEAM-*]\n  dirs: [team]\n")
    monkeypatch.chdir(repo / "deploy")
    result, report = tdv_json("scan", ".")
    assert active(report) == {("TDV-TEAM-001", "web"), ("TDV-TEAM-001", "coredns")}


def test_parameter_override_changes_the_verdict(repo):
    configure(repo, "policies: {include: [TDV-K8S-024]}\n")
    assert ("TDV-K8S-024", "web") in active(tdv_json("scan", "deploy")[1])
    configure(repo, """\
        policies: {include: [TDV-K8S-024]}
        parameters:
          TDV-K8S-024:
            allowed_registries: [quay.io/shop/, registry.k8s.io]
        """)
    result, report = tdv_json("scan", "deploy")
    assert active(report) == set() and result.exit_code == 0


# --- scan: exclusions and exemptions ----------------------------------------------------------


def test_excluded_resources_are_not_evaluated(repo):
    configure(repo, "policies: {include: [TDV-K8S-001]}\nexclusions:\n  - namespace: kube-system\n")
    result, report = tdv_json("scan", "deploy")
    assert active(report) == {("TDV-K8S-001", "web")}
    assert report["summary"]["excludedResources"] == 1 and report["summary"]["resources"] == 1
    assert "(1 excluded)" in tdv("scan", "deploy").output


def test_verbose_output_names_each_excluded_resource(repo):
    configure(repo, "exclusions:\n  - path: deploy/dns.yaml\n    reason: vendored\n")
    run = tdv_process("scan", "deploy", "-v")
    assert ("tdv: deploy/dns.yaml:1: Pod/kube-system/coredns not evaluated: excluded by .tdv.yaml:2"
            " (path deploy/dns.yaml): vendored") in run.stderr


def test_exempted_findings_are_suppressed_and_never_fail(repo):
    configure(repo, """\
        policies: {include: [TDV-K8S-001]}
        exemptions:
          - policy: TDV-K8S-001
            namespace: [shop, kube-system]
            reason: runs the node agent
            owner: platform
        """)
    result, report = tdv_json("scan", "deploy")
    assert result.exit_code == 0 and report["findings"] == []
    assert {f["resource"]["name"] for f in report["suppressed"]} == {"web", "coredns"}
    assert report["suppressed"][0]["suppression"]["kind"] == "external"


def test_expired_exemption_warns_and_its_findings_fail_again(repo):
    configure(repo, """\
        policies: {include: [TDV-K8S-001]}
        exemptions:
          - {policy: TDV-K8S-001, name: web, reason: legacy, owner: shop, expires: 2001-01-31}
        """)
    result = tdv("scan", "deploy")
    assert result.exit_code == 1
    assert ("warning: .tdv.yaml:3: exemption of TDV-K8S-001 (owner: shop) expired on 2001-01-31:"
            " 1 finding it covered is reported as active") in result.output
    assert "2 findings (2 critical)" in result.output


def test_annotation_suppresses_and_a_missing_reason_warns(repo):
    annotated = POD.replace("  labels:", "  annotations:\n    tdv.dev/skip: 'TDV-K8S-001: builds images'\n  labels:")
    (repo / "deploy" / "web.yaml").write_text(annotated)
    result = tdv("scan", "deploy/web.yaml", "--policy", "TDV-K8S-001")
    assert result.exit_code == 0 and "0 findings; 1 suppressed" in result.output
    assert "builds images" in tdv("scan", "deploy/web.yaml", "--policy", "TDV-K8S-001", "-v").output
    (repo / "deploy" / "web.yaml").write_text(annotated.replace(": builds images", ""))
    result = tdv("scan", "deploy/web.yaml", "--policy", "TDV-K8S-001")
    assert result.exit_code == 1
    assert "warning: deploy/web.yaml:7: tdv.dev/skip: TDV-K8S-001 has no reason; the suppression is ignored" \
        in result.output


# --- scan: outputs and fail-on ----------------------------------------------------------------


def test_outputs_and_fail_on_from_the_config_and_options_winning(repo, monkeypatch):
    configure(repo, "fail-on: critical\noutputs: [json=reports/tdv.json]\npolicies: {include: [TDV-K8S-030]}\n")
    (repo / "deploy" / "plain.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    monkeypatch.chdir(repo / "deploy")
    result = tdv("scan", "plain.yaml")
    assert result.exit_code == 0 and result.stdout == ""
    assert result.stderr == "tdv: 1 finding (1 info); 0 checks passed (1 file, 1 resource, 1 policy; exit 0)\n"
    assert load_report(repo / "reports" / "tdv.json")["summary"]["failOn"] == "critical"
    result = tdv("scan", "plain.yaml", "--fail-on", "info", "-o", "console")
    assert result.exit_code == 1 and "fail on info" in result.output


# --- scan: baseline ---------------------------------------------------------------------------


def test_adopting_with_a_baseline_in_one_command(repo):
    result = tdv("scan", "deploy", "--write-baseline", ".tdv-baseline.json")
    assert result.exit_code == 0
    assert "tdv: wrote " in result.stderr and "findings to the baseline .tdv-baseline.json" in result.stderr
    assert "0 new findings" in result.stdout
    assert tdv("scan", "deploy", "--baseline", ".tdv-baseline.json").exit_code == 0
    (repo / "deploy" / "web.yaml").write_text(POD.replace("privileged: true", "privileged: true\n        runAsUser: 0"))
    result = tdv("scan", "deploy", "--baseline", ".tdv-baseline.json")
    assert result.exit_code == 1
    listed = [line for line in result.output.splitlines() if line.startswith("  deploy/")]
    assert listed and all("TDV-K8S-003" in line for line in listed)
    assert "(baselined)" in tdv("scan", "deploy", "--baseline", ".tdv-baseline.json", "-v").output


def test_configured_baseline_is_used_and_the_option_replaces_it(repo):
    assert tdv("scan", "deploy", "--write-baseline", "known.json").exit_code == 0
    configure(repo, "baseline: known.json\n")
    assert tdv("scan", "deploy").exit_code == 0
    one_line_error(tdv("scan", "deploy", "--baseline", "missing.json"),
                   "missing.json: cannot read baseline: No such file or directory")


def test_bad_baseline_is_one_line_naming_file_and_line(repo):
    (repo / "known.json").write_text('{"format": "tdv-baseline",\n "version": 1,\n "findings": [{"policyId": 1}]}')
    one_line_error(tdv("scan", "deploy", "--baseline", "known.json"),
                   "known.json:3: missing required key 'fingerprint'")


def test_selecting_no_policy_is_one_line(repo):
    configure(repo, "policies: {categories: [rbac]}\n")
    one_line_error(tdv("scan", "deploy", "--policy", "TDV-K8S-001"),
                   "no policies selected (check --policy and --skip-policy and the policies section of .tdv.yaml)")


def test_baseline_is_written_even_when_some_inputs_fail(repo):
    (repo / "deploy" / "broken.yaml").write_text("kind: Pod\nmetadata: {name: x\n")
    result = tdv("scan", "deploy", "--write-baseline", "known.json")
    assert result.exit_code == 2 and "broken.yaml" in result.output
    assert json.loads((repo / "known.json").read_text())["findings"]
