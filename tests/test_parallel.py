"""validator.pipeline.executor: a scan in several processes reports exactly what one process does."""

import os
import re
import shutil
import sys
from pathlib import Path

import pytest

from validator.pipeline import codec
from validator.pipeline import executor as parallel
from validator.pipeline import work
from validator.model import Position, Resource, StartOnly, Status
from validator.sources.files import InputFile

from tests.helpers import tdv

HERE = Path(__file__).parent
REPO = HERE.parent

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux only")


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """Manifests with findings, fixes, owned objects and bad files, a plan, and a module."""
    monkeypatch.chdir(tmp_path)
    scan = tmp_path / "scan"
    shutil.copytree(REPO / "examples" / "kubernetes", scan / "kubernetes")
    shutil.copytree(HERE / "data" / "audit", scan / "audit")
    shutil.copytree(HERE / "data" / "sources", scan / "sources")
    shutil.copytree(HERE / "data" / "terraform" / "aws", scan / "module")
    plans = sorted((HERE / "data" / "terraform" / "corpus").glob("*/*.json"))
    shutil.copy(plans[0], scan / "plan.json")
    (scan / "broken.yaml").write_text("kind: Pod\nmetadata: {name: x\n")
    (scan / "binary.yaml").write_bytes(b"\x00\x01\x02kind")
    (scan / "zz-late.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata: {name: late}\n"
                                       "spec: {type: NodePort, ports: [{port: 80}]}\n")
    # Related objects in files far apart, so that shards must share what they read.
    (scan / "aa-role.yaml").write_text("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n"
                                       "metadata: {name: everything}\nrules:\n"
                                       "- {apiGroups: ['*'], resources: ['*'], verbs: ['*']}\n")
    (scan / "zz-binding.yaml").write_text("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\n"
                                          "metadata: {name: ops}\nroleRef: {apiGroup: rbac.authorization.k8s.io,"
                                          " kind: ClusterRole, name: everything}\n"
                                          "subjects: [{kind: Group, name: ops, apiGroup: rbac.authorization.k8s.io}]\n")
    monkeypatch.setattr(parallel, "MIN_SHARD_BYTES", 1)
    return scan


def scan(*args):
    result = tdv("scan", "scan", "--no-config", *args)
    assert result.exit_code in (0, 1, 2), result.output
    return result


def reports(jobs, tmp_path):
    out = tmp_path / f"jobs{jobs}"
    result = scan("-j", str(jobs), "-o", f"json={out}/report.json", "-o", f"sarif={out}/report.sarif",
                  "-o", f"junit={out}/report.xml", "-o", f"markdown={out}/report.md")
    texts = {path.name: path.read_text() for path in sorted(out.iterdir())}
    texts["report.xml"] = re.sub(r' time="[0-9.]+"', "", texts["report.xml"])  # durations vary
    return result.exit_code, texts


def test_several_processes_report_what_one_process_does(tree, tmp_path):
    serial = reports(1, tmp_path)
    assert "input" in serial[1]["report.json"] and '"fixes"' in serial[1]["report.sarif"]
    assert '"TDV-K8S-180"' in serial[1]["report.json"] and "aa-role.yaml" in serial[1]["report.sarif"]
    assert reports(3, tmp_path) == serial


@pytest.mark.parametrize("jobs", [("-j", "2"), ("-j", "0"), ()])  # 0 and the default: one per core
def test_the_work_is_shared(tree, monkeypatch, tmp_path, jobs):
    """Each child's results come back detached: proof that they were evaluated there."""
    monkeypatch.setattr(parallel, "default_jobs", lambda: 2)
    seen = []
    original = parallel._receive

    def receive(job, worker):
        received = original(job, worker)
        seen.append(all(type(r.resource.locator) is StartOnly for r in received.results))
        return received

    monkeypatch.setattr(parallel, "_receive", receive)
    scan(*jobs, "-o", f"json={tmp_path}/out.json")
    assert seen == [True]


def test_one_job_keeps_everything_in_this_process(tree, monkeypatch, tmp_path):
    monkeypatch.setattr(parallel, "default_jobs", lambda: 2)
    monkeypatch.setattr(parallel, "_child", lambda items, connection: pytest.fail("a second process ran"))
    monkeypatch.setattr(parallel, "_receive", lambda job, worker: pytest.fail("a second process ran"))
    assert scan("-j", "1", "-o", f"json={tmp_path}/out.json").exit_code == 2  # broken.yaml


def test_a_failed_worker_costs_time_not_results(tree, monkeypatch, tmp_path):
    serial = reports(1, tmp_path)

    parent, original = os.getpid(), parallel.detach

    def die(*args):
        if os.getpid() != parent:
            os._exit(3)  # as if killed: nothing is sent
        original(*args)

    monkeypatch.setattr(parallel, "detach", die)
    assert reports(2, tmp_path) == serial


