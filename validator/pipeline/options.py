"""A scan's settings, resolved once: defaults, then the config file, then the flags.

`ScanFlags` is what a command line (or a test, or a benchmark) asks for; an unset flag is
None or empty. `resolve` merges it with the config file into `ScanOptions`, the only
settings the pipeline reads. Nothing here parses arguments or prints: the CLI does.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import logging
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from validator.config import Config, ConfigError, PolicySelection, find_config, load_config
from validator.errors import SettingsError
from validator.model import Severity
from validator.reporters import OutputSpec
from validator.sources.files import MAX_FILE_BYTES, display_path
from validator.sources.partition import Part
from validator.sources.render import RenderOptions

log = logging.getLogger("validator")

DEFAULT_OUTPUTS = (OutputSpec("console", None),)


@dataclass(frozen=True)
class ScanFlags:
    """What was asked for on the command line. Unset: None, False or empty."""

    paths: tuple[str, ...]
    outputs: tuple[OutputSpec, ...] = ()  # replace the config file's outputs
    fail_on: Severity | None = None
    min_severity: Severity | None = None  # replaces policies.min-severity: filters findings instead
    soft_fail: bool = False
    allow_empty: bool = False
    include: tuple[str, ...] = ()  # replaces policies.include
    exclude: tuple[str, ...] = ()  # added to policies.exclude
    policy_dirs: tuple[Path, ...] = ()  # added to policies.dirs
    conftest_namespaces: tuple[str, ...] = ()
    root: Path | None = None  # default: the working directory
    tf_root: Path | None = None
    helm_values: tuple[Path, ...] = ()
    helm_set: tuple[str, ...] = ()
    helm_release: str = "release-name"
    helm_namespace: str = "default"
    kube_version: str | None = None
    chart_root: Path | None = None
    no_render: bool = False
    max_file_size: int = MAX_FILE_BYTES // (1024 * 1024)  # MiB
    jobs: int = 1  # 0: one per core (see pipeline.executor.default_jobs)
    baseline: Path | None = None  # replaces the config file's baseline
    write_baseline: Path | None = None
    plan_fixes: bool = False  # plan each finding's fix even without a SARIF output
    today: date | None = None  # for exemption expiry; default: today
    shard: Part | None = None  # scan only this part of the inputs (see validator.sources.partition)
    # Let each resource's document go once it is evaluated (reports need only what
    # Resource.detach keeps); `tdv fix` keeps them to edit the files.
    detach: bool = False


@dataclass(frozen=True)
class ScanOptions:
    """Everything a scan needs, resolved."""

    paths: tuple[str, ...]
    root: Path  # absolute: report paths are relative to it
    config: Config  # the file's exclusions, exemptions, parameters, pod templates (and its name)
    policy_dirs: tuple[Path, ...]  # the config file's, then the flags'
    conftest_namespaces: tuple[str, ...]
    selection: PolicySelection  # which policies run
    report_floor: Severity  # findings below it are not reported
    fail_on: Severity
    soft_fail: bool
    allow_empty: bool
    baseline: Path | None  # compared with (None while writing one)
    write_baseline: Path | None
    max_bytes: int
    tf_root: Path | None
    render: RenderOptions
    jobs: int  # processes for big YAML inputs; 1: this one only
    outputs: tuple[OutputSpec, ...]
    plan_fixes: bool  # plan each finding's fix (SARIF carries them)
    skip: frozenset[str]  # absolute paths of the reports this scan writes: never inputs
    today: date | None
    shard: Part | None = None
    detach: bool = False

    @property
    def overrides(self) -> dict:
        """Parameter values by policy id."""
        return self.config.overrides()

    def digest(self) -> str:
        """A digest of the settings that decide a scan's results, the same on every machine
        for the same settings (paths count relative to the root): shards of one scan must
        agree on it to be merged."""
        decisive = {name: getattr(self, name) for name in _DECISIVE}
        text = json.dumps(_canonical(decisive, self.root), sort_keys=True, default=repr)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


# The settings that decide results; not the outputs, the processes used, or where files are.
_DECISIVE = ("paths", "config", "policy_dirs", "conftest_namespaces", "selection", "report_floor", "fail_on",
             "soft_fail", "allow_empty", "baseline", "max_bytes", "tf_root", "render", "plan_fixes", "today")


def _canonical(value: Any, root: Path) -> Any:
    """`value` as plain data: dataclasses by their compared fields, paths relative to `root`."""
    if isinstance(value, Path):
        return display_path(value, root)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _canonical(getattr(value, f.name), root) for f in dataclasses.fields(value)
                if f.compare and f.name not in _PLACES}
    if isinstance(value, dict):
        return [[_canonical(k, root), _canonical(v, root)] for k, v in value.items()]
    if isinstance(value, (list, tuple, frozenset, set)):
        items = [_canonical(item, root) for item in value]
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, enum.Enum):
        return value.value
    return value


# Fields that say where a setting was written, not what it is (a config file's own path).
_PLACES = frozenset({"path", "display", "outputs", "document"})


def resolve(flags: ScanFlags, config: Config | None = None) -> ScanOptions:
    """Merge defaults, the config file and the flags; flags win."""
    from validator.pipeline.executor import default_jobs

    if flags.shard is not None and flags.write_baseline is not None:
        raise SettingsError("--write-baseline records the findings of the whole scan: run it without --shard")

    config = config or Config()
    chosen = config.selection
    outputs = flags.outputs or config.outputs or DEFAULT_OUTPUTS
    selection = PolicySelection(
        include=flags.include or chosen.include,
        exclude=(*chosen.exclude, *flags.exclude),
        categories=chosen.categories,
        # --min-severity filters findings; the config file's also leaves policies out
        min_severity=chosen.min_severity if flags.min_severity is None else None,
        standards=chosen.standards,
    )
    return ScanOptions(
        paths=tuple(flags.paths),
        root=Path(os.path.abspath(flags.root or Path.cwd())),
        config=config,
        policy_dirs=(*config.policy_dirs, *flags.policy_dirs),
        conftest_namespaces=tuple(flags.conftest_namespaces),
        selection=selection,
        report_floor=Severity.INFO if flags.min_severity is None else flags.min_severity,
        fail_on=_first(flags.fail_on, config.fail_on, Severity.LOW),
        soft_fail=flags.soft_fail,
        allow_empty=flags.allow_empty or config.allow_empty,
        baseline=None if flags.write_baseline else flags.baseline or config.baseline,
        write_baseline=flags.write_baseline,
        max_bytes=flags.max_file_size * 1024 * 1024,
        tf_root=flags.tf_root,
        render=RenderOptions(not flags.no_render, tuple(flags.helm_values), tuple(flags.helm_set),
                             flags.helm_release, flags.helm_namespace, flags.kube_version, flags.chart_root),
        jobs=flags.jobs if flags.jobs else default_jobs(),
        outputs=tuple(outputs),
        # SARIF carries fixes; a shard report carries what any format needs
        plan_fixes=flags.plan_fixes or any(spec.format in ("sarif", "shard") for spec in outputs),
        skip=frozenset(os.path.abspath(s.destination) for s in outputs if s.destination is not None),
        today=flags.today,
        shard=flags.shard,
        detach=flags.detach,
    )


def _first(*values):
    """The first value that is set (a severity of info is 0, so `or` would skip it)."""
    return next(value for value in values if value is not None)


def read_config(explicit: Path | None = None, ignore: bool = False) -> Config:
    """The config given, else the one found from the working directory, else an empty one."""
    path = None if ignore else explicit or find_config(Path.cwd())
    if path is None:
        return Config()
    try:
        config = load_config(path)
    except ConfigError as error:
        raise SettingsError(str(error)) from None
    log.debug("settings from %s", config.display)
    return config
