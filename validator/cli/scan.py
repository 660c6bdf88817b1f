"""`tdv scan`: evaluate policies against manifests and write reports."""

from __future__ import annotations

import logging
import os
import sys
from datetime import date
from pathlib import Path

import click

from validator.cli.options import SeverityType, write_text
from validator.errors import UserError
from validator.gc_pause import paused_cycle_collection
from validator.model import InputError, Severity
from validator.reporters import FORMATS
from validator.reporters.escape import printable
from validator.reporters.plural import counted

log = logging.getLogger("validator")


class SettingsError(UserError):
    """Settings that cannot be used: a config, baseline or policy file, or a selection of no
    policy."""


class OutputError(UserError):
    """A report that cannot be written."""


@click.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("-o", "--output", "outputs", multiple=True, metavar="FORMAT[=FILE]",
              help=f"Report format: {', '.join(FORMATS)}; to stdout or to FILE. Repeatable; replaces the"
                   " outputs of the config file. Unless the console report goes to stdout, input errors and"
                   " a one-line summary are written to stderr.")
@click.option("--fail-on", type=SeverityType(), default=None,
              help="Exit 1 when a finding is at or above this severity (default: the config file's, else low).")
@click.option("--min-severity", type=SeverityType(), default=None,
              help="Report only findings at or above this severity (replaces policies.min-severity of the"
                   " config file).")
@click.option("--soft-fail", is_flag=True, help="Exit 0 even with findings (input errors still exit 2).")
@click.option("--allow-empty", is_flag=True,
              help="Accept inputs with nothing to scan (empty stdin, directories without manifests, plans or .tf"
                   " files); without it they are an input error.")
@click.option("--policy", "include", multiple=True, metavar="GLOB",
              help="Run only policies whose id matches (replaces policies.include of the config file). Repeatable.")
@click.option("--skip-policy", "exclude", multiple=True, metavar="GLOB",
              help="Skip policies whose id matches (added to policies.exclude). Repeatable.")
@click.option("--policies", "policy_dirs", multiple=True, type=click.Path(path_type=Path), metavar="DIR",
              help="Load more policies from DIR (same format as the built-in ones; added to policies.dirs)."
                   " Repeatable.")
@click.option("--conftest-namespace", "conftest_namespaces", multiple=True, metavar="PACKAGE",
              help="Read conftest .rego rules from this package (default: main). Repeatable. See docs/rego.md.")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Report file paths relative to this directory (default: the working directory).")
@click.option("--tf-root", type=click.Path(file_okay=False, exists=True, path_type=Path), default=None, metavar="DIR",
              help="Terraform root module of the plans scanned (default: each plan's directory), to point"
                   " findings at .tf lines.")
@click.option("--helm-values", multiple=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              metavar="FILE", help="Values file for the Helm charts rendered (later files win). Repeatable.")
@click.option("--helm-set", multiple=True, metavar="KEY=VALUE",
              help="Set a value of the Helm charts rendered, as `helm --set` does (after --helm-values). Repeatable.")
@click.option("--helm-release", default="release-name", show_default=True, metavar="NAME",
              help="Release name the Helm charts are rendered with.")
@click.option("--helm-namespace", default="default", show_default=True, metavar="NS",
              help="Namespace the Helm charts are rendered for.")
@click.option("--kube-version", default=None, metavar="VERSION",
              help="Kubernetes version the Helm charts see in .Capabilities (e.g. 1.30.0).")
@click.option("--chart-root", type=click.Path(file_okay=False, exists=True, path_type=Path), default=None,
              metavar="DIR", help="Chart that pre-rendered input (with `# Source:` comments) came from, to point"
                                  " findings at its templates.")
@click.option("--no-render", is_flag=True,
              help="Scan Helm charts and Kustomize overlays as the YAML they hold, without rendering them.")
@click.option("--max-file-size", type=click.IntRange(min=1), default=16, show_default=True, metavar="MIB",
              help="Skip (and report) files larger than this.")
@click.option("-j", "--jobs", type=click.IntRange(min=0), default=0, metavar="N",
              help="Read and evaluate YAML inputs of 2 MiB or more in up to N processes (default 0: one per"
                   " core the CPU quota allows, at most 8; 1: everything in this process).")
