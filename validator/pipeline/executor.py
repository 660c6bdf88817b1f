"""Running shards of a scan in worker processes, for big scans on several cores.

Loading YAML and evaluating CEL both hold the interpreter lock, so threads would not help;
processes do. The files that are read on their own (see `sources.can_defer`) are split into
contiguous shards of about equal size. This process takes the first shard itself; each
other shard goes to a child forked from it, which inherits the compiled policies and
settings without copying them, runs the same unit of work (`work.run_shard`) and sends its
`ShardResult` back in the declared encoding (see codec). Before sending, a child detaches
its resources (`Resource.detach`): the findings' locations, fingerprints and fixes were
computed while the documents were at hand.

Results are merged in file order, so the report is the same as a scan in one process. When
no worker process can be had (not on Linux, a limit on processes, no memory) or one fails
(killed, out of memory), its shard runs here: that costs time, never results.

A scan with cross-resource policies (see validator.inventory) runs its shards in two passes
(`run_with_inventory`): each shard reads its files and sends the entries of its resources;
this process builds the scan's inventory from all of them and sends it back; each shard then
evaluates its resources with it. Every policy thus sees the same inventory, whatever the
number of processes.
"""

from __future__ import annotations

import logging
import os
import pickle
import sys
from pathlib import Path
from typing import Any

from validator import inventory
from validator.model import Resource, Result, Status
from validator.pipeline import codec
from validator.pipeline.work import Job, ShardResult, evaluate, read, run_shard
from validator.sources.files import InputFile

log = logging.getLogger(__name__)

# Below this many bytes a shard is not worth a process (forking, compiling the policies
# again and sending results back cost tens of milliseconds).
MIN_SHARD_BYTES = 1024 * 1024
MAX_JOBS = 8
PARENT_SHARE = 1.1  # relative to a child's (see `shard`)


