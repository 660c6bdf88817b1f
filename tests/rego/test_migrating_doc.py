"""docs/migrating.md stays true: its Gatekeeper template and its CEL translation load, the
translation's fixtures pass, and the side-by-side output it shows is what tdv prints."""

import re
from pathlib import Path

import pytest

from tests.helpers import tdv, write

pytest.importorskip("regorus", reason="the Rego extra is not installed (pip install '.[rego]')")

DOC = (Path(__file__).resolve().parents[2] / "docs" / "migrating.md").read_text(encoding="utf-8")


def blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", DOC, re.MULTILINE | re.DOTALL)


def block_starting(prefix: str) -> str:
    return next(block for block in blocks("yaml") if block.startswith(prefix))


def test_the_example_runs_as_the_page_shows(tmp_path, monkeypatch):
    write(tmp_path / "gatekeeper" / "memory.yaml", block_starting("apiVersion: templates.gatekeeper.sh/v1"))
    write(tmp_path / "policies" / "ACME-001-memory-limit.yaml", block_starting("id: ACME-001"))
    write(tmp_path / "pod.yaml", block_starting("apiVersion: v1\nkind: Pod"))
    monkeypatch.chdir(tmp_path)
    result = tdv("test", "policies/")
    assert result.exit_code == 0 and "1 policy, 4 cases: 4 passed, 0 failed" in result.output, result.output
    result = tdv("scan", "pod.yaml", "--policies", "policies/", "--policies", "gatekeeper/", "--policy", "ACME*",
                 "--no-color", "--no-config")
    shown = [line for line in blocks("text")[0].splitlines() if line.strip()]
    assert len(shown) == 3 and all(line in result.output.splitlines() for line in shown), result.output


def test_the_export_gives_what_the_page_describes(tmp_path):
    write(tmp_path / "policies" / "ACME-001-memory-limit.yaml", block_starting("id: ACME-001"))
    result = tdv("export", "vap", "--policies", str(tmp_path / "policies"), "--policy", "ACME-*", "--no-config")
    assert result.exit_code == 0
    for text in ("name: acme-001", "tdv.dev/policy-id: ACME-001", "resources: [pods, replicationcontrollers]",
                 "resources: [deployments, statefulsets, daemonsets, replicasets]", "resources: [jobs, cronjobs]",
                 "resources: [deploymentconfigs]", "resources: [rollouts]", "values: [kube-system]\n",
                 """expression: '{"exempt_containers": []}'""", "validationActions: [Warn, Audit]",
                 "failurePolicy: Ignore", "operations: [CREATE, UPDATE]"):
        assert text in result.output, text
