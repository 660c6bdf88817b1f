"""`# tdv:skip=` comments in `.tf` files suppress findings, whether the `.tf` files are scanned
themselves or are the source of a plan scanned with them next to it."""

from __future__ import annotations

import json

import pytest

from validator.reporters import FormatOptions, sarif
from validator.sources.terraform_hcl import scan_texts

from tests.helpers import scan_paths
from tests.terraform.common import AWS, PROJECT, collect, scan, scan_json

REASON = "the bucket hosts the public website"

SITE = f'''\
# tdv:skip=TDV-AWS-001 {REASON}
resource "aws_s3_bucket" "site" {{
  bucket = "example-site"
  acl    = "public-read"
}}

resource "aws_s3_bucket" "data" {{
  bucket = "example-data"
  acl    = "public-read"
}}
'''

NO_REASON = '''\
resource "aws_s3_bucket" "site" {
  bucket = "example-site"
  acl    = "public-read" # tdv:skip=TDV-AWS-001
}
'''


def plan_of(*buckets: tuple[str, str]) -> str:
    """A plan creating the buckets (address, acl), as `terraform show -json` writes it."""
    changes = [{
        "address": address, "mode": "managed", "type": address.split(".")[0],
        "name": address.split(".")[1].split("[")[0], "provider_name": "registry.terraform.io/hashicorp/aws",
        "change": {"actions": ["create"], "before": None,
                   "after": {"bucket": address.split(".")[1], "acl": acl, "force_destroy": False},
                   "after_unknown": {"id": True, "arn": True}, "after_sensitive": {}},
    } for address, acl in buckets]
    return json.dumps({"format_version": "1.2", "terraform_version": "1.9.0", "resource_changes": changes})


def outcome(report: dict) -> dict[str, tuple[str, str | None]]:
    """resource -> ("active" | "suppressed", reason), for the findings of TDV-AWS-001."""
    found = {f["resource"]["ref"]: ("active", None) for f in report["findings"] if f["policyId"] == "TDV-AWS-001"}
    for f in report["suppressed"]:
        if f["policyId"] == "TDV-AWS-001":
            assert f["suppression"]["kind"] == "inSource"
            found[f["resource"]["ref"]] = ("suppressed", f["suppression"]["reason"])
    return found


def test_a_comment_above_a_block_suppresses_its_finding_in_a_tf_scan(tmp_tree):
    directory = tmp_tree({"main.tf": SITE})
    code, report = scan_json(str(directory), "--policy", "TDV-AWS-001", root=directory)
    assert code == 1  # the other bucket's finding is still active
    assert outcome(report) == {"aws_s3_bucket.site": ("suppressed", REASON), "aws_s3_bucket.data": ("active", None)}
    suppressed, = report["suppressed"]
    assert suppressed["suppression"]["location"] == {"path": "main.tf", "line": 1}
    assert suppressed["location"]["line"] == 4  # the finding itself still points at the acl
    assert report["summary"]["suppressed"] == 1 and not report["warnings"]


def test_sarif_marks_the_finding_suppressed_in_source(tmp_tree):
    directory = tmp_tree({"main.tf": SITE})
    report = scan_paths([directory], include=["TDV-AWS-001"], root=directory)
    results = json.loads(sarif.render(report, FormatOptions()))["runs"][0]["results"]
    by_line = {r["locations"][0]["physicalLocation"]["region"]["startLine"]: r for r in results}
    assert set(by_line) == {4, 9}
    (suppression,) = by_line[4]["suppressions"]
    assert (suppression["kind"], suppression["status"], suppression["justification"]) == ("inSource", "accepted", REASON)
    assert not by_line[9].get("suppressions")


def test_a_plan_gets_the_comments_of_its_tf_block(tmp_tree):
    directory = tmp_tree({"main.tf": SITE, "plan.json": plan_of(("aws_s3_bucket.site", "public-read"),
                                                              ("aws_s3_bucket.data", "public-read"))})
    code, report = scan_json(str(directory / "plan.json"), "--policy", "TDV-AWS-001", root=directory)
    assert code == 1
    assert outcome(report) == {"aws_s3_bucket.site": ("suppressed", REASON), "aws_s3_bucket.data": ("active", None)}
    suppressed, = report["suppressed"]
    assert suppressed["resource"]["metadata"] == {"terraform-plan": "plan.json"}
    assert (suppressed["location"]["path"], suppressed["location"]["line"]) == ("main.tf", 4)
    # the directory scanned as a whole: the plan covers the .tf files, which are not scanned again
    code, report = scan_json(str(directory), "--policy", "TDV-AWS-001", root=directory)
    assert outcome(report) == {"aws_s3_bucket.site": ("suppressed", REASON), "aws_s3_bucket.data": ("active", None)}
    assert report["summary"]["suppressed"] == 1 and len(report["findings"]) == 1