def default_jobs() -> int:
    """The cores this process may use, at most MAX_JOBS: those it may run on, fewer when a
    container's CPU quota allows less (`docker run --cpus 2` on a 64-core host)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    quota = cpu_quota()
    if quota is not None:
        cores = min(cores, quota)
    return max(1, min(cores, MAX_JOBS))


def cpu_quota(cgroup: Path = Path("/sys/fs/cgroup")) -> int | None:
    """The CPU quota of this process's cgroup, rounded up to whole cores; None without one."""
    try:
        if (cgroup / "cpu.max").exists():  # cgroup v2: "QUOTA PERIOD" or "max PERIOD"
            quota, _, period = (cgroup / "cpu.max").read_text().partition(" ")
        else:  # cgroup v1
            quota = (cgroup / "cpu" / "cpu.cfs_quota_us").read_text()
            period = (cgroup / "cpu" / "cpu.cfs_period_us").read_text()
        quota_us, period_us = int(quota), int(period)
    except (OSError, ValueError):  # no limit ("max", -1), or no cgroup files
        return None
    if quota_us <= 0 or period_us <= 0:
        return None
    return max(1, -(-quota_us // period_us))


def shard(items: list[InputFile], jobs: int) -> list[list[int]]:
    """Indexes of `items`, in contiguous runs of about equal size; one run when working in
    parallel is not possible or not worth it."""
    if jobs <= 1 or len(items) < 2 or not sys.platform.startswith("linux"):
        return [list(range(len(items)))] if items else []
    sizes = [_size(item) for item in items]
    total = sum(sizes)
    count = max(1, min(jobs, len(items), total // MIN_SHARD_BYTES))
    # The first shard is this process's: a little more, as children then encode their results.
    weights = [PARENT_SHARE] + [1.0] * (count - 1)
    ends = [sum(weights[:n + 1]) / sum(weights) * total for n in range(count)]
    shards: list[list[int]] = [[] for _ in range(count)]
    done = 0
    for index, size in enumerate(sizes):
        target = next(n for n, end in enumerate(ends) if done + size / 2 <= end or n == count - 1)
        shards[target].append(index)
        done += size
    return [indexes for indexes in shards if indexes]


def _size(item: InputFile) -> int:
    try:
        return os.stat(item.path).st_size if item.path else 0
    except OSError:
        return 0


def run(job: Job, items: list[InputFile], jobs: int) -> ShardResult:
    """`run_shard` over `items`, in up to `jobs` processes. Results come shard by shard, each
    sorted as `Engine.run` sorts them; errors are listed per file, in the order of `items`."""
    shards = shard(items, jobs)
    if len(shards) <= 1:
        return run_shard(job, items)
    import multiprocessing

    global _job
    _job = job
    context = multiprocessing.get_context("fork")
    children = []
    for indexes in shards[1:]:
        receiver, sender = context.Pipe(duplex=False)
        process: Any = context.Process(target=_child, args=([items[i] for i in indexes], sender), daemon=True)
        try:
            process.start()
        except OSError as error:  # no process to be had (a limit on processes, or memory)
            log.debug("cannot start a worker process (%s): reading its files here", error.strerror or error)
            receiver.close()
            process = None
        finally:
            sender.close()
        children.append((indexes, process, receiver))
    log.debug("evaluating %d files in %d processes", len(items), len(shards))
    output = run_shard(job, [items[i] for i in shards[0]])
    for indexes, process, receiver in children:
        received = _receive(job, receiver, process) if process is not None else None
        output = output + (received or _redo(job, [items[i] for i in indexes]))
    _job = None
    return output


_job: Job | None = None


def _redo(job: Job, items: list[InputFile], built: inventory.Inventory | None = None) -> ShardResult:
    log.debug("a worker process stopped early: reading its %d files here", len(items))
    return run_shard(job, items, built)


def _child(items: list[InputFile], sender: Any) -> None:
    try:
        assert _job is not None
        output = run_shard(_job, items)
        _detach(output.results)
        sender.send_bytes(codec.encode(output, _job.engine.policies))
    except BaseException as error:  # the parent redoes the shard
        log.debug("a worker process failed: %s", type(error).__name__)
    finally:
        sender.close()


def _receive(job: Job, receiver: Any, process: Any) -> ShardResult | None:
    try:
        payload = receiver.recv_bytes()
    except (EOFError, OSError):
        payload = None
    finally:
        receiver.close()
        process.join()
    if payload is None:
        return None
    try:
        return codec.decode(payload, job.engine.policies)
    except codec.EncodingError as error:  # not expected: the shard is redone
        log.debug("a worker process's results cannot be read: %s", error)
        return None


def _detach(results: list[Result]) -> None:
    """Compute what needs the documents, then detach the resources."""
    from validator.fingerprint import stable_path

    for result in results:
        if result.status is not Status.FAIL:
            continue
        resource = result.resource
        for violation in result.violations:
            resource.stable_paths[violation.field_path] = stable_path(resource.document, violation.field_path)
    for resource in {id(r.resource): r.resource for r in results}.values():
        resource.detach()


class _Shard:
    """A worker of a two-pass run (see `run_with_inventory`), seen from this process."""

    def __init__(self, items: list[InputFile], process: Any, connection: Any):
        self.items, self.process, self.connection = items, process, connection

    def entries(self, job: Job) -> list[inventory.Entry]:
        """The entries the worker sends; when it cannot, those of its files read here."""
        if self.process is not None:
            try:
                return pickle.loads(self.connection.recv_bytes())
            except Exception as error:  # the worker is gone: its files are read here
                log.debug("a worker process sent no entries: %s", type(error).__name__)
                self._stop()
        return inventory.entries(read(job, self.items)[0])

    def send(self, payload: bytes) -> None:
        if self.process is not None:
            try:
                self.connection.send_bytes(payload)
            except OSError:  # the worker is gone: its shard is redone here
                self._stop()

    def results(self, job: Job, built: inventory.Inventory) -> ShardResult:
        received = _receive(job, self.connection, self.process) if self.process is not None else None
        return received or _redo(job, self.items, built)

    def _stop(self) -> None:
        self.connection.close()
        self.process.join()
        self.process = None


def run_with_inventory(job: Job, items: list[InputFile], jobs: int,
                       local: list[Resource]) -> tuple[ShardResult, ShardResult]:
    """The results of `local` (resources this process has read already) and of `items`, in
    up to `jobs` processes, every one evaluated with the inventory of all of them. Results
    and errors come as `run` gives them."""
    shards = shard(items, jobs)
    children: list[_Shard] = []
    if len(shards) > 1:
        import multiprocessing

        global _job
        _job = job
        context = multiprocessing.get_context("fork")
        for indexes in shards[1:]:
            mine, theirs = context.Pipe(duplex=True)
            process: Any = context.Process(target=_two_pass_child, args=([items[i] for i in indexes], theirs),
                                           daemon=True)
            try:
                process.start()
            except OSError as error:  # no process to be had: its files are read here
                log.debug("cannot start a worker process (%s): reading its files here", error.strerror or error)
                process = None
            finally:
                theirs.close()
            children.append(_Shard([items[i] for i in indexes], process, mine))
    own = [items[i] for i in shards[0]] if shards else []
    resources, errors = read(job, own)
    gathered = inventory.entries(local) + inventory.entries(resources)
    for child in children:
        gathered += child.entries(job)
    built = inventory.build(gathered)
    payload = pickle.dumps(built, protocol=pickle.HIGHEST_PROTOCOL)
    for child in children:
        child.send(payload)
    local_output = evaluate(job, local, built)
    output = evaluate(job, resources, built)
    output.errors = errors
    for child in children:
        output = output + child.results(job, built)
    _job = None
    return local_output, output


def _two_pass_child(items: list[InputFile], connection: Any) -> None:
    try:
        assert _job is not None
        resources, errors = read(_job, items)
        connection.send_bytes(pickle.dumps(inventory.entries(resources), protocol=pickle.HIGHEST_PROTOCOL))
        built = pickle.loads(connection.recv_bytes())
        output = evaluate(_job, resources, built)
        output.errors = errors
        _detach(output.results)
        connection.send_bytes(codec.encode(output, _job.engine.policies))
    except BaseException as error:  # this process reads or redoes the shard
        log.debug("a worker process failed: %s", type(error).__name__)
    finally:
        connection.close()
