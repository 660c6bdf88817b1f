"""Each fixable finding of a report with its own fix, as replacements in its file.

This is what SARIF `fixes` carry. The edits are made by the same code as `tdv fix`, on the
file as it is on disk, one finding at a time: each fix applies on its own. A YAML file is
still read and composed once for all its findings (see fix.apply and fix.yaml_edit).
The scan plans them, with the parameter values of its config (see pipeline.work).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from pathlib import Path

from validator.fix.apply import fix_files
from validator.fix.plan import Assignment, PlannedFix, Planner, has_fix
from validator.fix.textedit import Replacement, replacements
from validator.model import format_path

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FindingFix:
    description: str
    changes: tuple[tuple[str, tuple[Replacement, ...]], ...]  # (file as the report shows it, replacements)


def result_fixes(result, planner: Planner, root: Path, cache: dict,
                 interned: dict[str, str]) -> tuple[FindingFix | None, ...]:
    """The fixes of a result's findings, one per violation (None: not fixed), or () when
    none can be planned. `cache` holds the files read so far (see fix.apply.fix_files);
    `interned`, where to keep each of their texts once (a scan plans the same fix on
    thousands of objects)."""
    if not has_fix(result.policy):
        return ()
    try:
        planned = planner.plan(result)
    except Exception as error:  # a broken fix must not stop the report
        log.debug("%s: no fixes for %s: %s", result.resource.path, result.policy.id, type(error).__name__)
        return ()
    fixes: list[FindingFix | None] = [None] * len(result.violations)
    for item in planned:
        fix = _one(item, root, cache, interned)
        if fix is not None:
            fixes[next(n for n, v in enumerate(result.violations) if v is item.violation)] = fix
    return tuple(fixes) if any(fixes) else ()


def _one(item: PlannedFix, root: Path, cache: dict, interned: dict[str, str]) -> FindingFix | None:
    if item.problem:
        return None
    try:
        changes = fix_files([item], root, cache)
    except Exception as error:  # never let one file's edit stop the report
        log.debug("%s: no fix: %s", item.result.resource.path, type(error).__name__)
        return None
    if any(change.problems for change in changes) or not any(change.changed for change in changes):
        return None
    description = "; ".join(describe(a) for a in item.assignments)

    def once(text: str) -> str:
        return interned.setdefault(text, text)

    return FindingFix(once(description[:1].upper() + description[1:]),
                      tuple((once(c.display), tuple(replace(r, inserted=once(r.inserted))
                                                    for r in replacements(c.original, c.fixed)))
                            for c in changes if c.changed))


def describe(assignment: Assignment) -> str:
    value = json.dumps(assignment.value, ensure_ascii=False)
    where = format_path(assignment.path)
    if assignment.operation == "append":
        return f"add {value} to {where}"
    return f"set {where} to {value}"
