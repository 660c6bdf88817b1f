"""Human output: help built from the reporter registry, plurals, one line per error, and
a user's policy without standards."""

from validator.reporters import FORMATS

from tests.helpers import tdv


def test_scan_help_lists_every_output_format():
    text = " ".join(tdv("scan", "--help").stdout.split())
    listed = text.split("Report format: ", 1)[1].split(";", 1)[0]
    assert listed.split(", ") == list(FORMATS)


def test_an_unknown_format_names_every_format(project):
    result = tdv("scan", "deploy", "-o", "yaml")
    assert result.exit_code == 2 and f"expected one of: {', '.join(FORMATS)}" in result.stderr


def test_counts_of_one_are_singular(project):
    result = tdv("scan", "deploy", "--policy", "TDV-K8S-004", "--no-color")
    assert result.exit_code == 0
    assert "0 findings; 1 check passed." in result.stdout
    assert "Scanned 1 file, 1 resource, with 1 policy (" in result.stdout
    brief = tdv("scan", "deploy", "--policy", "TDV-K8S-004", "-o", "json")
    assert "(1 file, 1 resource, 1 policy; exit 0)" in brief.stderr


def test_counts_of_one_are_singular_in_other_commands(project, own):
    (project / ".tdv.yaml").write_text("exclusions: [{kind: Secret}]\nparameters: {}\n")
    assert "ok (1 exclusion, 0 exemptions, 0 parameter settings)" in tdv("config", "check").stdout
    policy = project / own / "ACME-001-owner.yaml"
    policy.write_text(policy.read_text() + "tests:\n  - name: unlabelled\n    expect: fail\n"
                      "    object: {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}\n")
    assert tdv("test", own).stdout.splitlines()[-1] == "1 policy, 1 case: 1 passed, 0 failed"
    exported = tdv("export", "vap", "--policy", "TDV-K8S-001", "-o", "vap.yaml")
    assert "tdv: wrote 1 policy to vap.yaml" in exported.stderr


def test_an_invalid_policy_is_one_line_once(project, broken):
    result = tdv("scan", "deploy", "--policies", broken)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "Error: invalid policy: broken/ACME-002-owner.yaml:15: ACME-002: CEL compile error at column 28: has()"
        " argument must be a field selection; at column 77: Syntax error: missing ')' at '<EOF>'"]


def test_a_policy_of_the_user_without_standards_loads_and_scans(project, own):
    (project / "deploy" / "settings.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n")
    result = tdv("scan", "deploy", "--policies", own, "--policy", "ACME-*", "--no-color")
    assert result.exit_code == 1, result.output
    assert "ACME-001  ConfigMap settings has no owner label" in result.stdout
    assert tdv("policies", "validate", own).exit_code == 0


def test_a_policy_file_named_twice_is_read_once(project, own, broken):
    """pre-commit passes changed files; a user may add their directory too."""
    tested = tdv("test", broken, f"{broken}/ACME-002-owner.yaml")
    assert tested.exit_code == 2 and len(tested.stderr.splitlines()) == 1
    assert tested.stdout.splitlines()[-1] == "0 policies, 0 cases: 0 passed, 0 failed, 1 invalid policy"
    validated = tdv("policies", "validate", own, f"./{own}/ACME-001-owner.yaml")
    assert validated.exit_code == 0 and validated.stdout.splitlines()[-1] == "1 valid, 0 invalid"
