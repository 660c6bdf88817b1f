"""Exit codes mean the same in every command: 0 ok, 1 findings or failed checks, 2 a usage,
input, policy or output error (printed as one `Error:` line). One test per command."""

import subprocess
import sys

import pytest

from tests.helpers import tdv


@pytest.fixture
def not_a_directory(project):
    """A path whose parent is a file: nothing can be written there."""
    (project / "taken").write_text("a file\n")
    return "taken/report"


def error_line(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(lines) == 1, result.output
    return lines[0]


# --- tdv scan ---------------------------------------------------------------------------------

def test_scan_a_report_that_cannot_be_written_exits_2_even_with_soft_fail(project, not_a_directory):
    for extra in ((), ("--soft-fail",)):
        result = tdv("scan", "deploy", "--policy", "TDV-K8S-003", *extra, "-o", f"json={not_a_directory}.json",
                     "-o", "sarif=ok.sarif")
        assert result.exit_code == 2, result.output
        assert error_line(result).startswith(f"Error: cannot write {not_a_directory}.json: ")
        assert (project / "ok.sarif").is_file()  # the other reports are written


def test_scan_an_invalid_policy_exits_2(project, broken):
    result = tdv("scan", "deploy", "--policies", broken)
    assert result.exit_code == 2 and "invalid policy: " in error_line(result)


# --- tdv fix ----------------------------------------------------------------------------------

def test_fix_an_invalid_policy_exits_2(project, broken):
    assert tdv("fix", "deploy", "--policies", broken).exit_code == 2


def test_fix_an_input_error_exits_2_and_is_shown_in_a_dry_run(project):
    result = tdv("fix", "deploy", "nowhere.yaml", "--dry-run")
    assert result.exit_code == 2
    assert "tdv: error: nowhere.yaml: no such file or directory" in result.stderr.splitlines()


# --- tdv test ---------------------------------------------------------------------------------

def test_test_exit_codes(project, own, broken):
    policy = project / own / "ACME-001-owner.yaml"
    policy.write_text(policy.read_text() + "tests:\n  - name: unlabelled\n    expect: pass\n"
                      "    object: {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}\n")
    assert tdv("test", own).exit_code == 1  # a failed case
    assert tdv("test", broken).exit_code == 2
    assert tdv("test", own, "--policy", "NOPE").exit_code == 2


# --- tdv policies -----------------------------------------------------------------------------

@pytest.mark.parametrize("command", [["policies", "list"], ["policies", "docs"], ["policies", "coverage"],
                                     ["policies", "show", "ACME-002"]])
def test_policies_an_invalid_policy_exits_2(project, own, command):
    (project / "bad").mkdir()
    (project / "bad" / "ACME-002-owner.yaml").write_text(
        (project / own / "ACME-001-owner.yaml").read_text().replace("severity: low", "severity: dire"))
    result = tdv(*command, "--policies", "bad")
    assert result.exit_code == 2
    assert error_line(result).startswith("Error: invalid policy: bad/ACME-002-owner.yaml:3: ")


def test_policies_show_an_unknown_id_exits_2(project):
    result = tdv("policies", "show", "NOPE")
    assert result.exit_code == 2 and error_line(result).startswith("Error: no policy with id 'NOPE'")


def test_policies_validate_an_invalid_policy_exits_2(project, broken):
    assert tdv("policies", "validate", broken).exit_code == 2
    assert tdv("policies", "validate").exit_code == 0


def test_policies_docs_and_coverage_that_cannot_be_written_exit_2(project, not_a_directory):
    docs = tdv("policies", "docs", "-o", not_a_directory)
    assert docs.exit_code == 2 and error_line(docs).startswith(f"Error: cannot write {not_a_directory}")
    coverage = tdv("policies", "coverage", "--output-dir", not_a_directory)
    assert coverage.exit_code == 2 and error_line(coverage).startswith(f"Error: cannot write {not_a_directory}/")


# --- tdv config -------------------------------------------------------------------------------

def test_config_init_over_an_existing_file_exits_2(project):
    assert tdv("config", "init").exit_code == 0
    result = tdv("config", "init")
    assert result.exit_code == 2 and error_line(result) == "Error: .tdv.yaml already exists; use --force to overwrite it"


def test_config_check_an_invalid_policy_exits_2(project, broken):
    (project / ".tdv.yaml").write_text(f"policies: {{dirs: [{broken}]}}\n")
    result = tdv("config", "check")
    assert result.exit_code == 2 and "invalid policy: " in error_line(result)


def test_config_check_without_a_config_exits_2(project):
    assert tdv("config", "check").exit_code == 2


# --- tdv export vap ---------------------------------------------------------------------------

def test_export_vap_exit_codes(project, broken):
    assert tdv("export", "vap", "--policy", "TDV-K8S-001").exit_code == 0
    assert tdv("export", "vap", "--policy", "NOPE").exit_code == 2
    assert tdv("export", "vap", "--policy", "TDV-AWS-*").exit_code == 2  # nothing exportable
    assert tdv("export", "vap", "--policies", broken).exit_code == 2


# --- the program ------------------------------------------------------------------------------

def test_a_bug_exits_2_never_1():
    code = ("import validator.cli as cli\n"
            "def broken():\n    raise RuntimeError('boom')\n"
            "cli.main = broken\ncli.run()\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 2
    assert "RuntimeError: boom" in run.stderr and "internal error" in run.stderr
