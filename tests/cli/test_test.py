"""`tdv test`: run the fixtures written inside policy files."""

import pytest
import yaml

from validator.engine.library import builtin_dir, load_policies

from tests.helpers import tdv

PRIVILEGED = builtin_dir() / "kubernetes" / "pod-security" / "TDV-K8S-001-privileged-container.yaml"
CASES = len(yaml.safe_load(PRIVILEGED.read_text())["tests"])  # the cases of the copied policy


def tdv_test(*args):
    return tdv("test", *args)


@pytest.fixture
def policies(tmp_path):
    """A directory with one copy of TDV-K8S-001 renamed ACME-001."""
    text = PRIVILEGED.read_text().replace("id: TDV-K8S-001", "id: ACME-001")
    (tmp_path / "ACME-001-privileged.yaml").write_text(text)
    return tmp_path


@pytest.mark.slow
def test_the_builtin_library_passes_its_fixtures():
    result = tdv_test()
    cases = sum(len(p.tests) for p in load_policies([]))
    assert result.exit_code == 0, result.output
    assert "FAIL" not in result.output
    summary = f"{len(load_policies([]))} policies, {cases} cases: {cases} passed, 0 failed"
    assert result.output.strip().splitlines()[-1].startswith(summary)


def test_verbose_shows_passes_and_policy_filters():
    result = tdv_test("-v", "--policy", "tdv-k8s-001")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "PASS TDV-K8S-001  privileged container fails"
    assert all(line.startswith("PASS TDV-K8S-001  ") for line in lines[:-1])
    cases = len(lines) - 1  # one PASS line per case of the policy
    assert cases >= 3 and lines[-1] == f"1 policy, {cases} cases: {cases} passed, 0 failed"


def test_a_directory_is_tested_without_the_builtin_library(policies):
    result = tdv_test(str(policies))
    assert result.exit_code == 0
    assert result.output == f"1 policy, {CASES} cases: {CASES} passed, 0 failed\n"


def test_a_failing_case_is_shown_with_its_detail_and_exits_1(policies):
    path = policies / "ACME-001-privileged.yaml"
    path.write_text(path.read_text().replace("securityContext: {privileged: true}\n                containers:",
                                             "securityContext: {privileged: false}\n                containers:"))
    result = tdv_test(str(policies))
    assert result.exit_code == 1
    assert ("FAIL ACME-001  privileged init container in a CronJob fails\n"
            "     expected a violation, got none") in result.output
    assert result.output.splitlines()[-1] == f"1 policy, {CASES} cases: {CASES - 1} passed, 1 failed"


def test_an_invalid_policy_file_exits_2_naming_file_and_line(policies):
    (policies / "ACME-002-broken.yaml").write_text(
        (policies / "ACME-001-privileged.yaml").read_text().replace("id: ACME-001", "id: ACME-002").replace(
            "severity: critical", "severity: critical\nowner: team-a"))
    result = tdv_test(str(policies))
    assert result.exit_code == 2
    assert f"tdv: invalid policy: {policies / 'ACME-002-broken.yaml'}:4: unknown key 'owner'" in result.output
    assert f"1 policy, {CASES} cases: {CASES} passed, 0 failed, 1 invalid policy" in result.output  # the valid one still ran


def test_cel_that_does_not_compile_makes_the_policy_invalid(policies):
    path = policies / "ACME-001-privileged.yaml"
    path.write_text(path.read_text().replace("orValue(false) == true", "orValue(false) == tru"))
    result = tdv_test(str(policies))
    assert result.exit_code == 2
    expected = "ACME-001-privileged.yaml:32: ACME-001: validations[0].expression: CEL compile error at column 60"
    assert expected in result.output


def test_a_single_file_and_an_unmatched_filter(policies):
    assert tdv_test(str(policies / "ACME-001-privileged.yaml")).exit_code == 0
    result = tdv_test(str(policies), "--policy", "NOPE-*")
    assert result.exit_code == 2 and "no policies to test (check --policy)" in result.output


def test_a_missing_directory_is_an_invalid_input(tmp_path):
    result = tdv_test(str(tmp_path / "absent"))
    assert result.exit_code == 2 and "policy directory not found" in result.output


def test_policies_without_cases_are_named(policies):
    path = policies / "ACME-001-privileged.yaml"
    text = path.read_text()
    path.write_text(text[: text.index("tests:")])
    result = tdv_test(str(policies))
    assert result.exit_code == 0
    assert result.output == "1 policy, 0 cases: 0 passed, 0 failed (1 without test cases: ACME-001)\n"


def test_cases_with_several_objects_and_off_by_default_policies_are_tested(tmp_path):
    """`objects:` cases run with an inventory of their objects; `enabled: false` policies are
    tested like the others."""
    source = builtin_dir() / "kubernetes" / "best-practice" / "TDV-K8S-193-secret-not-in-scan.yaml"
    (tmp_path / "ACME-193-secret.yaml").write_text(source.read_text().replace("id: TDV-K8S-193", "id: ACME-193"))
    result = tdv_test(str(tmp_path), "-v")
    assert result.exit_code == 0, result.output
    assert "PASS ACME-193  a Secret missing from the scan fails, reported as not in this scan" in result.output
    path = tmp_path / "ACME-193-secret.yaml"
    secret = "      - {apiVersion: v1, kind: Secret, metadata: {name: web-api, namespace: shop}}\n"
    path.write_text(path.read_text().replace(secret, "", 1))
    result = tdv_test(str(tmp_path))
    assert result.exit_code == 1
    assert "FAIL ACME-193  Secrets in the scan pass" in result.output
    assert "expected pass, got 1 violation(s) at spec.template.spec" in result.output


def test_a_policy_for_every_kind_is_tested_on_any_kind(tmp_path):
    (tmp_path / "ACME-900-named.yaml").write_text(
        "id: ACME-900\ntitle: Objects are named in lower case\nseverity: low\ncategory: best-practice\n"
        "description: Names in lower case.\nremediation: Rename it.\ntargets:\n  kinds: [\"*\"]\n"
        "validations:\n  - expression: object.metadata.name.lowerAscii() == object.metadata.name\n"
        "    message: the name is not in lower case\n    field: metadata.name\n"
        "tests:\n  - name: an upper-case ConfigMap name fails\n    expect: fail\n"
        "    object: {apiVersion: v1, kind: ConfigMap, metadata: {name: Web}}\n"
        "  - name: a lower-case Service name passes\n    expect: pass\n"
        "    object: {apiVersion: v1, kind: Service, metadata: {name: web}}\n")
    result = tdv_test(str(tmp_path), "-v")
    assert result.exit_code == 0, result.output
    assert "PASS ACME-900  an upper-case ConfigMap name fails" in result.output