def test_a_worker_that_fails_before_sharing_what_it_read_costs_time_not_results(tree, monkeypatch, tmp_path):
    """Cross-resource policies need every shard's inventory entries before any shard is
    evaluated; a worker that dies then has its shard read and evaluated here."""
    serial = reports(1, tmp_path)
    parent, original = os.getpid(), work.entries_of

    def entries_of(job, resources):
        if os.getpid() != parent:
            os._exit(3)
        return original(job, resources)

    monkeypatch.setattr(work, "entries_of", entries_of)
    redone = spy_on_redo(monkeypatch)
    assert reports(2, tmp_path) == serial
    assert redone


def test_shards_are_contiguous_and_balanced(tmp_path, monkeypatch):
    monkeypatch.setattr(parallel, "MIN_SHARD_BYTES", 10)
    items = []
    for index, size in enumerate([40, 40, 10, 10, 10, 10, 40, 40]):
        path = tmp_path / f"{index}.yaml"
        path.write_text("x" * size)
        items.append(InputFile(path, path.name))
    shards = parallel.shard(items, 2)
    assert [i for s in shards for i in s] == list(range(8))
    assert shards == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert parallel.shard(items, 1) == [list(range(8))]
    monkeypatch.setattr(parallel, "MIN_SHARD_BYTES", 1000)
    assert parallel.shard(items, 4) == [list(range(8))]  # 200 bytes: not worth a process
    assert parallel.shard([], 4) == []


def test_a_worker_sends_its_results_a_chunk_at_a_time(tree, monkeypatch, tmp_path):
    """A worker encodes each chunk's results once evaluated and sends them one by one: it
    holds bytes rather than objects, and this process decodes one part at a time."""
    serial = reports(1, tmp_path)
    parts = []
    original = codec.decode

    def decode(payload, policies):
        decoded = original(payload, policies)
        parts.append(type(decoded).__name__)
        return decoded

    monkeypatch.setattr(codec, "decode", decode)
    monkeypatch.setattr(work, "CHUNK_BYTES", 1)
    assert reports(2, tmp_path) == serial
    assert parts.count("int") == 1 and parts.count("ShardResult") > 2


def test_a_worker_that_stops_between_parts_costs_time_not_results(tree, monkeypatch, tmp_path):
    serial = reports(1, tmp_path)
    original = parallel._child

    class Cut:
        """The worker's end of the pipe, closed after its inventory entries, the number of
        parts and one part."""

        def __init__(self, connection):
            self.connection, self.sent = connection, 0

        def send_bytes(self, payload):
            self.sent += 1
            if self.sent <= 3:
                self.connection.send_bytes(payload)

        def __getattr__(self, name):
            return getattr(self.connection, name)

    monkeypatch.setattr(parallel, "_child", lambda items, connection: original(items, Cut(connection)))
    monkeypatch.setattr(work, "CHUNK_BYTES", 1)
    redone = spy_on_redo(monkeypatch)
    assert reports(2, tmp_path) == serial
    assert redone


def test_a_detached_resource_keeps_what_reporters_read():
    document = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "uid": "1"},
                "spec": {"containers": [{"name": "app"}]}}
    resource = Resource("Pod", "v1", "web", None, document, "pod.yaml",
                        locator=lambda path: Position(3 + len(path), 1))
    resource.stable_paths[("spec", "containers", 0)] = ".spec.containers[name=app]"
    resource.detach()
    assert resource.document == {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "uid": "1"}}
    assert resource.locate(()).line == 3
    assert resource.locate(("spec",)).line == 3  # only the start is kept
    from validator.fingerprint import fingerprint

    assert fingerprint("P", resource, ("spec", "containers", 0)) == fingerprint(
        "P", Resource("Pod", "v1", "web", None, document, "pod.yaml"), ("spec", "containers", 0))
    # Most detached resources have no metadata of tdv's and no findings: one empty dict for all.
    other = Resource("Pod", "v1", "db", None, {"kind": "Pod"}, "pod.yaml")
    other.detach()
    passing = Resource("Pod", "v1", "cache", None, {"kind": "Pod"}, "pod.yaml")
    passing.detach()
    assert other.metadata == {} and other.metadata is passing.metadata is passing.stable_paths


def test_jobs_cannot_be_negative(tree):
    result = tdv("scan", "scan", "--no-config", "-j", "-1")
    assert result.exit_code == 2 and "--jobs" in result.output


