"""Reading and evaluating files in worker processes, for big scans on several cores.

Loading YAML and evaluating CEL both hold the interpreter lock, so threads would not
help; processes do. The files that are read on their own (see `sources.can_defer`) are
split into contiguous shards of about equal size. The parent process takes the first
shard itself; each other shard goes to a child forked from it, which inherits the
compiled policies and settings without copying them.

A child sends back its results with detached resources (`Resource.detach`): the findings'
locations and fingerprints are computed in the child while the documents are at hand, and
so are SARIF's fixes when it is wanted (by every shard, this process's included). Policies
travel as their index. Results are merged in file order, so the report is the same as a
scan in one process. A child that fails (killed, out of memory, or not started) costs
time, never results: its shard is redone here.

Forking is used only on Linux, where it is safe and cheap; elsewhere everything runs in
this process. `tdv scan` uses one process per core by default; `--jobs 1` keeps to one
(where two vCPUs share one physical core, a second busy process mostly costs CPU).
"""

from __future__ import annotations

import io
import logging
import os
import pickle
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from validator import sources
from validator.filters import exclusions as exclusion_filter
from validator.gc_pause import paused_cycle_collection
from validator.model import InputError, Location, Result, Status, Violation
from validator.sources.context import SourceContext
from validator.sources.files import InputFile

log = logging.getLogger(__name__)

# Below this many bytes a shard is not worth a process (forking, compiling the policies
# again and sending results back cost tens of milliseconds).
MIN_SHARD_BYTES = 1024 * 1024
MAX_JOBS = 8
PARENT_SHARE = 1.1  # relative to a child's (see `shard`)


@dataclass
class Job:
    """Everything a shard needs; set before forking, so children inherit it."""

    engine: Any  # validator.engine.Engine
    context: SourceContext
    exclusions: list[exclusion_filter.Exclusion]
    sarif_fixes: bool = False  # compute SARIF's fixes (see validator.fix.preview)
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class ShardOutput:
    results: list[Result] = field(default_factory=list)
    errors: list[list[InputError]] = field(default_factory=list)  # per file of the shard
    resources: int = 0  # evaluated (after exclusions)
    excluded: int = 0


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
    # The first shard is this process's: a little more, as children then pickle their results.
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


def evaluate_files(job: Job, items: list[InputFile], jobs: int) -> ShardOutput:
    """Read and evaluate `items`, in up to `jobs` processes. Results come shard by shard,
    each sorted as `Engine.run` sorts them; errors are listed per file, in the order of
    `items`."""
    shards = shard(items, jobs)
    if len(shards) <= 1:
        return _run_shard(job, items, detach=False)
    import multiprocessing

    global _job
    _job = job
    context = multiprocessing.get_context("fork")
    children = []
    for indexes in shards[1:]:
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(target=_child, args=([items[i] for i in indexes], sender), daemon=True)
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
    output = _run_shard(job, [items[i] for i in shards[0]], detach=False)
    for indexes, process, receiver in children:
        received = _receive(job, receiver, process) if process is not None else None
        output = _merge(output, received or _redo(job, [items[i] for i in indexes]))
    _job = None
    return output


_job: Job | None = None


def _child(items: list[InputFile], sender: Any) -> None:
    try:
        output = _run_shard(_job, items, detach=True)
        buffer = io.BytesIO()
        _Pickler(buffer, _job.engine.policies).dump(output)
        sender.send_bytes(buffer.getbuffer())
    except BaseException as error:  # the parent redoes the shard
        log.debug("a worker process failed: %s", type(error).__name__)
    finally:
        sender.close()


def _receive(job: Job, receiver: Any, process: Any) -> ShardOutput | None:
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
        return _load(payload, job.engine.policies)
    except Exception as error:  # not expected: the shard is redone
        log.debug("a worker process's results cannot be read: %s", type(error).__name__)
        return None


def _redo(job: Job, items: list[InputFile]) -> ShardOutput:
    log.debug("a worker process stopped early: reading its %d files here", len(items))
    return _run_shard(job, items, detach=False)


def _merge(first: ShardOutput, second: ShardOutput) -> ShardOutput:
    return ShardOutput(first.results + second.results, first.errors + second.errors,
                       first.resources + second.resources, first.excluded + second.excluded)


def _run_shard(job: Job, items: list[InputFile], detach: bool) -> ShardOutput:
    output = ShardOutput()
    resources = []
    with paused_cycle_collection():
        for item in items:
            errors = []
            for parsed in sources.read_file(item, job.context):
                (errors if isinstance(parsed, InputError) else resources).append(parsed)
            output.errors.append(errors)
        resources, output.excluded = exclusion_filter.apply(resources, job.exclusions, job.context.root)
        output.resources = len(resources)
        output.results = job.engine.run(resources)
        if job.sarif_fixes:  # here, in parallel with the other shards, rather than when reporting
            _sarif_fixes(job, output.results)
        if detach:
            _prepare_to_send(output.results)
    return output


def _sarif_fixes(job: Job, results: list[Result]) -> None:
    """The SARIF fixes of the findings (validator.fix.preview), while the files are at hand."""
    from validator.fix.plan import Planner
    from validator.fix.preview import result_fixes

    planner = Planner(job.overrides)
    cache: dict = {}
    for result in results:
        if result.status is Status.FAIL:
            result.fixes = result_fixes(result, planner, job.context.root, cache)


def _prepare_to_send(results: list[Result]) -> None:
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


class _Pickler(pickle.Pickler):
    """Sends a policy as its index in the engine's list (both processes hold the same list),
    and the objects sent by the ten thousand as their constructor arguments, which is
    smaller and faster than their attribute dictionaries."""

    def __init__(self, file: Any, policies: list[Any]):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        indexes = {id(policy): index for index, policy in enumerate(policies)}
        # Consulted only for objects pickle has no built-in rule for (not str, dict, ...).
        self.dispatch_table = {type(policy): lambda policy: (_policy_at, (indexes[id(policy)],))
                               for policy in policies}
        self.dispatch_table[Result] = lambda r: (Result, (r.policy, r.resource, r.status, r.violations, r.error,
                                                          r.duration, r.suppression, r.fixes))
        self.dispatch_table[Violation] = lambda v: (Violation, (v.message, v.field_path, v.location, v.baseline,
                                                                        v.validation))
        self.dispatch_table[Location] = lambda loc: (Location, (loc.path, loc.line, loc.column))


_received_policies: list[Any] = []


def _policy_at(index: int) -> Any:
    return _received_policies[index]


def _load(payload: bytes, policies: list[Any]) -> Any:
    global _received_policies
    _received_policies = policies
    try:
        return pickle.loads(payload)
    finally:
        _received_policies = []
