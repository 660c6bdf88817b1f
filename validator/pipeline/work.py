"""The unit of work of a scan: a list of inputs read, evaluated and their fixes planned.

The same functions run over a shard whether it is this process's, a worker process's or
(later) another CI executor's, and give the same `ShardResult`. Inputs that must be read
together (Helm charts, Kustomize overlays, Terraform modules and their plans) are read by
`sources.collect` in this process; their resources then go through `evaluate`, the second
half of the same unit.

When cross-resource policies run, the unit has two halves with a barrier between them: every
shard is read and gives the inventory entries of its resources (`read`, `entries_of`); the
inventory of the whole scan is built from all of them; then every shard is evaluated with
it. A scan in one process, in several, or in several CI jobs sees the same inventory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from validator import inventory, sources
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

    @property
    def cross_resource(self) -> bool:
        return bool(self.relations)


@dataclass
class ShardResult:
    results: list[Result] = field(default_factory=list)  # sorted as Engine.run sorts them
    errors: list[list[InputProblem]] = field(default_factory=list)  # per input file, in order
    resources: int = 0  # evaluated (after exclusions)
    excluded: int = 0  # left out by the config file

    def __add__(self, other: "ShardResult") -> "ShardResult":
        return ShardResult(self.results + other.results, self.errors + other.errors,
                           self.resources + other.resources, self.excluded + other.excluded)


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
    results = job.engine.run(kept, known)
    if job.plan_fixes:
        plan_fixes(job, results)
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
            result.fixes = result_fixes(result, planner, job.context.root, cache)


def detach(results: list[Result]) -> None:
    """Keep of each resource only what reports need once it is evaluated (Resource.detach):
    first the stable form of every field its findings blame (for fingerprints), then let the
    document and its source positions go."""
    from validator.fingerprint import stable_path

    for result in results:
        if result.status is not Status.FAIL:
            continue
        resource = result.resource
        if isinstance(resource.locator, StartOnly):
            continue  # detached already (evaluated in a worker process)
        for violation in result.violations:
            resource.stable_paths[violation.field_path] = stable_path(resource.document, violation.field_path)
    for resource in {id(r.resource): r.resource for r in results}.values():
        if not isinstance(resource.locator, StartOnly):
            resource.detach()
