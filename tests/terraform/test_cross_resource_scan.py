"""Terraform cross-resource policies in real scans: one process, several processes and a
module split over files and shards give the same findings, with related locations."""

import json
import shutil
import sys
from pathlib import Path

import pytest

from validator.pipeline import executor

from tests.helpers import tdv

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data" / "terraform"

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux only")

# a module whose bucket, VPC and security group have their related resources in other files
FILES = {
    "buckets.tf": 'resource "aws_s3_bucket" "data" {\n  bucket = "acme-data"\n}\n'
                  'resource "aws_s3_bucket" "trail" {\n  bucket = "acme-trail"\n}\n',
    "guards.tf": 'resource "aws_s3_bucket_public_access_block" "data" {\n  bucket = aws_s3_bucket.data.id\n'
                 '  block_public_acls = true\n}\n',
    "trail.tf": 'resource "aws_cloudtrail" "main" {\n  name = "main"\n  s3_bucket_name = aws_s3_bucket.trail.id\n}\n',
    "network.tf": 'resource "aws_security_group" "admin" {\n  name = "admin"\n}\n',
    "rules.tf": 'resource "aws_vpc_security_group_ingress_rule" "ssh" {\n'
                '  security_group_id = aws_security_group.admin.id\n  ip_protocol = "tcp"\n'
                '  from_port = 22\n  to_port = 22\n  cidr_ipv4 = "0.0.0.0/0"\n}\n',
}


@pytest.fixture
def tree(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    scan = tmp_path / "scan"
    (scan / "split").mkdir(parents=True)
    for name, text in FILES.items():
        (scan / "split" / name).write_text(text)
    shutil.copytree(DATA / "aws", scan / "aws")
    shutil.copy(DATA / "corpus" / "checkov__runner_plan" / "tfplan.json", scan / "plan.json")
    monkeypatch.setattr(executor, "MIN_SHARD_BYTES", 1)  # one shard per file or so
    return scan


def findings(jobs: str, tmp_path: Path) -> list:
    out = tmp_path / f"report{jobs}.json"
    result = tdv("scan", "scan", "--no-config", "-j", jobs, "--policy", "TDV-AWS-07*", "--policy", "TDV-AWS-080",
                 "-o", f"json={out}")
    assert result.exit_code == 1, result.output
    report = json.loads(out.read_text())
    return sorted((f["policyId"], f["resource"]["ref"], f["location"]["path"], f["location"]["line"],
                   tuple((r["path"], r["line"], r["ref"]) for r in f.get("related", [])))
                  for f in report["findings"])


def test_serial_and_parallel_scans_find_the_same(tree, tmp_path):
    serial = findings("1", tmp_path)
    assert findings("3", tmp_path) == serial
    split = [f for f in serial if f[2].startswith("scan/split/")]
    assert split == [
        ("TDV-AWS-071", "aws_s3_bucket.trail", "scan/split/buckets.tf", 5, ()),  # data has its block in guards.tf
        ("TDV-AWS-072", "aws_s3_bucket.data", "scan/split/buckets.tf", 2, ()),
        ("TDV-AWS-072", "aws_s3_bucket.trail", "scan/split/buckets.tf", 5, ()),
        ("TDV-AWS-073", "aws_s3_bucket.data", "scan/split/buckets.tf", 2, ()),  # trail is 074's
        ("TDV-AWS-074", "aws_s3_bucket.trail", "scan/split/buckets.tf", 5,
         (("scan/split/trail.tf", 1, "aws_cloudtrail.main"),)),
        ("TDV-AWS-080", "aws_security_group.admin", "scan/split/network.tf", 2,
         (("scan/split/rules.tf", 1, "aws_vpc_security_group_ingress_rule.ssh"),)),
    ]
    assert any(f[0] == "TDV-AWS-075" and f[2] == "scan/plan.json" for f in serial)


def test_a_file_scanned_without_the_rest_of_its_module_is_not_guessed_about(tree, tmp_path):
    """Files of the directory that are not scanned hold public access blocks and a trail: the
    buckets may have theirs there. No file of it holds versioning or logging resources: the
    buckets certainly have none (the trail bucket is then 073's, not 074's)."""
    out = tmp_path / "alone.json"
    tdv("scan", "scan/split/buckets.tf", "--no-config", "--policy", "TDV-AWS-07*", "-o", f"json={out}")
    assert sorted((f["policyId"], f["resource"]["ref"]) for f in json.loads(out.read_text())["findings"]) == [
        ("TDV-AWS-072", "aws_s3_bucket.data"), ("TDV-AWS-072", "aws_s3_bucket.trail"),
        ("TDV-AWS-073", "aws_s3_bucket.data"), ("TDV-AWS-073", "aws_s3_bucket.trail")]
    both = tmp_path / "both.json"
    tdv("scan", "scan/split/buckets.tf", "scan/split/guards.tf", "scan/split/trail.tf", "--no-config",
        "--policy", "TDV-AWS-071", "-o", f"json={both}")
    assert [f["resource"]["ref"] for f in json.loads(both.read_text())["findings"]] == ["aws_s3_bucket.trail"]
