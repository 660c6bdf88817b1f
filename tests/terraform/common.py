"""Paths and functions shared by the Terraform tests."""

from __future__ import annotations

import json
from pathlib import Path

from validator import sources

from tests.helpers import DATA as TEST_DATA, tdv

DATA = TEST_DATA / "terraform"
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
    """Exit code and output of `tdv scan --root ROOT ARGUMENTS`."""
    result = tdv("scan", "--root", str(root), *arguments)
    return result.exit_code, result.output


def scan_json(*arguments: str, root: Path = DATA) -> tuple[int, dict]:
    """Exit code and JSON report of `tdv scan --root ROOT ARGUMENTS -o json`."""
    result = tdv("scan", "--root", str(root), *arguments, "-o", "json")
    return result.exit_code, json.loads(result.stdout)
