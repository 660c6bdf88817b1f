"""Fingerprints survive re-rendering and are unique in a report: a chart rendered twice
(random names), generateName, Kustomize generator hashes, two files with the same object,
and baselines written by the previous scheme."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from validator.fingerprint import fingerprint, fingerprints, stable_name
from validator.model import Location, Resource, format_path

from tests import helpers
from tests.builders import container, manifest, pod

RENDER = Path(__file__).resolve().parents[1] / "data" / "render"
POD = manifest(pod(containers=[container(image="nginx:latest")]))


def tdv(*arguments: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of `tdv scan --no-config ARGUMENTS`."""
    result = helpers.tdv("scan", "--no-config", *arguments)
    return result.exit_code, result.stdout, result.stderr


def resource(name: str, kind: str = "Pod", path: str = "a.yaml", **metadata) -> Resource:
    document = {"apiVersion": "v1", "kind": kind, "metadata": {"name": name, **metadata}}
    return Resource(kind, "v1", name, None, document, path)


def test_names_that_change_at_each_render_are_left_out():
    assert stable_name(resource("job-x7k2p", generateName="job-")) == "job-*"
    assert stable_name(resource("app-config-8g5dk7m2t4", "ConfigMap")) == "app-config-*"
    assert stable_name(resource("app-config-8g5dk7m2t4", "Deployment")) == "app-config-8g5dk7m2t4"
    assert stable_name(resource("app-config-v1", "ConfigMap")) == "app-config-v1"
    first = fingerprint("TDV-K8S-001", resource("job-x7k2p", generateName="job-"), ())
    assert first == fingerprint("TDV-K8S-001", resource("job-9qzzp", generateName="job-"), ())
    assert first != fingerprint("TDV-K8S-001", resource("job-9qzzp", path="b.yaml", generateName="job-"), ())


@pytest.mark.integration  # renders a chart with Helm
def test_a_chart_rendered_twice_keeps_every_fingerprint(tmp_path, monkeypatch):
    chart = tmp_path / "podinfo"
    shutil.copytree(RENDER / "helm" / "podinfo", chart)
    monkeypatch.chdir(tmp_path)
    renders = []
    for _ in range(2):
        code, out, _ = tdv("podinfo", "-o", "json")
        assert code in (0, 1)
        renders.append(json.loads(out)["findings"])
    names = [{f["resource"]["name"] for f in found if f["resource"]["kind"] == "Pod"} for found in renders]
    assert names[0] and names[0] != names[1]  # randAlphaNum: the test pods get new names
    prints = [sorted(f["fingerprint"] for f in found) for found in renders]
    assert prints[0] == prints[1] and len(set(prints[0])) == len(prints[0])
    code, _, err = tdv("podinfo", "--write-baseline", "b.json")
    code, out, err = tdv("podinfo", "--baseline", "b.json", "-o", "json")
    assert code == 0, err
    assert {f.get("baseline") for f in json.loads(out)["findings"]} == {"unchanged"}


