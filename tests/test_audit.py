"""Auditing a cluster: `kubectl get ... -A -o yaml` output, with status, managedFields, server
defaults and the objects controllers create, gives the findings of what was applied."""

import json
import logging
from dataclasses import replace
from pathlib import Path

from validator.engine import Engine
from validator.engine.library import load_policies
from validator.filters import owned
from validator.filters.owned import controller, skip_controlled
from validator.sources.kubernetes import parse_manifests

from tests.helpers import tdv

DATA = Path(__file__).parent / "data" / "audit"
LIVE, APPLIED = DATA / "live.yaml", DATA / "deployment.yaml"


def scan(path: Path, *args):
    result = tdv("scan", str(path), "-o", "json", *args)
    return json.loads(result.stdout)


def identities(report):
    """What each finding is about. Fingerprints are left out: they include the file (two files
    that define the same object are two resources; see docs/suppressions.md), and so are
    messages, which may name a value the API server filled in."""
    return sorted((f["policyId"], f["resource"]["ref"], f["field"]) for f in report["findings"])


def live_resources():
    return list(parse_manifests(LIVE.read_text(), "live.yaml"))


def test_the_live_list_holds_a_deployment_its_replicaset_and_pods():
    resources = live_resources()
    assert [r.kind for r in resources] == ["Deployment", "ReplicaSet", "Pod", "Pod"]
    assert all("status" in r.document and "uid" in r.document["metadata"] for r in resources)
    assert [controller(r)["kind"] if controller(r) else None for r in resources] == [
        None, "Deployment", "ReplicaSet", "ReplicaSet"]


def test_live_findings_are_the_applied_manifests_findings():
    live, applied = scan(LIVE), scan(APPLIED)
    assert applied["findings"], "the applied manifest must have findings for this test to mean something"
    assert identities(live) == identities(applied)
    assert {f["resource"]["ref"] for f in live["findings"]} == {"Deployment/shop/web"}
    assert live["summary"]["resources"] == 4


def test_server_populated_fields_are_never_blamed():
    results = Engine.build(load_policies([])).run(live_resources())  # before skipping owned objects
    blamed = [v.field_path for r in results for v in r.violations]
    assert blamed
    assert not [p for p in blamed if p[:1] == ("status",) or p[:2] == ("metadata", "managedFields")]


def test_controlled_objects_are_skipped_with_a_debug_note(caplog):
    # Policies for Pods only (such as TDV-K8S-202) never see the owner and keep their Pod
    # results (test_only_the_policy_that_evaluated_the_owner_skips_the_object).
    policies = [p for p in load_policies([]) if p.targets.kinds != ("Pod",)]
    results = Engine.build(policies).run(live_resources())
    with caplog.at_level(logging.DEBUG, logger="validator.filters.owned"):
        kept = skip_controlled(results)
    assert {r.resource.ref for r in kept} == {"Deployment/shop/web"}
    notes = [r.getMessage() for r in caplog.records]
    assert notes == [
        "live.yaml: skipping ReplicaSet/shop/web-7c5ddbdf54: its controller Deployment/web is evaluated instead",
        "live.yaml: skipping Pod/shop/web-7c5ddbdf54-5x8kq: its controller ReplicaSet/web-7c5ddbdf54 is evaluated instead",
        "live.yaml: skipping Pod/shop/web-7c5ddbdf54-q2w9d: its controller ReplicaSet/web-7c5ddbdf54 is evaluated instead",
    ]


def test_objects_whose_controller_is_not_scanned_are_evaluated(tmp_path):
    pods = [r.document for r in live_resources() if r.kind == "Pod"]
    (tmp_path / "pods.json").write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": pods}))
    report = scan(tmp_path / "pods.json")
    assert {f["resource"]["ref"] for f in report["findings"]} == {
        "Pod/shop/web-7c5ddbdf54-5x8kq", "Pod/shop/web-7c5ddbdf54-q2w9d"}


def test_only_the_policy_that_evaluated_the_owner_skips_the_object():
    # A policy for Pods only never saw the Deployment, so it still reports the Pods.
    [privileged] = [p for p in load_policies([]) if p.id == "TDV-K8S-001"]
    pods_only = replace(privileged, id="ACME-PODS", targets=replace(privileged.targets, kinds=("Pod",)))
    resources = live_resources()
    for resource in resources:
        spec = resource.document["spec"].get("template", {}).get("spec") or resource.document["spec"]
        spec["containers"][0]["securityContext"] = {"privileged": True}
    kept = skip_controlled(Engine.build([privileged, pods_only]).run(resources))
    assert sorted((r.policy.id, r.resource.kind) for r in kept if r.violations) == [
        ("ACME-PODS", "Pod"), ("ACME-PODS", "Pod"), ("TDV-K8S-001", "Deployment")]


def test_without_controlled_objects_every_result_is_kept_as_is(monkeypatch):
    resources = [r for r in live_resources() if controller(r) is None]
    results = Engine.build(load_policies([])).run(resources)
    assert [r.kind for r in resources] == ["Deployment"] and results

    def no_keys(resource):
        raise AssertionError("no object has a controller: no keys are needed")

    monkeypatch.setattr(owned, "_keys", no_keys)
    kept = skip_controlled(results)
    assert kept == results and kept is not results
