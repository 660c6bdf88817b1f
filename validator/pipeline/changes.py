"""The fix stage of `tdv fix`: the fixed texts of the files scanned, for the findings of the
policies chosen (SARIF's per-finding fixes are planned with the scan: see pipeline.work)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from validator.engine.policy import PolicyError
from validator.errors import SettingsError
from validator.fix.apply import fix_files
from validator.fix.plan import Planner, has_fix
from validator.globs import matches_any
from validator.report import ScanReport


def fixes_for(report: ScanReport, overrides: dict, include, exclude, root: Path) -> list:
    """The fixed texts of the files, for the findings of the chosen policies."""
    planner = Planner(overrides)
    chosen = {policy.id: policy for policy in report.policies if has_fix(policy)
              and (not include or matches_any(include, policy.id, ignore_case=True))
              and not matches_any(exclude, policy.id, ignore_case=True)}
    if include and not chosen:
        raise SettingsError("no policy with a fix matches --policy")
    try:
        for policy in chosen.values():
            planner.check(policy)
        planned = [item for result in report.failures if result.policy.id in chosen for item in planner.plan(result)]
    except PolicyError as error:
        raise SettingsError(f"invalid policy: {error}") from None
    return fix_files(planned, root)


def write_changes(changed: list) -> list[tuple[Any, str | None]]:
    """Write each fixed file; each change with why it could not be written (None: written)."""
    from validator.fix import files

    done: list[tuple[Any, str | None]] = []
    for change in changed:
        try:
            files.write(change.source, change.fixed)
        except OSError as error:
            done.append((change, str(error.strerror or error)))
            continue
        done.append((change, None))
    return done
