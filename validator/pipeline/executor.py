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
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

from validator.model import Result, Status
from validator.pipeline import codec
from validator.pipeline.work import Job, ShardResult, run_shard
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


def _redo(job: Job, items: list[InputFile]) -> ShardResult:
    log.debug("a worker process stopped early: reading its %d files here", len(items))
    return run_shard(job, items)


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