def test_moved_lines_and_reordered_documents_keep_fingerprints(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    other = POD.replace("name: web", "name: api")
    (tmp_path / "pods.yaml").write_text(POD + "---\n" + other, encoding="utf-8")
    _, first, _ = tdv("pods.yaml", "-o", "json")
    (tmp_path / "pods.yaml").write_text("# moved\n\n" + other + "---\n" + POD, encoding="utf-8")
    _, second, _ = tdv("pods.yaml", "-o", "json")
    assert sorted(f["fingerprint"] for f in json.loads(first)["findings"]) == \
        sorted(f["fingerprint"] for f in json.loads(second)["findings"])


def test_the_same_object_in_two_files_or_twice_in_one_gets_distinct_ids(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for environment in ("staging", "production"):
        (tmp_path / environment).mkdir()
        (tmp_path / environment / "pod.yaml").write_text(POD, encoding="utf-8")
    (tmp_path / "twice.yaml").write_text(POD + "---\n" + POD, encoding="utf-8")
    _, out, _ = tdv(".", "-o", "sarif")
    results = json.loads(out)["runs"][0]["results"]
    keys = [(r["ruleId"], r["partialFingerprints"]["tdvFingerprint/v2"]) for r in results]
    assert len(keys) > 10 and len(set(keys)) == len(keys)
    _, out, _ = tdv(".", "-o", "gitlab-sast")
    ids = [v["id"] for v in json.loads(out)["vulnerabilities"]]
    assert len(ids) == len(results) and len(set(ids)) == len(ids)
    _, again, _ = tdv(".", "-o", "gitlab-sast")
    assert [v["id"] for v in json.loads(again)["vulnerabilities"]] == ids  # deterministic


def test_duplicates_are_numbered_in_file_order():
    from validator.engine.library import load_policies

    policy = next(p for p in load_policies([]) if p.id == "TDV-K8S-001")
    from validator.model import Result, Status, Violation

    def failed(line: int) -> Result:
        violation = Violation("m", ("spec",), Location("a.yaml", line, 1))
        return Result(policy, resource("web"), Status.FAIL, [violation])

    results = [failed(20), failed(3)]
    keys = fingerprints(results)
    base = fingerprint("TDV-K8S-001", results[0].resource, ("spec",))
    assert keys[(id(results[1]), 0)] == base and keys[(id(results[0]), 0)] != base
    assert fingerprints(list(reversed(results))) == keys


def test_a_version_1_baseline_is_still_read_with_a_warning(tmp_path, monkeypatch, caplog):
    from validator.fingerprint import fingerprint_v1  # noqa: F401  (the scheme version 1 files hold)

    monkeypatch.chdir(tmp_path)
    (tmp_path / "pod.yaml").write_text(POD, encoding="utf-8")
    tdv("pod.yaml", "--write-baseline", "b.json")
    data = json.loads((tmp_path / "b.json").read_text(encoding="utf-8"))
    assert data["version"] == 2
    code, out, _ = tdv("pod.yaml", "-o", "json")
    report = json.loads(out)
    from validator.config import Config

    scanned = helpers.scan_paths(["pod.yaml"], root=tmp_path, config=Config())
    old = {(r.policy.id, format_path(v.field_path)): fingerprint_v1(r.policy.id, r.resource, v.field_path)
           for r in scanned.failures for v in r.violations}
    for entry in data["findings"]:
        entry["fingerprint"] = old[(entry["policyId"], entry["field"])]
    data["version"] = 1
    (tmp_path / "old.json").write_text(json.dumps(data), encoding="utf-8")
    code, out, err = tdv("pod.yaml", "--baseline", "old.json", "-o", "json")
    assert code == 0, err
    assert "version 1" in caplog.text + err and "--write-baseline" in caplog.text + err
    assert {f["baseline"] for f in json.loads(out)["findings"]} == {"unchanged"}
    assert len(report["findings"]) == len(data["findings"])


@pytest.mark.integration  # renders overlays with kustomize or kubectl
@pytest.mark.skipif(not (shutil.which("kustomize") or shutil.which("kubectl")), reason="needs kustomize or kubectl")
def test_a_generator_hash_and_two_overlays_of_one_base(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "pod.yaml").write_text(POD, encoding="utf-8")
    (tmp_path / "base" / "kustomization.yaml").write_text("resources: [pod.yaml]\n", encoding="utf-8")
    for overlay in ("staging", "production"):
        (tmp_path / overlay).mkdir()
        (tmp_path / overlay / "kustomization.yaml").write_text(
            "resources: [../base]\nconfigMapGenerator:\n  - name: settings\n    literals: [mode=a]\n", encoding="utf-8")

    def findings() -> list[dict]:
        code, out, err = tdv("staging", "production", "-o", "json")
        assert code in (0, 1), err
        return json.loads(out)["findings"]

    first = findings()
    maps = {f["resource"]["name"] for f in first if f["resource"]["kind"] == "ConfigMap"}
    assert maps and all(name.startswith("settings-") for name in maps)
    prints = [f["fingerprint"] for f in first]
    assert len(set(prints)) == len(prints)  # the pod of the base, once per overlay: distinct
    for overlay in ("staging", "production"):
        path = tmp_path / overlay / "kustomization.yaml"
        path.write_text(path.read_text(encoding="utf-8").replace("mode=a", "mode=b"), encoding="utf-8")
    second = findings()
    assert {f["resource"]["name"] for f in second if f["resource"]["kind"] == "ConfigMap"}.isdisjoint(maps)
    assert sorted(f["fingerprint"] for f in second) == sorted(prints)
