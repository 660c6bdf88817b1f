"""Running shards of a scan in worker processes, for big scans on several cores.

Loading YAML and evaluating CEL both hold the interpreter lock, so threads would not help;
processes do. The files that are read on their own (see `sources.can_defer`) are split into
contiguous shards of about equal size. This process takes the first shard itself; each
other shard goes to a child forked from it, which inherits the compiled policies and
settings without copying them, runs the same unit of work (pipeline.work) and sends its
results back in the declared encoding (see codec): the number of parts, then a `ShardResult`
per chunk of its files, each encoded as soon as it is evaluated. With cross-resource policies, each
child first sends the inventory entries of what it read, and evaluates once it has the scan's
inventory. Before sending its results, a child detaches
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

from validator import inventory
from validator.inventory import Entry, Inventory
from validator.pipeline import codec
from validator.pipeline.work import Files, Job, ShardResult, detach, file_size
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
    sizes = [file_size(item) for item in items]
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


class Shards:
    """The files of a scan that are read on their own, in shards: the first read here, the
    others in worker processes started at once. With cross-resource policies, `entries`
    gathers every shard's inventory entries first; `evaluate` then evaluates every shard
    with the scan's inventory. A worker that cannot start or fails costs time, never
    results: its shard is read or evaluated here."""

    def __init__(self, job: Job, items: list[InputFile], jobs: int):
        self.job = job
        parts = shard(items, jobs)
        self.own = Files(job, [items[i] for i in parts[0]] if parts else [])
        self.workers = [_Worker(job, [items[i] for i in indexes]) for indexes in parts[1:]]
        if self.workers:
            log.debug("evaluating %d files in %d processes", len(items), len(parts))

    def entries(self) -> list[Entry]:
        """The inventory entries of every shard's resources."""
        found = self.own.entries()
        for worker in self.workers:
            found += worker.entries()
        return found

    def evaluate(self, known: Inventory | None = None) -> ShardResult:
        """Every shard evaluated, with the inventory `known` when cross-resource policies run."""
        if known is not None:
            payload = codec.encode(known.entries, self.job.engine.policies)
            for worker in self.workers:
                worker.send(payload)
            del payload  # not held while this process evaluates its own shard
        output = self.own.evaluate(known)
        for worker in self.workers:
            output.extend(worker.result(known))
        return output


class _Worker:
    """One worker process and its shard; stands in for it when it cannot."""

    def __init__(self, job: Job, items: list[InputFile]):
        import multiprocessing

        global _job
        _job = job  # inherited by the forked child
        self.job, self.items = job, items
        self.files: Files | None = None  # the shard, read here when the worker could not
        self.connection, child_end = multiprocessing.Pipe(duplex=True)
        self.process: Any = multiprocessing.get_context("fork").Process(target=_child, args=(items, child_end),
                                                                       daemon=True)
        try:
            self.process.start()
        except OSError as error:  # no process to be had (a limit on processes, or memory)
            log.debug("cannot start a worker process (%s): reading its files here", error.strerror or error)
            self._stop()
        finally:
            child_end.close()

    def entries(self) -> list[Entry]:
        payload = self._receive()
        if payload is not None:
            try:
                return codec.decode(payload, self.job.engine.policies)
            except codec.EncodingError as error:
                log.debug("a worker process's entries cannot be read: %s", error)
                self._stop()
        self.files = Files(self.job, self.items)
        return self.files.entries()

    def send(self, payload: bytes) -> None:
        if self.process is None:
            return
        try:
            self.connection.send_bytes(payload)
        except OSError:  # it stopped: its shard is evaluated here
            self._stop()

    def result(self, known: Inventory | None) -> ShardResult:
        received = _receive(self.job, self) if self.process is not None else None
        self._stop()
        if received is not None:
            return received
        return _redo(self.job, self.items, known, self.files)

    def _receive(self) -> bytes | None:
        if self.process is None:
            return None
        try:
            return self.connection.recv_bytes()
        except (EOFError, OSError):
            self._stop()
            return None

    def _stop(self) -> None:
        """Done with the worker: once its results are in, or when it is given up on (then it
        may be waiting for the inventory, and is stopped: other workers hold copies of this
        pipe's ends, so closing ours would not wake it)."""
        self.connection.close()
        if self.process is not None and self.process.pid is not None:
            if self.process.is_alive():
                self.process.kill()
            self.process.join()
        self.process = None


_job: Job | None = None


def _redo(job: Job, items: list[InputFile], known: Inventory | None, done: Files | None) -> ShardResult:
    log.debug("a worker process stopped early: evaluating its %d files here", len(items))
    return (done if done is not None else Files(job, items)).evaluate(known)


def _child(items: list[InputFile], connection: Any) -> None:
    try:
        assert _job is not None
        job, policies = _job, _job.engine.policies
        files = Files(job, items)
        known = None
        if job.cross_resource:
            connection.send_bytes(codec.encode(files.entries(), policies))
            known = inventory.build(codec.decode(connection.recv_bytes(), policies))
        # Each chunk's results are encoded once evaluated (a tenth of their memory as objects)
        # and sent one by one: the parent holds one part's bytes at a time as it decodes.
        parts = []
        for part in files.evaluated(known):
            if not job.detach:  # sent back detached all the same (else `evaluate` has done it)
                detach(part.results, job)
            parts.append(codec.encode(part, policies))
        connection.send_bytes(codec.encode(len(parts), policies))
        for payload in parts:
            connection.send_bytes(payload)
    except BaseException as error:  # the parent does the shard's work
        log.debug("a worker process failed: %s", type(error).__name__)
    finally:
        connection.close()


def _receive(job: Job, worker: _Worker) -> ShardResult | None:
    """A worker's results, part by part (see `_child`), or None when they cannot be had."""
    policies = job.engine.policies
    payload = worker._receive()
    if payload is None:
        return None
    try:
        count = codec.decode(payload, policies)
        if type(count) is not int:
            raise codec.EncodingError(f"the number of parts is a {type(count).__name__}")
        output = ShardResult()
        for _ in range(count):
            payload = worker._receive()
            if payload is None:
                return None
            part = codec.decode(payload, policies)
            if not isinstance(part, ShardResult):
                raise codec.EncodingError(f"a part of the results is a {type(part).__name__}")
            output.extend(part)
        return output
    except codec.EncodingError as error:  # not expected: the shard is redone
        log.debug("a worker process's results cannot be read: %s", error)
        return None
