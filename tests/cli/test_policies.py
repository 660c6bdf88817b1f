"""`tdv policies list` and `tdv policies show`."""

from validator.engine.library import load_policies

from tests.helpers import tdv


def test_list_prints_every_policy():
    result = tdv("policies", "list")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split() == ["ID", "SEVERITY", "CATEGORY", "TITLE"]
    assert len(lines) == len(load_policies([])) + 1
    assert any(line.startswith("TDV-K8S-001 ") and "critical" in line for line in lines)


def test_show_prints_documentation():
    result = tdv("policies", "show", "tdv-k8s-001")
    assert result.exit_code == 0
    assert result.output.startswith("# TDV-K8S-001: ")
    assert "## Remediation" in result.output and "```yaml" in result.output
    assert "cis-kubernetes" in result.output


def test_show_unknown_policy():
    result = tdv("policies", "show", "NOPE-1")
    assert result.exit_code == 2
    assert "no policy with id" in result.output
