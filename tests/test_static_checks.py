"""The code passes its static checks: ruff (with the complexity limit), mypy and the import
contracts, all configured in pyproject.toml. Each tool is in the `test` extra; a test skips
only when its tool is not installed."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(tool: str, *args: str) -> subprocess.CompletedProcess:
    """Run a tool of this interpreter's environment from the repository root."""
    if importlib.util.find_spec(tool) is None:
        pytest.skip(f"{tool} is not installed (pip install -e '.[test]')")
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def check(done: subprocess.CompletedProcess, tool: str) -> None:
    if done.returncode != 0:
        pytest.fail(f"{tool} reports problems (exit status {done.returncode}):\n{done.stdout}\n{done.stderr}")


def test_ruff_finds_nothing():
    check(run("ruff", "-m", "ruff", "check", "--no-cache", "validator"), "ruff")


def test_mypy_finds_nothing(tmp_path):
    check(run("mypy", "-m", "mypy", "--cache-dir", str(tmp_path / "mypy")), "mypy")


def test_imports_follow_the_layers():
    check(run("importlinter", "-c", "import sys; from importlinter.cli import lint_imports_command;"
                                   " sys.exit(lint_imports_command())", "--no-cache"), "lint-imports")


def test_the_checks_fail_on_a_finding(tmp_path):
    """The tools run with the project's configuration and do report: a module with an unused
    import, a type error and an over-complex function fails each one."""
    if importlib.util.find_spec("ruff") is None or importlib.util.find_spec("mypy") is None:
        pytest.skip("ruff or mypy is not installed")
    bad = tmp_path / "bad.py"
    branches = "".join(f"    if x == {n}:\n        return {n}\n" for n in range(12))
    bad.write_text(f"import os\n\n\ndef f(x: int) -> str:\n{branches}    return x\n")
    ruff = run("ruff", "-m", "ruff", "check", "--no-cache", "--config", str(ROOT / "pyproject.toml"), str(bad))
    assert ruff.returncode != 0 and "F401" in ruff.stdout and "C901" in ruff.stdout, ruff.stdout
    mypy = run("mypy", "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"),
               "--cache-dir", str(tmp_path / "mypy"), str(bad))
    assert mypy.returncode != 0 and "return-value" in mypy.stdout, mypy.stdout
