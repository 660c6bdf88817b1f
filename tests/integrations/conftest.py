"""Fixtures shared by the CI integration tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CI_SCRIPT = REPO / "orb" / "src" / "scripts" / "scan.sh"


@pytest.fixture
def example_checkout(tmp_path) -> Path:
    """A fresh directory holding the shop example manifests under kubernetes/."""
    checkout = tmp_path / "checkout"
    shutil.copytree(REPO / "examples" / "kubernetes", checkout / "kubernetes")
    return checkout


@pytest.fixture
def run_ci_script():
    """run_ci_script(cwd, env) runs the CI entry script with the installed tdv, as CI would."""

    def run(cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
        assert shutil.which("tdv"), "tdv is not installed (pip install -e '.[test]')"
        path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
        return subprocess.run(["bash", str(CI_SCRIPT)], cwd=cwd, capture_output=True, text=True, timeout=300,
                              env={**os.environ, "PATH": path, **env})

    return run


@pytest.fixture
def check_schema():
    """check_schema(builtin, path) runs check-jsonschema with one of its vendored schemas."""

    def check(builtin: str, path: Path) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", builtin, str(path)],
                              capture_output=True, text=True, timeout=120)

    return check
