"""Fixtures every test directory can use. The functions behind them, and the other shared
helpers (running `tdv`, loading reports, scanning from Python), are in tests/helpers.py;
object builders are in tests/builders.py. Test modules import those modules, never a
conftest.py.

Markers (registered in pyproject.toml): `slow` for tests over about 5 s, `integration` for
tests that run an external program or build an image. `python3 -m pytest -q` runs them
all; `-m "not slow and not integration"` is the quick subset.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import write_tree


@pytest.fixture
def tmp_tree(tmp_path: Path):
    """tmp_tree({"main.tf": "...", "deploy/pod.yaml": b"..."}) writes the files under tmp_path
    and returns tmp_path."""

    def write(files: dict[str, str | bytes]) -> Path:
        return write_tree(tmp_path, files)

    return write
