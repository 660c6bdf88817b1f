"""`tdv merge`: the shard reports of one scan made into the report of the whole scan.

The shards of a scan (`tdv scan --shard I/N -o shard=FILE`, one per CI executor) each
evaluate a part of the inputs (see validator.sources.partition), with the inventory of the
whole scan for cross-resource policies. Merging their reports gives what one scan of all the
inputs gives: the results in the same order (by file, document, policy), the counts summed,
the findings' baseline states and suppressions as each shard marked them, an expired
exemption's findings added up, and a baseline entry counted as absent only when no shard
found it.

Reports from different tdv versions, policies or settings, two reports of one shard, or a
set with a shard missing are refused: the result would not be the scan's.
"""

from __future__ import annotations

from typing import Sequence

from validator.checks import Checks
from validator.errors import SettingsError
from validator.model import ExpiredExemption, ScanWarning
from validator.report import BaselineUse, ScanReport


def merge(reports: Sequence[tuple[str, ScanReport]]) -> ScanReport:
    """Combine `(name, report)` pairs, one per shard, in any order. Raises SettingsError
    naming the report that does not belong."""
    if not reports:
        raise SettingsError("no shard reports to merge")
    ordered = _check(reports)
    first = ordered[0]
    results = Checks.concat(report.results for report in ordered).sorted_by_file()
    skipped = first.origin.policy_errors  # type: ignore[union-attr]
    errors = first.errors[:skipped] + sorted((error for report in ordered
                                             for error in report.errors[report.origin.policy_errors:]),  # type: ignore
                                            key=lambda error: error.path)
    resources = sum(report.resources_scanned for report in ordered)
    excluded = sum(report.resources_excluded for report in ordered)
    if not (errors or resources or excluded):
        errors = list(next((r for r in ordered if r.files_scanned), first).origin.if_empty)  # type: ignore[union-attr]
    return ScanReport(
        results=results,
        errors=errors,
        policies=first.policies,
        files_scanned=sum(report.files_scanned for report in ordered),
        resources_scanned=resources,
        fail_on=first.fail_on,
        soft_fail=first.soft_fail,
        root=first.root,
        notes=list(dict.fromkeys(note for report in ordered for note in report.notes)),
        warnings=_warnings(ordered),
        resources_excluded=excluded,
        baseline=_baseline([report.baseline for report in ordered]),
        config=first.config,
        origin=first.origin,
    )


def _check(reports: Sequence[tuple[str, ScanReport]]) -> list[ScanReport]:
    """The reports in shard order, once each shard is known to be there once, of one scan."""
    named = [(name, report, report.origin) for name, report in reports]
    for name, _, origin in named:
        if origin is None:
            raise SettingsError(f"{name}: not the report of a scan's shard")
    name0, _, first = named[0]
    assert first is not None
    for name, _, origin in named[1:]:
        assert origin is not None
        for what, mine, theirs in (("policies", origin.policies, first.policies),
                                   ("settings", origin.settings, first.settings),
                                   ("number of shards", origin.total, first.total)):
            if mine != theirs:
                raise SettingsError(f"{name}: made with other {what} than {name0}; merge the shards of one scan,"
                                    " run with the same tdv, policies, config file and options")
    by_index: dict[int, str] = {}
    for name, _, origin in named:
        assert origin is not None
        if origin.index in by_index:
            raise SettingsError(f"{name}: shard {origin.index}/{origin.total} is already in {by_index[origin.index]}")
        by_index[origin.index] = name
    missing = [str(n) for n in range(1, first.total + 1) if n not in by_index]
    if missing:
        raise SettingsError(f"shard{'s' if len(missing) > 1 else ''} {', '.join(missing)} of {first.total} missing:"
                            " merge the reports of every shard")
    return [report for _, report, _ in sorted(named, key=lambda item: item[2].index)]  # type: ignore[union-attr]


def _warnings(reports: list[ScanReport]) -> list[ScanWarning]:
    """Each warning once; an expired exemption's findings added up over the shards."""
    found: dict[object, ScanWarning] = {}
    for report in reports:
        for warning in report.warnings:
            if isinstance(warning, ExpiredExemption):
                key: object = ("expired", warning.path, warning.line, warning.what)
                earlier = found.get(key)
                if isinstance(earlier, ExpiredExemption):
                    warning = ExpiredExemption.of(warning.path, warning.line, warning.what,
                                                  earlier.findings + warning.findings)
                found[key] = warning
            else:
                found.setdefault(warning, warning)
    # As one scan orders them: those written next to resources by file and line, then the
    # config file's expired exemptions.
    written = sorted((w for w in found.values() if not isinstance(w, ExpiredExemption)),
                     key=lambda w: (w.path, w.line or 0))
    return written + [w for w in found.values() if isinstance(w, ExpiredExemption)]


def _baseline(uses: list[BaselineUse | None]) -> BaselineUse | None:
    """A baseline entry is absent from the scan when it is absent from every shard."""
    if not uses or uses[0] is None:
        return None
    absent = [entry for entry in uses[0].absent if all(u is not None and entry in u.absent for u in uses[1:])]
    return BaselineUse(uses[0].path, absent, uses[0].written)