def test_every_instance_of_a_counted_block_is_suppressed(tmp_tree):
    tf = SITE.replace('"site" {\n', '"site" {\n  count  = 2\n')
    directory = tmp_tree({"main.tf": tf, "plan.json": plan_of(("aws_s3_bucket.site[0]", "public-read"),
                                                            ("aws_s3_bucket.site[1]", "public-read"))})
    _, report = scan_json(str(directory / "plan.json"), "--policy", "TDV-AWS-001", root=directory)
    assert outcome(report) == {"aws_s3_bucket.site[0]": ("suppressed", REASON),
                               "aws_s3_bucket.site[1]": ("suppressed", REASON)}


def test_a_plan_without_its_tf_files_has_no_suppressions(tmp_tree):
    directory = tmp_tree({"build/plan.json": plan_of(("aws_s3_bucket.site", "public-read")), "main.tf": SITE})
    _, report = scan_json(str(directory / "build/plan.json"), "--policy", "TDV-AWS-001", root=directory)
    assert outcome(report) == {"aws_s3_bucket.site": ("active", None)}
    _, report = scan_json(str(directory / "build/plan.json"), "--policy", "TDV-AWS-001", "--tf-root", str(directory),
                          root=directory)
    assert outcome(report) == {"aws_s3_bucket.site": ("suppressed", REASON)}


@pytest.mark.parametrize("form", ["tf", "plan"])
def test_a_comment_without_a_reason_is_rejected_with_file_and_line(tmp_tree, form):
    files = {"main.tf": NO_REASON}
    if form == "plan":
        files["plan.json"] = plan_of(("aws_s3_bucket.site", "public-read"))
    directory = tmp_tree(files)
    target = directory / ("plan.json" if form == "plan" else "main.tf")
    code, report = scan_json(str(target), "--policy", "TDV-AWS-001", root=directory)
    assert code == 1
    assert outcome(report) == {"aws_s3_bucket.site": ("active", None)}
    assert report["warnings"] == [{"path": "main.tf", "line": 3,
                                   "message": "tdv:skip=TDV-AWS-001 has no reason; the suppression is ignored"}]
    code, output = scan(str(target), "--policy", "TDV-AWS-001", "--no-color", root=directory)
    assert code == 1
    assert "warning: main.tf:3: tdv:skip=TDV-AWS-001 has no reason; the suppression is ignored" in output


def rules_by_block(text: str) -> dict[str, list[tuple[tuple[str, ...], int]]]:
    resources = [r for r in scan_texts([("main.tf", text)]) if hasattr(r, "suppressions")]
    return {r.ref: [(rule.patterns, rule.location.line) for rule in r.suppressions] for r in resources}


def test_each_block_gets_the_comments_inside_it_and_directly_above_it():
    text = '''\
# tdv:skip=TDV-AWS-003 separated from the block by a blank line

// tdv:skip=TDV-AWS-001, tdv-aws-002: static assets
# more words about the bucket
resource "aws_s3_bucket" "a" {
  bucket = "a" # tdv:skip=TDV-AWS-014 - logs go elsewhere
  /* tdv:skip=TDV-AWS-013 a block comment */
  policy = <<-EOT
    # tdv:skip=TDV-AWS-016 inside a heredoc: not a comment
  EOT
} # tdv:skip=TDV-AWS-015 on the closing line
# tdv:skip=TDV-AWS-009 above the volume, right after the bucket
resource "aws_ebs_volume" "b" { size = 1 }
resource "aws_kms_key" "c" {
  description = "tdv:skip=TDV-AWS-011 in a string"
}
'''
    assert rules_by_block(text) == {
        "aws_s3_bucket.a": [(("TDV-AWS-001", "TDV-AWS-002"), 3), (("TDV-AWS-014",), 6), (("TDV-AWS-013",), 7),
                            (("TDV-AWS-015",), 11)],
        "aws_ebs_volume.b": [(("TDV-AWS-009",), 12)],
        "aws_kms_key.c": [],
    }


def test_files_without_the_marker_give_no_suppressions():
    resources = collect(AWS, PROJECT / "plan.json").resources
    assert len(resources) > 10 and all(r.suppressions == () for r in resources)
