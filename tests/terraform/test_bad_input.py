"""Bad input never crashes tdv: one line per bad file, exit code 2, the rest still scanned."""

from __future__ import annotations

import codecs

import pytest

from tests.terraform.common import AWS, CORPUS, PROJECT, scan, scan_json

GOOD_PLAN = (PROJECT / "plan.json").read_text()
BAD_FILES = {
    "truncated.json": (GOOD_PLAN[:2000], 1, "invalid plan JSON: "),
    "invalid.json": ('{"format_version": "1.2",\n "terraform_version": "1.9.0",\n "resource_changes": [,]}',
                     3, "invalid plan JSON: Expecting value (column 23)"),
    "future.json": ('{"format_version": "2.0", "terraform_version": "2.0.0", "planned_values": {}}',
                    1, "unsupported Terraform plan format_version '2.0' (supported: 0.x and 1.x)"),
    "state.json": ((CORPUS / "checkov__runner_plan/corrupted-tfplan.json").read_text(),
                   1, "this is Terraform state, not a plan"),
    "nan.json": ('{"format_version": "1.2", "terraform_version": "1.9.0", "resource_changes": [], "x": NaN}',
                 None, "invalid plan JSON: NaN is not valid JSON"),
    "deep.json": ('{"format_version": "1.2", "terraform_version": "1.9.0", "x": ' + "[" * 100000 + "]" * 100000 + "}",
                  None, "invalid plan JSON: nested too deeply"),
    "broken.tf": ('resource "aws_db_instance" "x" {\n  password = "hunter2\n}\n', 2, "invalid HCL: unexpected"),
    "unclosed.tf": ('resource "aws_s3_bucket" "x" {\n  bucket = "a"\n', 3, "invalid HCL: unexpected end of file"),
    "binary.tf": (b"\x00\x01\x02", None, "binary file"),
}


@pytest.mark.parametrize("name", BAD_FILES)
def test_each_bad_file_is_one_line_with_file_and_line(tmp_tree, name):
    content, line, message = BAD_FILES[name]
    directory = tmp_tree({name: content, "good/main.tf": (AWS / "storage.tf").read_text()})
    code, report = scan_json(str(directory), root=directory)
    assert code == 2
    error, = report["errors"]
    assert (error["kind"], error["path"], error["line"]) == ("input", name, line)
    assert error["message"].startswith(message) and "\n" not in error["message"]
    assert {f["resource"]["ref"] for f in report["findings"]} >= {"aws_s3_bucket_acl.logs", "aws_kms_key.logs"}
    assert "hunter2" not in str(report)


def test_console_shows_every_error_and_still_scans_the_rest(tmp_tree):
    directory = tmp_tree({name: content for name, (content, _, _) in BAD_FILES.items()})
    code, output = scan(str(directory), str(CORPUS / "checkov__runner_plan/tfplan.json"), "--no-color", root=directory.parent)
    assert code == 2
    errors = [line for line in output.splitlines() if line.startswith("error: ")]
    assert len(errors) == len(BAD_FILES)
    assert any(f"{directory.name}/broken.tf:2: invalid HCL" in line for line in errors)
    assert "TDV-AWS-004" in output  # the good plan was scanned
    assert "hunter2" not in output


def test_utf16_and_bom_plans_are_read(tmp_tree):
    directory = tmp_tree({
        "bom.json": codecs.BOM_UTF8 + GOOD_PLAN.encode("utf-8"),
        "utf16be.json": codecs.BOM_UTF16_BE + GOOD_PLAN.encode("utf-16-be"),
    })
    code, report = scan_json(str(directory), "--policy", "TDV-AWS-*", root=directory)
    assert code == 0 and not report["errors"]
    assert report["summary"]["resources"] == 14


def test_malformed_entries_are_reported_and_the_others_scanned(tmp_tree):
    plan = ('{"format_version": "1.2", "terraform_version": "1.9.0", "resource_changes": [7, {"address": "x"},'
            ' {"address": "aws_s3_bucket_acl.a", "type": "aws_s3_bucket_acl", "name": "a",'
            ' "change": {"actions": ["create"], "after": {"acl": "public-read"}}}]}')
    directory = tmp_tree({"plan.json": plan})
    code, report = scan_json(str(directory), root=directory)
    assert code == 2
    assert [e["message"] for e in report["errors"]] == [
        "malformed plan: resource_changes[0] is not an object", "malformed plan: resource_changes[1] has no type"]
    assert [f["policyId"] for f in report["findings"]] == ["TDV-AWS-001"]
