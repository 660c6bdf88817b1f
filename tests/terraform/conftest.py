"""Paths and functions shared by the Terraform tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from validator import sources
from validator.cli import main

DATA = Path(__file__).resolve().parent.parent / "data" / "terraform"
PROJECT = DATA / "project"  # a real `terraform plan` of terraform_data resources, with its .tf files
AWS = DATA / "aws"  # .tf files that break each of TDV-AWS-001 to 012 once
CORPUS = DATA / "corpus"  # plans from public projects (see tests/SOURCES.tsv)
TEST_POLICIES = DATA / "policies"
SECRET = "hunter2-do-not-print"  # the sensitive variable's value in PROJECT


def collect(*paths: Path, root: Path = DATA, tf_root: Path | None = None) -> sources.Inputs:
    return sources.collect([str(p) for p in paths], root, tf_root=tf_root)


def by_address(inputs: sources.Inputs) -> dict:
    return {r.ref: r for r in inputs.resources}


def scan(*arguments: str, root: Path = DATA) -> tuple[int, str]:
    result = _invoke(*arguments, root=root)
    return result.exit_code, result.output


def scan_json(*arguments: str, root: Path = DATA) -> tuple[int, dict]:
    result = _invoke(*arguments, "-o", "json", root=root)
    return result.exit_code, json.loads(result.stdout)


def _invoke(*arguments: str, root: Path):
    return CliRunner().invoke(main, ["scan", "--root", str(root), *arguments], catch_exceptions=False)


@pytest.fixture()
def tmp_tf(tmp_path):
    """Write files into a temporary directory: tmp_tf({"main.tf": "..."}) -> the directory."""
    def write(files: dict[str, str | bytes]) -> Path:
        for name, content in files.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        return tmp_path
    return write
