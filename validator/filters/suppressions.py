"""Suppressions: findings that a team has accepted, with a reason. They stay in every report,
marked suppressed, and never change the exit code.

Three ways to write one (see docs/suppressions.md):

- Kubernetes: the annotation `tdv.dev/skip` on the object or on its pod template, holding
  `POLICY-ID: reason` entries separated by `;` or new lines (ids may be globs, several
  ids may share a reason: `TDV-K8S-001, TDV-K8S-009: reason`);
- Terraform: a comment `# tdv:skip=POLICY-ID reason` (or `//`) inside the resource block
  or directly above it;
- the config file: `exemptions`, each with an owner and optionally an `expires` date.

Sources record the first two on `Resource.suppressions` with the parsers of
`validator.skip_markers`; `apply` then marks the results. An entry without a reason is
rejected with a warning naming its file and line, and suppresses nothing.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from validator.checks import Checks
from validator.globs import matches_any
from validator.model import (
    ExpiredExemption,
    Location,
    Result,
    ScanWarning,
    SkipRule,
    Status,
    Suppression,
    SuppressionKind,
)

if TYPE_CHECKING:
    from validator.filters.resource_match import ResourceMatch

log = logging.getLogger(__name__)

# Config exemptions


@dataclass(frozen=True)
class Exemption:
    policies: tuple[str, ...]  # ids or globs
    match: ResourceMatch
    reason: str
    owner: str
    location: Location  # the entry in the config file
    expires: date | None = None  # the last day it holds

    def expired(self, today: date) -> bool:
        return self.expires is not None and today > self.expires

    def covers(self, result: Result, root: Path) -> bool:
        return (matches_any(self.policies, result.policy.id, ignore_case=True)
                and self.match.matches(result.resource, root))

    def suppression(self) -> Suppression:
        expires = self.expires.isoformat() if self.expires else None
        return Suppression(SuppressionKind.EXTERNAL, self.reason, self.location, self.owner, expires)


# The filter


def today_utc() -> date:
    return datetime.now(timezone.utc).date()


def apply(
    results: Iterable[Result],
    exemptions: Iterable[Exemption] = (),
    known_ids: Iterable[str] = (),
    root: Path = Path("."),
    today: date | None = None,
) -> tuple[Checks, list[ScanWarning]]:
    """Mark the failures that a rule or exemption covers; warn about rejected rules, rules
    that name no known policy, and expired exemptions (whose findings stay active)."""
    today = today or today_utc()
    known = set(known_ids)
    exemptions = list(exemptions)
    current = [n for n, e in enumerate(exemptions) if not e.expired(today)]
    expired = [n for n, e in enumerate(exemptions) if e.expired(today)]
    warnings: list[ScanWarning] = []
    checks = Checks.of(results)
    checked: set[SkipRule] = set()
    for resource in checks.resources():
        for rule in resource.suppressions:
            if rule not in checked:
                checked.add(rule)
                warnings += _rule_warnings(rule, known)
    used: Counter[int] = Counter()  # findings covered, by exemption index
    marked: list[Result] = []
    for result in checks.outcomes():
        if result.status is not Status.FAIL:
            marked.append(result)
            continue
        suppression = _suppression(result, exemptions, current, expired, used, root)
        marked.append(replace(result, suppression=suppression) if suppression else result)
    for number in expired:
        warnings.append(_expired_warning(exemptions[number], used[number]))
    for number in current:
        exemption = exemptions[number]
        if not used[number]:
            log.debug("%s:%d: exemption of %s matched no finding", exemption.location.path, exemption.location.line,
                      ", ".join(exemption.policies))
    return checks.with_outcomes(marked), warnings


def _suppression(result: Result, exemptions: list[Exemption], current: list[int], expired: list[int],
                 used: Counter[int], root: Path) -> Suppression | None:
    """What suppresses a failure: a skip marker, else the first current exemption that covers
    it. Counts in `used` the findings each exemption (expired ones too) covers."""
    for number in expired:
        if exemptions[number].covers(result, root):
            used[number] += len(result.violations)
    suppression = _in_source(result)
    if suppression is None:
        covering = next((n for n in current if exemptions[n].covers(result, root)), None)
        if covering is not None:
            used[covering] += len(result.violations)
            suppression = exemptions[covering].suppression()
    return suppression


def _in_source(result: Result) -> Suppression | None:
    for rule in result.resource.suppressions:
        if rule.problem is None and matches_any(rule.patterns, result.policy.id, ignore_case=True):
            return Suppression(SuppressionKind.IN_SOURCE, rule.reason, rule.location)
    return None


def _rule_warnings(rule: SkipRule, known: set[str]) -> list[ScanWarning]:
    where = rule.location
    if rule.problem:
        return [ScanWarning(where.path, f"{rule.problem}; the suppression is ignored", where.line)]
    if not known:
        return []
    return [
        ScanWarning(where.path, f"suppression names no known policy: {pattern}", where.line)
        for pattern in rule.patterns
        if not any(matches_any((pattern,), policy_id, ignore_case=True) for policy_id in known)
    ]


def _expired_warning(exemption: Exemption, findings: int) -> ScanWarning:
    what = f"exemption of {', '.join(exemption.policies)} (owner: {exemption.owner}) expired on {exemption.expires}"
    return ExpiredExemption.of(exemption.location.path, exemption.location.line, what, findings)
