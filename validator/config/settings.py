"""What a config file sets, once read and checked (see docs/configuration.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from validator.filters.exclusions import Exclusion
from validator.filters.suppressions import Exemption
from validator.model import FieldPath, Severity
from validator.reporters import OutputSpec
from validator.sources.yaml_loader import YamlDocument


class ConfigError(Exception):
    """A config file that cannot be used; the message names the file and line."""

    def __init__(self, path: str, message: str, line: int | None = None):
        super().__init__(f"{path}:{line}: {message}" if line else f"{path}: {message}")
        self.path, self.message, self.line = path, message, line


@dataclass(frozen=True)
class PolicySelection:
    """Which policies run: every condition that is set must hold."""

    include: tuple[str, ...] = ()  # id globs; empty: all
    exclude: tuple[str, ...] = ()  # id globs
    categories: tuple[str, ...] = ()
    min_severity: Severity | None = None
    standards: tuple[str, ...] = ()  # a policy must map to one of them


@dataclass(frozen=True)
class ParameterSetting:
    policy_id: str
    name: str
    value: Any


@dataclass(frozen=True)
class Config:
    path: Path | None = None  # None: no config file
    display: str = ""  # the file as shown in messages
    selection: PolicySelection = PolicySelection()
    policy_dirs: tuple[Path, ...] = ()
    parameters: tuple[ParameterSetting, ...] = ()
    exclusions: tuple[Exclusion, ...] = ()
    exemptions: tuple[Exemption, ...] = ()
    fail_on: Severity | None = None
    outputs: tuple[OutputSpec, ...] = ()
    baseline: Path | None = None
    allow_empty: bool = False  # inputs with nothing to scan are accepted, not an input error
    pod_templates: dict[str, FieldPath] = field(default_factory=dict)  # custom kind -> its pod template
    document: YamlDocument | None = field(default=None, repr=False, compare=False)  # for error lines

    def overrides(self) -> dict[str, dict[str, Any]]:
        """Parameter values by policy id, as the engine takes them."""
        result: dict[str, dict[str, Any]] = {}
        for setting in self.parameters:
            result.setdefault(setting.policy_id, {})[setting.name] = setting.value
        return result