@click.option("-c", "--config", "config_file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              metavar="FILE", help="Read settings from FILE (default: .tdv.yaml in the working directory or the"
                                   " nearest parent, up to the repository root).")
@click.option("--no-config", is_flag=True, help="Ignore any .tdv.yaml.")
@click.option("--baseline", "baseline_file", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Fail only on findings not recorded in FILE (replaces baseline of the config file).")
@click.option("--write-baseline", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Record the current findings in FILE; they are then reported as baselined.")
@click.option("-q", "--quiet", is_flag=True, help="Show only failures and errors, no summary.")
@click.option("--color/--no-color", default=None, help="Colour console output (default: when a terminal).")
@click.option("-v", "--verbose", is_flag=True,
              help="Console: also list suppressed and baselined findings; log debug notes (e.g. skipped"
                   " documents, reports skipped as inputs, excluded resources) to stderr.")
def scan(paths, outputs, fail_on, min_severity, soft_fail, allow_empty, include, exclude, policy_dirs, conftest_namespaces,
         root,
         tf_root, helm_values, helm_set, helm_release, helm_namespace, kube_version, chart_root, no_render,
         max_file_size, jobs, config_file, no_config, baseline_file, write_baseline, quiet, color, verbose) -> None:
    """Scan manifests, Terraform plans (JSON) and .tf files (files, directories, or - for stdin)
    against the policy library.

    Exit codes: 0 no blocking findings, 1 findings at or above --fail-on, 2 usage, input,
    policy or output error.
    """
    from validator.parallel import default_jobs
    from validator.reporters import OutputSpec
    from validator.sources.render import RenderOptions

    log_to_stderr(verbose)
    if config_file and no_config:
        raise click.UsageError("--config and --no-config exclude each other")
    config = read_config(config_file, no_config)
    try:
        specs = [OutputSpec.parse(o) for o in outputs] or list(config.outputs) or [OutputSpec.parse("console")]
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="'-o'") from None
    if sum(1 for s in specs if s.destination is None) > 1:
        raise click.BadParameter("only one output can go to standard output", param_hint="'-o'")
    written = frozenset(os.path.abspath(spec.destination) for spec in specs if spec.destination is not None)
    with paused_cycle_collection():  # what a scan loads lives until exit: see validator.gc_pause
        report = run_scan(paths, fail_on=fail_on, min_severity=min_severity, soft_fail=soft_fail, include=include,
                          exclude=exclude, policy_dirs=policy_dirs, root=root, max_file_size=max_file_size,
                          tf_root=tf_root, config=config, baseline=baseline_file, write_baseline=write_baseline,
                          render=RenderOptions(not no_render, tuple(helm_values), tuple(helm_set), helm_release,
                                               helm_namespace, kube_version, chart_root),
                          jobs=jobs if jobs else default_jobs(),
                          sarif_fixes=any(spec.format == "sarif" for spec in specs),
                          allow_empty=allow_empty or config.allow_empty, written=written,
                          conftest_namespaces=conftest_namespaces)
    if report.baseline and report.baseline.written:
        count = report.counts()["findings"]
        click.echo(printable(f"tdv: wrote {counted(count, 'finding')} to the baseline {report.baseline.path}"),
                   err=True)
    # Everything loaded stays alive until exit: the cycle collector would only walk it again.
    with paused_cycle_collection():
        failures = write_outputs(report, specs, quiet=quiet, color=color, verbose=verbose)
    if not any(spec.format == "console" and spec.destination is None for spec in specs):
        report_on_stderr(report, quiet)
    if failures:
        raise OutputError("; ".join(failures))
    sys.exit(report.exit_code)


def log_to_stderr(verbose: bool) -> None:
    """Log notes (with -v, debug notes) to standard error, as `tdv: <message>` lines with
    control characters escaped (file names come from the tree scanned)."""
    from validator.reporters.escape import printable

    class Printable(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            return printable(super().format(record))

    handler = logging.StreamHandler()
    handler.setFormatter(Printable("tdv: %(message)s"))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, handlers=[handler], force=True)


def report_on_stderr(report, quiet: bool) -> None:
    """The input errors and warnings, one line each, and (unless `quiet`) a one-line summary,
    on standard error: for when no console report shows them (reports went to files, or a
    machine-readable report goes to standard output)."""
    from validator.reporters.console import brief_summary, error_lines

    for line in error_lines(report):
        click.echo(f"tdv: error: {line}", err=True)
    for warning in report.warnings:
        click.echo(printable(f"tdv: warning: {warning}"), err=True)
    if not quiet:
        click.echo(f"tdv: {brief_summary(report)}", err=True)


def read_config(explicit: Path | None = None, ignore: bool = False):
    """The config given, else the one found from the working directory, else an empty one."""
    from validator.config import Config, ConfigError, find_config, load_config

    path = None if ignore else explicit or find_config(Path.cwd())
    if path is None:
        return Config()
    try:
        config = load_config(path)
    except ConfigError as error:
        raise SettingsError(str(error)) from None
    log.debug("settings from %s", config.display)
    return config


def load_library(config, policy_dirs=(), conftest_namespaces=(), skipped=None) -> list:
    """Every policy (built-in, the config file's and `policy_dirs`), checked against the config.
    Given a `skipped` list, Gatekeeper and conftest files that cannot be run go there."""
    from validator.config import ConfigError, check_against_policies
    from validator.engine.library import load_policies
    from validator.engine.policy import PolicyError

    from validator.sources.files import display_path

    # Each directory once, shown relative to the working directory when it is inside it.
    directories = dict.fromkeys(Path(display_path(d, Path.cwd())) for d in (*config.policy_dirs, *policy_dirs))
    try:
        library = load_policies(directories, builtin_tests=False,  # a scan never runs them
                                conftest_namespaces=conftest_namespaces, skipped=skipped)
        check_against_policies(config, library)
    except PolicyError as error:
        raise SettingsError(f"invalid policy: {error}") from None
    except ConfigError as error:
        raise SettingsError(str(error)) from None
    return library


def compile_own_policies(policies, config) -> None:
    """Compile the user's policies among `policies` now, so that a mistake in them is reported
    whatever is scanned (built-in ones compile when a resource they target is seen)."""
    from validator.engine import Engine
    from validator.engine.library import is_builtin
    from validator.engine.policy import PolicyError

    try:
        Engine.build([p for p in policies if not is_builtin(p)], config.overrides())
    except PolicyError as error:
        raise SettingsError(f"invalid policy: {error}") from None


def run_scan(paths, *, fail_on: Severity | None = None, min_severity: Severity | None = None,
             soft_fail: bool = False, include=(), exclude=(), policy_dirs=(), root: Path | None = None,
             max_file_size: int = 16, tf_root: Path | None = None, config=None, baseline: Path | None = None,
             write_baseline: Path | None = None, today: date | None = None, render=None, jobs: int = 1,
             sarif_fixes: bool = False, allow_empty: bool = False, written: frozenset[str] = frozenset(),
             conftest_namespaces=()):
    """Scan `paths`. Arguments given here win over the config file's settings.

    With `jobs` above 1, big inputs are read and evaluated in that many processes (see
    validator.parallel); `sarif_fixes` then computes SARIF's fixes there too. Files in
    `written` (absolute paths: the reports this run writes) are not inputs. Inputs with
    nothing to scan are an input error unless `allow_empty`.
    """
    from validator import parallel, sources
    from validator.cli.empty_input import nothing_to_scan
    from validator.config import Config
    from validator.engine import Engine
    from validator.engine.library import select
    from validator.engine.policy import PolicyError
    from validator.engine.scopes import configure_pod_templates
    from validator.filters import exclusions, owned, severity, suppressions
    from validator.report import ScanReport
    from validator.sources.context import SourceContext

    config = config or Config()
    configure_pod_templates(config.pod_templates)
    root_dir = Path(os.path.abspath(root or Path.cwd()))
    skipped = []  # Gatekeeper and conftest files that cannot be run: input errors, the scan goes on
    library = load_library(config, policy_dirs, conftest_namespaces, skipped)
    chosen = config.selection
    policies = select(library, include or chosen.include, (*chosen.exclude, *exclude), categories=chosen.categories,
                      min_severity=chosen.min_severity if min_severity is None else None, standards=chosen.standards)
    if not policies:
        where = f" and the policies section of {config.display}" if config.path else ""
        raise SettingsError(f"no policies selected (check --policy and --skip-policy{where})")
    try:
        engine = Engine.build(policies, config.overrides(), eager=False)
    except PolicyError as error:
        raise SettingsError(f"invalid policy: {error}") from None
    compile_own_policies(policies, config)
    max_bytes = max_file_size * 1024 * 1024
    inputs = sources.collect(paths, root_dir, max_bytes, tf_root=tf_root, render=render, defer=jobs > 1,
                             skip=written)
    resources, excluded = exclusions.apply(inputs.resources, config.exclusions, root_dir)
    scanned = len(resources)
    try:
        evaluated = engine.run(resources)
        if inputs.deferred:
            job = parallel.Job(engine, SourceContext(root_dir, max_bytes, tf_root), list(config.exclusions),
                               sarif_fixes, config.overrides())
            shards = parallel.evaluate_files(job, [item for item, _ in inputs.deferred], jobs)
            evaluated = sorted(evaluated + shards.results, key=lambda r: (r.resource.path, r.resource.doc_index))
            scanned += shards.resources
            excluded += shards.excluded
            for (_, slot), errors in reversed(list(zip(inputs.deferred, shards.errors))):
                inputs.errors[slot:slot] = errors
    except PolicyError as error:
        raise SettingsError(f"invalid policy: {error}") from None
    if not (scanned or excluded or inputs.errors or allow_empty):
        inputs.errors.extend(nothing_to_scan(paths, root_dir, inputs.files, max_bytes))
    results = severity.at_least(owned.skip_controlled(evaluated), _first(min_severity, Severity.INFO))
    results, warnings = suppressions.apply(results, config.exemptions, [p.id for p in library], root_dir, today)
    reported = [p.id for p in policies if p.severity >= _first(min_severity, Severity.INFO)]
    results, compared = compare_with_baseline(results, None if write_baseline else baseline or config.baseline,
                                              write_baseline, reported)
    return ScanReport(
        results=results,
        errors=[InputError(e.path, e.message, e.line) for e in skipped] + inputs.errors,
        policies=engine.policies,
        files_scanned=inputs.files,
        resources_scanned=scanned,
        fail_on=_first(fail_on, config.fail_on, Severity.LOW),
        soft_fail=soft_fail,
        root=root_dir.as_posix(),
        warnings=warnings,
        resources_excluded=excluded,
        baseline=compared,
        config=config.display or None,
    )


def _first(*values):
    """The first value that is set (a severity of info is 0, so `or` would skip it)."""
    return next(value for value in values if value is not None)


def compare_with_baseline(results, read_from: Path | None, write_to: Path | None, policy_ids=None):
    """Mark findings new or unchanged against a baseline file, writing it first if asked."""
    from validator.filters import baseline
    from validator.report import BaselineUse
    from validator.sources.files import display_path

    try:
        if write_to is not None:
            recorded = baseline.Baseline(display_path(write_to, Path.cwd()), baseline.entries(results))
            baseline.write(write_to, recorded.entries, recorded.display)
        elif read_from is not None:
            recorded = baseline.load(read_from, display_path(read_from, Path.cwd()))
        else:
            return results, None
    except baseline.BaselineError as error:
        raise SettingsError(str(error)) from None
    results, absent = baseline.apply(results, recorded, policy_ids)
    return results, BaselineUse(recorded.display, absent, written=write_to is not None)


def write_outputs(report, specs, *, quiet: bool, color: bool | None, verbose: bool = False) -> list[str]:
    """Write every report; the reasons of those that could not be written."""
    from validator.reporters import RenderOptions, reporter

    failures = []
    for spec in specs:
        to_terminal = spec.destination is None and sys.stdout.isatty()
        options = RenderOptions(color=to_terminal if color is None else color and spec.destination is None,
                                quiet=quiet, verbose=verbose)
        try:
            write_text(reporter(spec.format).render(report, options), spec.destination, options.color)
        except UserError as error:
            failures.append(str(error))
    return failures
