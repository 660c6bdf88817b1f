"""The policies a scan runs: the library loaded, checked against the config, selected, and
made into an engine whose user policies are compiled once, up front."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Sequence

from validator.config import Config, ConfigError, PolicySelection, check_against_policies
from validator.engine import Engine
from validator.engine.library import is_builtin, load_policies, select
from validator.engine.policy import Policy, PolicyError
from validator.errors import SettingsError
from validator.sources.files import display_path


def load_library(config: Config, policy_dirs: Sequence[Path] = (), conftest_namespaces: Sequence[str] = (),
                 skipped: list | None = None) -> list[Policy]:
    """Every policy (built-in, the config file's and `policy_dirs`), checked against the config.
    Given a `skipped` list, Gatekeeper and conftest files that cannot be run go there."""
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


def choose(library: Sequence[Policy], selection: PolicySelection, config: Config) -> list[Policy]:
    """The policies the selection keeps; none is a settings error."""
    policies = select(library, selection.include, selection.exclude, categories=selection.categories,
                      min_severity=selection.min_severity, standards=selection.standards)
    if not policies:
        where = f" and the policies section of {config.display}" if config.path else ""
        raise SettingsError(f"no policies selected (check --policy and --skip-policy{where})")
    return policies


def build_engine(policies: Sequence[Policy], config: Config) -> Engine:
    """The engine for `policies`. The user's policies compile now, so that a mistake in them
    is reported whatever is scanned; built-in ones compile when a resource they target is
    seen (see Engine)."""
    try:
        engine = Engine.build(policies, config.overrides(), eager=False)
        engine.compile_where(lambda policy: not is_builtin(policy))
    except PolicyError as error:
        raise SettingsError(f"invalid policy: {error}") from None
    return engine


def policy_digest(policies: Sequence[Policy]) -> str:
    """A digest of what the policies are and check (ids, severities, targets, expressions,
    parameters): shards of one scan must agree on it to be merged."""
    text = "\n".join(repr((p.id, p.severity.label, p.title, p.targets.kinds, p.targets.api_groups, p.validations,
                             p.parameters, p.relations, p.language, getattr(p, "modules", ()),
                             getattr(p, "rego_parameters", {})))
                      for p in sorted(policies, key=lambda p: p.id))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
