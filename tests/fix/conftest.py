"""Helpers: scan files with chosen policies and apply their fixes, as `tdv fix` does."""

from __future__ import annotations

from pathlib import Path

import pytest

from validator.pipeline import scan as run_scan
from validator.config import Config, ParameterSetting
from validator.fix import files
from validator.pipeline.changes import fixes_for


def config_with(parameters: dict[str, dict] | None = None) -> Config:
    settings = tuple(ParameterSetting(policy_id, name, value)
                     for policy_id, values in (parameters or {}).items() for name, value in values.items())
    return Config(parameters=settings)


def scan(paths, root: Path, policies=(), parameters=None, **flags):
    return run_scan([str(p) for p in paths], include=policies, root=root, config=config_with(parameters), **flags)


def planned_fixes(report) -> dict:
    """The fixes the scan planned (with plan_fixes=True), by (id of the result, violation
    index), for the findings that count, as SARIF carries them."""
    return {(id(result), index): fix for result in report.failures for index, fix in (result.fixes or {}).items()}


def fix(paths, root: Path, policies=(), parameters=None, write: bool = True) -> list:
    """Scan, then fix every fixable finding; returns the FileFix of each file touched."""
    report = scan(paths, root, policies, parameters)
    changes = fixes_for(report, config_with(parameters).overrides(), (), (), root)
    if write:
        for change in changes:
            if change.changed:
                files.write(change.source, change.fixed)
    return changes


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A scan root of its own (the config search stops at its `.git`)."""
    (tmp_path / ".git").mkdir()
    return tmp_path
