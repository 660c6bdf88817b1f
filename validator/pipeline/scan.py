"""A scan, stage by stage: sources → engine → filters → fix planning → a report.

`run` is the only place a scan is assembled; `tdv scan`, `tdv fix` and the benchmarks call
it. Nothing here parses arguments, prints or writes a report: the caller does.
"""

from __future__ import annotations

from typing import Any, Sequence

from validator import __version__, inventory, sources
from validator.checks import Checks
from validator.config import Config
from validator.engine.policy import PolicyError
from validator.engine.scopes import configure_pod_templates
from validator.errors import SettingsError
from validator.filters import owned, severity, suppressions
from validator.gc_pause import paused_cycle_collection
from validator.model import InputProblem
from validator.pipeline import executor
from validator.pipeline.baseline import compare_with_baseline
from validator.pipeline.empty_input import nothing_to_scan
from validator.pipeline.library import build_engine, choose, load_library, policy_digest
from validator.pipeline.options import ScanFlags, ScanOptions, resolve
from validator.pipeline.work import Job, entries_of, evaluate, read
from validator.report import ScanReport, ShardOrigin
from validator.sources.context import SourceContext
from validator.sources.partition import Part


def run(options: ScanOptions) -> ScanReport:
    """Scan `options.paths`. Raises UserError for settings that cannot be used; a bad input
    is an error in the report, and the scan goes on.

    The cycle collector is paused here, for the whole scan: what it loads stays alive until
    the report is made, so collections would only walk it again (see validator.gc_pause).
    """
    with paused_cycle_collection():
        return _run(options)


def _run(options: ScanOptions) -> ScanReport:
    config = options.config
    configure_pod_templates(config.pod_templates)
    skipped: list = []  # Gatekeeper and conftest files that cannot be run: input errors, the scan goes on
    library = load_library(config, options.policy_dirs, options.conftest_namespaces, skipped)
    engine = build_engine(choose(library, options.selection, config), config)
    inputs = _collect(options, options.shard)
    job = Job(engine, SourceContext(options.root, options.max_bytes, options.tf_root), tuple(config.exclusions),
              options.plan_fixes, options.overrides, relations=engine.relations, detach=options.detach,
              keep_labels=any(exemption.match.label_selector for exemption in config.exemptions))
    try:
        shards = executor.Shards(job, [item for item, _ in inputs.deferred], options.jobs)
        known = None
        if job.cross_resource:
            known = inventory.build(entries_of(job, inputs.resources) + shards.entries() + _others(job, options))
        done = evaluate(job, inputs.resources, known)
        if inputs.deferred:
            more = shards.evaluate(known)
            done.results = (done.results + more.results).sorted_by_file()
            done.resources += more.resources
            done.excluded += more.excluded
            # Each deferred file's errors go where the file was found among the inputs.
            for (_, slot), errors in reversed(list(zip(inputs.deferred, more.errors))):
                inputs.errors[slot:slot] = errors
    except PolicyError as error:
        raise SettingsError(f"invalid policy: {error}") from None
    if_empty: list[InputProblem] = []
    if not (done.resources or done.excluded or inputs.errors or options.allow_empty):
        if_empty = nothing_to_scan(options.paths, options.root, inputs.files, options.max_bytes)
        if options.shard is None:
            inputs.errors.extend(if_empty)
    results, warnings = _filter(done.results, options, [p.id for p in library])
    reported = [p.id for p in engine.policies if p.severity >= options.report_floor]
    results, compared = compare_with_baseline(results, options.baseline, options.write_baseline, reported)
    return ScanReport(
        results=results,
        # The policy files that cannot be run, then the inputs' errors by file (as a merge of
        # shards gives them: see validator.pipeline.merge)
        errors=[InputProblem(e.path, e.message, e.line) for e in skipped] + sorted(inputs.errors, key=_by_file),
        policies=engine.policies,
        files_scanned=inputs.files,
        resources_scanned=done.resources,
        fail_on=options.fail_on,
        soft_fail=options.soft_fail,
        root=options.root.as_posix(),
        warnings=warnings,
        resources_excluded=done.excluded,
        baseline=compared,
        config=config.display or None,
        origin=_origin(options, engine.policies, if_empty, len(skipped)),
    )


def _by_file(error: InputProblem) -> str:
    return error.path


def _collect(options: ScanOptions, part: Part | None) -> sources.Inputs:
    """The inputs of `part` of the scan (all: None); the files read on their own are listed,
    to be read a few at a time (see pipeline.work.Files)."""
    return sources.collect(options.paths, options.root, options.max_bytes, tf_root=options.tf_root,
                           render=options.render, defer=True, skip=options.skip, part=part)


def _others(job: Job, options: ScanOptions) -> list:
    """The inventory entries of the other shards' inputs, read here one file at a time and let
    go: a cross-resource policy must see the whole scan (see docs/ci.md). Their input errors
    are theirs to report."""
    if options.shard is None or options.shard.total == 1:
        return []
    others = _collect(options, options.shard.complement())
    found = entries_of(job, others.resources)
    for item, _ in others.deferred:
        found += entries_of(job, read(job, [item]).resources)
    return found


def _origin(options: ScanOptions, policies: list, if_empty: list[InputProblem], policy_errors: int) -> ShardOrigin:
    part = options.shard or Part(1, 1)
    return ShardOrigin(__version__, part.index, part.total, options.digest(), policy_digest(policies),
                       tuple(if_empty), policy_errors)


def _filter(results: Checks, options: ScanOptions, known_ids: list[str]) -> tuple[Checks, list]:
    """Drop findings on objects a controller owns and those below the reported severity;
    mark the suppressed ones."""
    results = severity.at_least(owned.skip_controlled(results), options.report_floor)
    return suppressions.apply(results, options.config.exemptions, known_ids, options.root, options.today)


def scan(paths: Sequence[str], *, config: Config | None = None, **flags: Any) -> ScanReport:
    """A scan as one library call: `flags` are the fields of ScanFlags (lists are taken as
    tuples); `config` is the config file's settings (default: none)."""
    given: dict[str, Any] = {name: tuple(value) if isinstance(value, list) else value for name, value in flags.items()}
    return run(resolve(ScanFlags(tuple(paths), **given), config))
