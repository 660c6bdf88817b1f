"""The baseline stage: findings marked new or unchanged against a baseline file, which is
written first when asked."""

from __future__ import annotations

from pathlib import Path

from validator.checks import Checks
from validator.errors import SettingsError
from validator.filters import baseline
from validator.report import BaselineUse
from validator.sources.files import display_path


def compare_with_baseline(results: Checks, read_from: Path | None, write_to: Path | None,
                          policy_ids: list[str] | None = None) -> tuple[Checks, BaselineUse | None]:
    """The checks with their findings marked (only failed checks have any)."""
    try:
        if write_to is not None:
            recorded = baseline.Baseline(display_path(write_to, Path.cwd()), baseline.entries(results.outcomes()))
            baseline.write(write_to, recorded.entries, recorded.display)
        elif read_from is not None:
            recorded = baseline.load(read_from, display_path(read_from, Path.cwd()))
        else:
            return results, None
    except baseline.BaselineError as error:
        raise SettingsError(str(error)) from None
    marked, absent = baseline.apply(results.outcomes(), recorded, policy_ids)
    return results.with_outcomes(marked), BaselineUse(recorded.display, absent, written=write_to is not None)
