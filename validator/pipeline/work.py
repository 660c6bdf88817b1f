"""The unit of work of a scan: a list of inputs read, evaluated and their fixes planned.

The same function runs over a shard whether it is this process's, a worker process's or
(later) another CI executor's, and returns the same `ShardResult`. Inputs that must be read
together (Helm charts, Kustomize overlays, Terraform modules and their plans) are read by
`sources.collect` in this process; their resources then go through `evaluate`, the second
half of the same unit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from validator import sources
from validator.engine import Engine
from validator.filters import exclusions as exclusion_filter
from validator.inventory import Inventory
from validator.model import InputError, Resource, Result, Status
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


@dataclass
class ShardResult:
    results: list[Result] = field(default_factory=list)  # sorted as Engine.run sorts them
    errors: list[list[InputError]] = field(default_factory=list)  # per input file, in order
    resources: int = 0  # evaluated (after exclusions)
    excluded: int = 0  # left out by the config file

    def __add__(self, other: "ShardResult") -> "ShardResult":
        return ShardResult(self.results + other.results, self.errors + other.errors,
                           self.resources + other.resources, self.excluded + other.excluded)


def run_shard(job: Job, items: list[InputFile], inventory: Inventory | None = None) -> ShardResult:
    """Read `items` (each on its own: see sources.can_defer), then `evaluate` them."""
    resources, errors = read(job, items)
    output = evaluate(job, resources, inventory)
    output.errors = errors
    return output


def read(job: Job, items: list[InputFile]) -> tuple[list[Resource], list[list[InputError]]]:
    """The resources of `items`, and the errors of each item."""
    resources: list[Resource] = []
    errors: list[list[InputError]] = []
    for item in items:
        found: list[InputError] = []
        for parsed in sources.read_file(item, job.context):
            if isinstance(parsed, InputError):
                found.append(parsed)
            else:
                resources.append(parsed)
        errors.append(found)
    return resources, errors


def needs_inventory(job: Job) -> bool:
    """Whether a policy of the scan reads other objects (see validator.inventory): then
    every shard's entries are gathered into one inventory before anything is evaluated."""
    return any(policy.relations for policy in job.engine.policies)


def evaluate(job: Job, resources: list[Resource], inventory: Inventory | None = None) -> ShardResult:
    """Leave out the excluded resources, evaluate the rest and plan the fixes of their
    findings. Cross-resource policies are evaluated only with the scan's `inventory`.
    Raises PolicyError when a policy compiled on demand does not compile."""
    kept, excluded = exclusion_filter.apply(resources, job.exclusions, job.context.root)
    results = job.engine.run(kept, inventory)
    if job.plan_fixes:
        plan_fixes(job, results)
    return ShardResult(results, [], len(kept), excluded)


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
