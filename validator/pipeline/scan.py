"""A scan, stage by stage: sources → engine → filters → fix planning → a report.

`run` is the only place a scan is assembled; `tdv scan`, `tdv fix` and the benchmarks call
it. Nothing here parses arguments, prints or writes a report: the caller does.
"""

from __future__ import annotations

from typing import Any, Sequence

from validator import inventory, sources
from validator.config import Config
from validator.engine.policy import PolicyError
from validator.engine.scopes import configure_pod_templates
from validator.errors import SettingsError
from validator.filters import owned, severity, suppressions
from validator.gc_pause import paused_cycle_collection
from validator.model import InputProblem, Result
from validator.pipeline import executor
from validator.pipeline.baseline import compare_with_baseline
from validator.pipeline.empty_input import nothing_to_scan
from validator.pipeline.library import build_engine, choose, load_library
from validator.pipeline.options import ScanFlags, ScanOptions, resolve
from validator.pipeline.work import Job, entries_of, evaluate
from validator.report import ScanReport
from validator.sources.context import SourceContext


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
    inputs = sources.collect(options.paths, options.root, options.max_bytes, tf_root=options.tf_root,
                             render=options.render, defer=options.jobs > 1, skip=options.skip)
    job = Job(engine, SourceContext(options.root, options.max_bytes, options.tf_root), tuple(config.exclusions),
              options.plan_fixes, options.overrides, relations=engine.relations)
    try:
        shards = executor.Shards(job, [item for item, _ in inputs.deferred], options.jobs)
        known = inventory.build(entries_of(job, inputs.resources) + shards.entries()) if job.cross_resource else None
        done = evaluate(job, inputs.resources, known)
        if inputs.deferred:
            more = shards.evaluate(known)
            done.results = sorted(done.results + more.results, key=lambda r: (r.resource.path, r.resource.doc_index))
            done.resources += more.resources
            done.excluded += more.excluded
            # Each deferred file's errors go where the file was found among the inputs.
            for (_, slot), errors in reversed(list(zip(inputs.deferred, more.errors))):
                inputs.errors[slot:slot] = errors
    except PolicyError as error:
        raise SettingsError(f"invalid policy: {error}") from None
    if not (done.resources or done.excluded or inputs.errors or options.allow_empty):
        inputs.errors.extend(nothing_to_scan(options.paths, options.root, inputs.files, options.max_bytes))
    results, warnings = _filter(done.results, options, [p.id for p in library])
    reported = [p.id for p in engine.policies if p.severity >= options.report_floor]
    results, compared = compare_with_baseline(results, options.baseline, options.write_baseline, reported)
    return ScanReport(
        results=results,
        errors=[InputProblem(e.path, e.message, e.line) for e in skipped] + inputs.errors,
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
    )


def _filter(results: list[Result], options: ScanOptions, known_ids: list[str]) -> tuple[list[Result], list]:
    """Drop findings on objects a controller owns and those below the reported severity;
    mark the suppressed ones."""
    results = severity.at_least(owned.skip_controlled(results), options.report_floor)
    return suppressions.apply(results, options.config.exemptions, known_ids, options.root, options.today)


def scan(paths: Sequence[str], *, config: Config | None = None, **flags: Any) -> ScanReport:
    """A scan as one library call: `flags` are the fields of ScanFlags (lists are taken as
    tuples); `config` is the config file's settings (default: none)."""
    given: dict[str, Any] = {name: tuple(value) if isinstance(value, list) else value for name, value in flags.items()}
    return run(resolve(ScanFlags(tuple(paths), **given), config))
