"""The unit of work of a scan: a list of inputs read, evaluated and their fixes planned.

The same functions run over a shard whether it is this process's, a worker process's or
(later) another CI executor's, and give the same `ShardResult`. Inputs that must be read
together (Helm charts, Kustomize overlays, Terraform modules and their plans) are read by
`sources.collect` in this process; their resources then go through `evaluate`, the second
half of the same unit.

When cross-resource policies run, the unit has two halves with a barrier between them: every
shard is read and gives the inventory entries of its resources (`Files.entries`); the
inventory of the whole scan is built from all of them; then every shard is evaluated with
it. A scan in one process, in several, or in several CI jobs sees the same inventory.

Memory stays about flat however many files a shard has: its files are evaluated a few at a
time (`Files.chunks`, about CHUNK_BYTES of input each), and each resource's document is let
go once its findings are located and their fixes planned (`detach`). Between the two halves,
what the first read parsed is kept for the first KEEP_BYTES of input only; the files after
that are read again for evaluation (parsing costs CPU, keeping costs memory: a file's parsed
documents take about ten times its size).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from validator import inventory, sources
from validator.checks import Checks
from validator.engine import Engine
from validator.filters import exclusions as exclusion_filter
from validator.inventory import Entry, Inventory
from validator.model import InputProblem, Resource, Result, StartOnly, Status
from validator.sources.context import SourceContext
from validator.sources.files import InputFile


@dataclass
class Job:
    """What every shard of a scan shares: set before worker processes start, so that they
    inherit it."""

    engine: Engine
    context: SourceContext
    exclusions: tuple[exclusion_filter.Exclusion, ...]
    plan_fixes: bool = False  # plan each finding's fix (see validator.fix.preview)
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    relations: tuple[str, ...] = ()  # those the policies read: shards are then evaluated with the inventory
    # Let each resource's document go once it is evaluated (reports need only what
    # Resource.detach keeps); `tdv fix` keeps them to edit the files.
    detach: bool = False
    keep_labels: bool = True  # when detaching: exemptions select resources by label

    @property
    def cross_resource(self) -> bool:
        return bool(self.relations)


@dataclass
class ShardResult:
    results: Checks = field(default_factory=Checks)  # each file's sorted as Engine.run sorts them
    errors: list[list[InputProblem]] = field(default_factory=list)  # per input file, in order
    resources: int = 0  # evaluated (after exclusions)
    excluded: int = 0  # left out by the config file

    def extend(self, other: "ShardResult") -> None:
        self.results.items += other.results.items
        self.errors += other.errors
        self.resources += other.resources
        self.excluded += other.excluded


@dataclass
class Shard:
    """The inputs of a shard, once read."""

    resources: list[Resource]
    errors: list[list[InputProblem]]  # per input file, in order


def read(job: Job, items: list[InputFile]) -> Shard:
    """Read `items`, each on its own (see sources.can_defer)."""
    resources: list[Resource] = []
    errors: list[list[InputProblem]] = []
    for item in items:
        found: list[InputProblem] = []
        for parsed in sources.read_file(item, job.context):
            if isinstance(parsed, InputProblem):
                found.append(parsed)
            else:
                resources.append(parsed)
        errors.append(found)
    return Shard(resources, errors)


CHUNK_BYTES = 2 * 1024 * 1024
KEEP_BYTES = 4 * 1024 * 1024


class Files:
    """A shard's files (each read on its own, see sources.can_defer): read once for the
    inventory's entries when cross-resource policies run, then evaluated a few at a time."""

    def __init__(self, job: Job, items: list[InputFile]):
        self.job, self.items = job, items
        self.kept: dict[int, Shard] = {}  # parsed by `entries`, by index in items

    def entries(self) -> list[Entry]:
        """The inventory entries of every file's resources (excluded ones included)."""
        found: list[Entry] = []
        budget = KEEP_BYTES
        for index, item in enumerate(self.items):
            shard = read(self.job, [item])
            found += entries_of(self.job, shard.resources)
            size = file_size(item)
            if size <= budget or not self.job.detach:  # without detaching, every document stays anyway
                self.kept[index] = shard
                budget -= size
        return found

    def chunks(self) -> Iterator[Shard]:
        """The files' resources and errors, about CHUNK_BYTES of input at a time, in order
        (each file read, or taken from what `entries` kept)."""
        chunk, size = Shard([], []), 0
        for index, item in enumerate(self.items):
            shard = self.kept.pop(index, None) or read(self.job, [item])
            chunk.resources += shard.resources
            chunk.errors += shard.errors
            size += file_size(item)
            if size >= CHUNK_BYTES:
                yield chunk
                chunk, size = Shard([], []), 0
        if chunk.errors:
            yield chunk

    def evaluate(self, known: Inventory | None = None) -> ShardResult:
        """Every file evaluated (see `evaluate`), a chunk at a time."""
        output = ShardResult()
        for part in self.evaluated(known):
            output.extend(part)
        return output

    def evaluated(self, known: Inventory | None = None) -> Iterator[ShardResult]:
        """The results of each chunk, in order."""
        for chunk in self.chunks():
            yield evaluate(self.job, chunk.resources, known, chunk.errors)


def file_size(item: InputFile) -> int:
    try:
        return os.stat(item.path).st_size if item.path else 0
    except OSError:
        return 0


def entries_of(job: Job, resources: list[Resource]) -> list[Entry]:
    """What the inventory keeps of these resources for the relations the policies read (every
    one read, excluded ones included: they exist, even if the config file leaves them
    unevaluated)."""
    return inventory.entries(resources, job.relations)


def evaluate(job: Job, resources: list[Resource], known: Inventory | None = None,
             errors: list[list[InputProblem]] | None = None) -> ShardResult:
    """Leave out the excluded resources, evaluate the rest (cross-resource policies with the
    inventory `known`) and plan the fixes of their findings. Raises PolicyError when a policy
    compiled on demand does not compile."""
    kept, excluded = exclusion_filter.apply(resources, job.exclusions, job.context.root)
    results = Checks.of(job.engine.run(kept, known))
    if job.plan_fixes:
        plan_fixes(job, results.outcomes())
    if job.detach:
        detach(results, job)
    return ShardResult(results, errors or [], len(kept), excluded)


def plan_fixes(job: Job, results: list[Result]) -> None:
    """Each finding's own fix (validator.fix.preview), planned while its file is at hand;
    for every failure, as suppressions are applied later."""
    from validator.fix.plan import Planner
    from validator.fix.preview import result_fixes

    planner = Planner(job.overrides)
    cache: dict = {}
    for result in results:
        if result.status is Status.FAIL:
            # Most failures have no fix: None rather than an empty tuple each.
            result.fixes = result_fixes(result, planner, job.context.root, cache, job.engine.interned) or None


def detach(results: Checks, job: Job) -> None:
    """Keep of each resource only what reports need once it is evaluated (Resource.detach,
    with labels if `job.keep_labels`): first the stable form of every field its findings
    blame (for fingerprints, each kept once in Engine.interned), then let the document and
    its source positions go."""
    from validator.fingerprint import stable_path

    interned = job.engine.interned
    for result in results.outcomes():
        if result.status is not Status.FAIL:
            continue
        resource = result.resource
        if isinstance(resource.locator, StartOnly):
            continue  # detached already (evaluated in a worker process)
        for violation in result.violations:
            stable = stable_path(resource.document, violation.field_path)
            resource.stable_paths[violation.field_path] = interned.setdefault(stable, stable)
    for resource in results.resources():
        if not isinstance(resource.locator, StartOnly):
            resource.detach(job.keep_labels)
