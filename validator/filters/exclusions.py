"""Exclusions: resources the config file takes out of the scan. They are not evaluated at
all (unlike exemptions, whose findings are reported as suppressed); `-v` names each one."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from validator.filters.resource_match import ResourceMatch
from validator.model import Location, Resource

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Exclusion:
    match: ResourceMatch
    location: Location  # the entry in the config file
    reason: str = ""


def apply(resources: Iterable[Resource], exclusions: Iterable[Exclusion], root: Path) -> tuple[list[Resource], int]:
    """The resources to evaluate, and how many were excluded."""
    exclusions = list(exclusions)
    kept: list[Resource] = []
    excluded = 0
    for resource in resources:
        rule = next((e for e in exclusions if e.match.matches(resource, root)), None)
        if rule is None:
            kept.append(resource)
            continue
        excluded += 1
        where = rule.location
        log.debug("%s:%d: %s not evaluated: excluded by %s:%d (%s)%s", resource.path, resource.locate(()).line,
                  resource.ref, where.path, where.line, rule.match.describe(),
                  f": {rule.reason}" if rule.reason else "")
    return kept, excluded
