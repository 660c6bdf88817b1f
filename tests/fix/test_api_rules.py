"""Fixes never make an object the API server rejects: the rules (fix.api_rules) and every
fix of every policy applied to every failing fixture and to the examples."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from validator.engine.library import load_policies
from validator.fix import api_rules

from tests import builders
from tests.builders import container, manifest
from tests.helpers import fix_paths, planned_fixes, scan_paths, tdv

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "kubernetes"


def pod(fields: dict, **spec) -> dict:
    """Pod p with one container c (nginx:1.27) holding `fields`."""
    return builders.pod("p", containers=[container("c", **fields)], **spec)


@pytest.mark.parametrize("context", [
    {"allowPrivilegeEscalation": False, "privileged": True},
    {"allowPrivilegeEscalation": False, "capabilities": {"add": ["NET_ADMIN", "CAP_SYS_ADMIN"]}},
    {"runAsUser": -1}, {"runAsGroup": 2**31}, {"runAsUser": "1000"},
    {"seccompProfile": {"type": "Localhost"}},
    {"seccompProfile": {"type": "RuntimeDefault", "localhostProfile": "x.json"}},
    {"appArmorProfile": {"type": "Localhost", "localhostProfile": ""}},
    {"seccompProfile": {"type": "runtime/default"}},
    {"procMount": "Masked"}, {"readOnlyRootFilesystem": "true"}, {"privileged": 1},
    {"runAsNonRoot": True, "runAsUser": 0},
])
def test_security_context_rules(context):
    assert api_rules.problems(pod({"securityContext": context}))
    assert not api_rules.problems(pod({}))


@pytest.mark.parametrize("context", [
    {"allowPrivilegeEscalation": False, "capabilities": {"add": ["SYS_ADMIN"]}},  # the API compares CAP_SYS_ADMIN
    {"allowPrivilegeEscalation": True, "privileged": True},
    {"seccompProfile": {"type": "Localhost", "localhostProfile": "profiles/a.json"}},
    {"runAsUser": 0, "runAsGroup": 2**31 - 1, "procMount": "Unmasked"},
])
def test_what_the_api_server_accepts(context):
    assert not api_rules.problems(pod({"securityContext": context}))


def test_windows_linux_and_host_process_rules():
    windows = pod({"securityContext": {"readOnlyRootFilesystem": True}}, os={"name": "windows"})
    assert any("Windows pod" in p for p in api_rules.problems(windows))
    assert not api_rules.problems(pod({"securityContext": {"runAsNonRoot": True}}, os={"name": "windows"}))
    linux = pod({"securityContext": {"windowsOptions": {"runAsUserName": "x"}}}, os={"name": "linux"})
    assert any("Linux pod" in p for p in api_rules.problems(linux))
    host = pod({"securityContext": {"windowsOptions": {"hostProcess": True}}})
    assert any("hostNetwork" in p for p in api_rules.problems(host))
    mixed = pod({}, hostNetwork=True, securityContext={"windowsOptions": {"hostProcess": True}},
                initContainers=[{"name": "i", "image": "x", "securityContext": {"windowsOptions": {"hostProcess": False}}}])
    assert any("every container" in p for p in api_rules.problems(mixed))


def test_resources_and_labels_rules():
    assert api_rules.problems(pod({"resources": {"requests": {"cpu": "600m"}, "limits": {"cpu": "0.5"}}}))
    assert not api_rules.problems(pod({"resources": {"requests": {"memory": "1Gi"}, "limits": {"memory": "1024Mi"}}}))
    assert api_rules.problems(pod({"resources": {"limits": {"memory": "lots"}}}))
    ephemeral = pod({}, ephemeralContainers=[{"name": "d", "image": "busybox", "resources": {}}])
    assert api_rules.problems(ephemeral)
    long_name = pod({})
    long_name["metadata"]["labels"] = {"app.kubernetes.io/name": "a" * 64}
    assert api_rules.problems(long_name)
    long_name["metadata"]["labels"] = {"app.kubernetes.io/name": "a" * 63, "bad key/x/y": "v"}
    assert len(api_rules.problems(long_name)) == 1
    assert api_rules.quantity_value("1.5Gi") == 3 * 2**29 and api_rules.quantity_value("250m") * 4 == 1
    assert api_rules.quantity_value("1e3") == 1000 and api_rules.quantity_value(True) is None


def test_every_kubernetes_fix_writes_a_field_the_rules_know():
    written = set()
    for policy in load_policies([]):
        if policy.id.startswith("TDV-K8S-"):
            for validation in policy.validations:
                for step in validation.fix:
                    path = step.path[:2] + ("*",) if step.path[:2] == ("metadata", "labels") else step.path
                    written.add(".".join(path[:2]) + "[*]" if path[-1] == "*" else ".".join(path))
    assert len(written) > 10
    assert written <= api_rules.COVERED, written - api_rules.COVERED


PRIVILEGED = manifest(builders.pod(containers=[
    container(security_context={"privileged": True}),
    container("admin", security_context={"capabilities": {"add": ["CAP_SYS_ADMIN"]}}),
    container("plain"),
]))


def test_a_fix_the_api_server_would_reject_is_left_to_a_human(workdir, monkeypatch):
    monkeypatch.chdir(workdir)
    (workdir / "pod.yaml").write_text(PRIVILEGED, encoding="utf-8")
    for dry in (["--dry-run"], []):
        result = tdv("fix", "--no-config", "--no-color", "--policy", "TDV-K8S-002", *dry, "pod.yaml")
        assert result.exit_code == 1, result.output
        assert "containers[0].securityContext.allowPrivilegeEscalation) not fixed: needs a human: the API server" \
               " would reject" in result.stderr
        assert "privileged is true" in result.stderr and "CAP_SYS_ADMIN" in result.stderr
    fixed = yaml.safe_load((workdir / "pod.yaml").read_text(encoding="utf-8"))
    contexts = [c.get("securityContext", {}) for c in fixed["spec"]["containers"]]
    assert [c.get("allowPrivilegeEscalation") for c in contexts] == [None, None, False]


def test_sarif_does_not_offer_a_fix_the_api_server_would_reject(workdir):
    (workdir / "pod.yaml").write_text(PRIVILEGED, encoding="utf-8")
    report = scan_paths([workdir / "pod.yaml"], root=workdir, include=["TDV-K8S-002"], plan_fixes=True)
    offered = planned_fixes(report)
    fields = sorted(str(result.violations[index].field_path)
                    for result in report.failures for index in range(len(result.violations))
                    if (id(result), index) in offered)
    assert fields == [str(("spec", "containers", 2, "securityContext", "allowPrivilegeEscalation"))]


def _documents(path: Path) -> list:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if isinstance(d, dict)]


def _fixtures(directory: Path) -> int:
    """Every failing object fixture of every policy, one file per policy."""
    count = 0
    for policy in load_policies([]):
        objects = [case.object for case in policy.tests if case.expect == "fail" and isinstance(case.object, dict)]
        if objects:
            (directory / f"{policy.id}.yaml").write_text(yaml.safe_dump_all(objects, sort_keys=False),
                                                        encoding="utf-8")
            count += len(objects)
    return count


def test_every_fix_on_every_failing_fixture_and_the_examples_keeps_objects_valid(workdir):
    assert _fixtures(workdir) > 100
    shutil.copytree(EXAMPLES, workdir / "examples")
    files = sorted(workdir.rglob("*.yaml"))
    before = {path: _documents(path) for path in files}
    changes = fix_paths([workdir], workdir)
    assert sum(len(change.done) for change in changes) > 100
    for path in files:
        after = _documents(path)
        assert len(after) == len(before[path]), path
        for old, new in zip(before[path], after):
            added = api_rules.problems(new) - api_rules.problems(old)
            assert not added, (path.name, old.get("kind"), added)


@pytest.mark.parametrize("document,problem", [
    ({"kind": "Pod", "spec": {"terminationGracePeriodSeconds": -1, "containers": []}},
     "spec.terminationGracePeriodSeconds: must be a whole number, 0 or more"),
    ({"kind": "Pod", "spec": {"dnsPolicy": "ClusterFirstWithHostNetwork", "containers": []}},
     "spec.dnsPolicy: must be one of ClusterFirstWithHostNet, ClusterFirst, Default, None"),
    ({"kind": "Deployment", "spec": {"paused": "no"}}, "spec.paused: must be true or false"),
    ({"kind": "Deployment", "spec": {"revisionHistoryLimit": -3}},
     "spec.revisionHistoryLimit: must be a whole number, 0 or more"),
    ({"kind": "CronJob", "spec": {"failedJobsHistoryLimit": 1.5}},
     "spec.failedJobsHistoryLimit: must be a whole number, 0 or more"),
    ({"kind": "PodDisruptionBudget", "spec": {"unhealthyPodEvictionPolicy": "Always"}},
     "spec.unhealthyPodEvictionPolicy: must be one of IfHealthyBudget, AlwaysAllow"),
])
def test_workload_fields_that_fixes_write_are_validated(document, problem):
    assert problem in api_rules.problems(document)