@pytest.mark.parametrize("files, expected", [
    ({"cpu.max": "max 100000\n"}, None),
    ({"cpu.max": "150000 100000\n"}, 2),
    ({"cpu.max": "50000 100000\n"}, 1),
    ({"cpu/cpu.cfs_quota_us": "400000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 4),
    ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
    ({}, None),
])
def test_a_container_cpu_quota_limits_the_processes(tmp_path, files, expected):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
    assert parallel.cpu_quota(tmp_path) == expected


def test_default_jobs_respects_the_quota(monkeypatch):
    monkeypatch.setattr(parallel, "cpu_quota", lambda: 1)
    assert parallel.default_jobs() == 1
    monkeypatch.setattr(parallel, "cpu_quota", lambda: None)
    assert 1 <= parallel.default_jobs() <= parallel.MAX_JOBS


def test_a_worker_that_cannot_start_costs_time_not_results(tree, monkeypatch, tmp_path):
    import multiprocessing.context

    serial = reports(1, tmp_path)

    def refuse(self):
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(multiprocessing.context.ForkProcess, "start", refuse)
    redone = spy_on_redo(monkeypatch)
    assert reports(2, tmp_path) == serial
    assert redone


def spy_on_redo(monkeypatch) -> list:
    redone = []
    original = parallel._redo

    def redo(job, items, known, done):
        redone.append(len(items))
        return original(job, items, known, done)

    monkeypatch.setattr(parallel, "_redo", redo)
    return redone


def test_results_that_cannot_be_read_are_redone_here(tree, monkeypatch, tmp_path):
    serial = reports(1, tmp_path)

    def unreadable(payload, policies):
        raise codec.EncodingError("truncated")

    monkeypatch.setattr(codec, "decode", unreadable)
    redone = spy_on_redo(monkeypatch)
    assert reports(2, tmp_path) == serial
    assert redone


def test_files_evaluated_a_few_at_a_time_and_read_again_give_the_same_reports(tree, monkeypatch, tmp_path):
    """Memory stays flat: a shard's files are evaluated a chunk at a time, and past the keep
    budget, the files read for the inventory are read again to be evaluated."""
    serial = reports(1, tmp_path)
    reads: list[str] = []
    original = work.read

    def counting(job, items):
        reads.extend(item.display for item in items)
        return original(job, items)

    monkeypatch.setattr(work, "read", counting)
    monkeypatch.setattr(work, "CHUNK_BYTES", 1)
    monkeypatch.setattr(work, "KEEP_BYTES", 0)
    assert reports(1, tmp_path) == serial
    assert reads.count("scan/aa-role.yaml") == 2  # once for the inventory, once to be evaluated
    reads.clear()
    monkeypatch.setattr(work, "KEEP_BYTES", 10**9)
    assert reports(1, tmp_path) == serial
    assert reads.count("scan/aa-role.yaml") == 1


def test_a_scan_keeps_no_document_and_no_passed_check_as_a_result(tree):
    from validator.checks import Passed
    from validator.pipeline import scan as run_scan

    report = run_scan(["scan"], detach=True)
    assert any(isinstance(item, Passed) for item in report.results.items)
    assert all(item.status is not Status.PASS for item in report.results.outcomes())
    for obj in report.results.resources():
        assert isinstance(obj.locator, StartOnly)
        assert set(obj.document) <= {"apiVersion", "kind", "metadata"}
        assert set(obj.document.get("metadata", {})) <= {"name", "namespace", "generateName", "uid",
                                                         "ownerReferences"}


def test_detached_labels_are_kept_only_for_exemptions_that_select_by_label():
    document = {"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "web", "labels": {"app": "web"}, "annotations": {"big": "x" * 1000},
                             "managedFields": [{"manager": "kubectl"}]}}
    kept, dropped = (Resource("Pod", "v1", "web", None, dict(document), "pod.yaml") for _ in range(2))
    kept.detach()
    dropped.detach(labels=False)
    assert kept.document["metadata"] == {"name": "web", "labels": {"app": "web"}}
    assert dropped.document["metadata"] == {"name": "web"}


def test_what_findings_repeat_is_kept_once(tmp_path):
    """Thousands of objects fail the same way: their messages, blamed paths and planned
    fixes' texts are the same strings, not copies."""
    from validator.pipeline import scan as run_scan

    pod = ("apiVersion: v1\nkind: Pod\nmetadata: {{name: web-{n}, namespace: shop}}\n"
           "spec:\n  containers:\n  - name: app\n    image: nginx:1.27\n")
    for n in range(2):
        (tmp_path / f"pod-{n}.yaml").write_text(pod.format(n=n))
    report = run_scan([str(tmp_path)], root=tmp_path, detach=True, plan_fixes=True)
    by_policy: dict = {}
    for result in report.failures:
        by_policy.setdefault(result.policy.id, []).append(result)
    pairs = [found for found in by_policy.values() if len(found) == 2]
    assert any(one.message is other.message for first, second in pairs
               for one, other in zip(first.violations, second.violations))
    for first, second in pairs:
        for one, other in zip(first.violations, second.violations):
            assert one.field_path is other.field_path
            assert one.message is other.message or one.message != other.message  # some name the object
    texts = [(one, other) for first, second in pairs if first.fixes and second.fixes
             for a, b in [(first.fixes[0], second.fixes[0])]
             for one, other in [(a.description, b.description),
                                *zip((r.inserted for _, rs in a.changes for r in rs),
                                     (r.inserted for _, rs in b.changes for r in rs))]]
    assert any(one is other for one, other in texts)
    assert all(one is other or one != other for one, other in texts)
