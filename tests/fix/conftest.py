"""Fixtures of the fix tests (scanning and fixing helpers: tests/helpers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A scan root of its own (the config search stops at its `.git`)."""
    (tmp_path / ".git").mkdir()
    return tmp_path
