"""`tdv scan` with cross-resource policies: the inventory spans every file, the findings
point at the object to edit and name the related ones, and one process or several report
exactly the same."""

from __future__ import annotations

import json
import shutil
import sys

import pytest

from tests.helpers import DATA, tdv
from validator.pipeline import executor

CROSS = DATA / "cross-resource"


@pytest.fixture
def tree(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(CROSS, tmp_path / "scan")
    monkeypatch.setattr(executor, "MIN_SHARD_BYTES", 1)  # one file is worth a process here
    return tmp_path / "scan"


def scan(jobs: int, out, *options: str) -> dict[str, str]:
    result = tdv("scan", "scan", "--no-config", "-j", str(jobs), "-o", f"json={out}/report.json",
                 "-o", f"sarif={out}/report.sarif", *options)
    assert result.exit_code == 1, result.output
    return {path.name: path.read_text() for path in sorted(out.iterdir())}


def findings(texts: dict[str, str]) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for finding in json.loads(texts["report.json"])["findings"]:
        found.setdefault(finding["policyId"], []).append(finding)
    return found


def test_cross_resource_findings_span_files_and_name_the_related_objects(tree, tmp_path):
    texts = scan(1, tmp_path / "serial")
    found = findings(texts)
    [secrets] = found["TDV-K8S-181"]
    assert secrets["location"] == {"path": "scan/rbac.yaml", "line": 14, "column": 1}  # the binding's roleRef
    assert secrets["related"] == [
        {"ref": "ClusterRole/shop-ops", "path": "scan/roles.yaml", "line": 1, "column": 1},
        {"ref": "ClusterRole/shop-ops-debug", "path": "scan/roles.yaml", "line": 11, "column": 1}]
    assert "(from ClusterRole/shop-ops-debug)" in secrets["message"]
    assert [f["resource"]["ref"] for f in found["TDV-K8S-190"]] == ["Service/shop/web-canary"]
    assert [f["related"][0]["path"] for f in found["TDV-K8S-191"]] == ["scan/web.yaml"]
    assert found["TDV-K8S-185"][0]["related"][0]["ref"] == "NetworkPolicy/shop/web"
    # The autoscaler of web.yaml owns the Deployment's replicas (034), a PDB covers it (187),
    # and the role of the other binding is not in the scan (not judged).
    for quiet in ("TDV-K8S-034", "TDV-K8S-187", "TDV-K8S-188", "TDV-K8S-189", "TDV-K8S-195"):
        assert quiet not in found
    assert [f["resource"]["name"] for f in found["TDV-K8S-181"]] == ["web-ops"]
    # Off by default: references missing from the scan.
    assert not {"TDV-K8S-192", "TDV-K8S-193", "TDV-K8S-194"} & set(found)
    [result] = [r for r in json.loads(texts["report.sarif"])["runs"][0]["results"] if r["ruleId"] == "TDV-K8S-181"]
    assert [(r["physicalLocation"]["artifactLocation"]["uri"], r["physicalLocation"]["region"]["startLine"])
            for r in result["relatedLocations"]] == [("scan/roles.yaml", 1), ("scan/roles.yaml", 11)]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux only")
def test_several_processes_report_what_one_process_does(tree, tmp_path, monkeypatch):
    serial = scan(1, tmp_path / "serial")
    sent = []
    original = executor._Worker.entries

    def entries(self):
        sent.append(self.process is not None)
        return original(self)

    monkeypatch.setattr(executor._Worker, "entries", entries)
    assert scan(4, tmp_path / "parallel") == serial
    assert sent and all(sent)  # the entries came from the worker processes


def test_a_file_alone_is_judged_without_the_others(tree, tmp_path):
    """Scanned alone, the binding's role is not in the scan: nothing is reported for it."""
    result = tdv("scan", "scan/rbac.yaml", "--no-config", "--policy", "TDV-K8S-18*", "-o", f"json={tmp_path}/r.json")
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "r.json").read_text())["findings"] == []


def test_an_off_by_default_policy_runs_when_named(tree, tmp_path):
    result = tdv("scan", "scan", "--no-config", "--policy", "TDV-K8S-193", "--policy", "TDV-K8S-194",
                 "-o", f"json={tmp_path}/r.json")
    assert result.exit_code == 0, result.output  # web's ServiceAccount is in rbac.yaml; no Secret is referred to
    result = tdv("scan", "scan/web.yaml", "--no-config", "--policy", "TDV-K8S-194", "-o", f"json={tmp_path}/r.json")
    [finding] = json.loads((tmp_path / "r.json").read_text())["findings"]
    assert finding["message"] == "Deployment web refers to ServiceAccount web, not in this scan (namespace shop)"
