"""Byte-for-byte: a commented multi-document manifest and a commented .tf file, fixed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import tdv

DATA = Path(__file__).resolve().parent / "data"
GOLDEN = [("shop.yaml", "shop.fixed.yaml"), ("main.tf", "main.fixed.tf")]
# The fixes the golden files show (fixes added to other policies later do not change them).
FIXES = ["TDV-K8S-002", "TDV-K8S-003", "TDV-K8S-010", "TDV-K8S-012", "TDV-K8S-013", "TDV-K8S-018", "TDV-K8S-019",
         "TDV-K8S-023", "TDV-K8S-025", "TDV-K8S-030", "TDV-AWS-007", "TDV-AWS-008", "TDV-AWS-011", "TDV-AWS-012"]


@pytest.fixture
def copies(workdir, monkeypatch):
    for source, _ in GOLDEN:
        shutil.copyfile(DATA / source, workdir / source)
    monkeypatch.chdir(workdir)
    return workdir


def run(*arguments):
    chosen = [option for policy_id in FIXES for option in ("--policy", policy_id)]
    return tdv("fix", "--no-config", "--no-color", *chosen, *arguments)


def test_fix_writes_exactly_the_golden_files(copies):
    (copies / "shop.yaml").chmod(0o640)
    result = run(".")
    assert result.exit_code == 1, result.output
    for source, expected in GOLDEN:
        assert (copies / source).read_bytes() == (DATA / expected).read_bytes(), source
    assert (copies / "shop.yaml").stat().st_mode & 0o777 == 0o640
    assert not [p.name for p in copies.iterdir() if p.name.endswith(".tdv-fix")]


def test_a_second_run_changes_nothing(copies):
    run(".")
    result = run(".")
    assert result.exit_code == 0, result.output
    for source, expected in GOLDEN:
        assert (copies / source).read_bytes() == (DATA / expected).read_bytes(), source


def test_what_the_fix_leaves_alone_is_reported_after_it(copies):
    result = run(".")
    assert "TDV-K8S-002" not in result.stdout
    assert "TDV-K8S-034" not in result.stdout  # three replicas: passes before and after
    assert "TDV-K8S-024" in result.stdout  # no fix: the registry is for a person to choose
    assert "fixed 17 findings in shop.yaml" in result.stderr


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git to apply the diff")
def test_the_dry_run_diff_applies_with_git_and_gives_the_same_files(copies):
    result = run("--dry-run", ".")
    assert result.exit_code == 1
    for source, _ in GOLDEN:
        assert (copies / source).read_bytes() == (DATA / source).read_bytes(), "a dry run wrote a file"
    patch = copies / "fix.patch"
    patch.write_text(result.stdout, encoding="utf-8")
    subprocess.run(["git", "apply", "fix.patch"], cwd=copies, check=True)
    for source, expected in GOLDEN:
        assert (copies / source).read_bytes() == (DATA / expected).read_bytes(), source
