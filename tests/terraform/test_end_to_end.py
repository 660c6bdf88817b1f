"""A plan and its .tf sources, scanned end to end: findings on .tf lines, ready for SARIF."""

from __future__ import annotations

import json

from validator.reporters import RenderOptions, sarif

from .conftest import AWS, CORPUS, DATA, PROJECT, TEST_POLICIES, scan, scan_json


def test_plan_findings_point_at_tf_lines():
    code, report = scan_json(str(PROJECT / "plan.json"), "--policies", str(TEST_POLICIES), "--policy", "TEST-*")
    assert code == 1
    found = sorted((f["location"]["path"], f["location"]["line"], f["resource"]["ref"]) for f in report["findings"])
    assert found == [
        ("project/main.tf", 10, "terraform_data.firewall"),
        ("project/main.tf", 20, 'terraform_data.zones["public"]'),
        ("project/modules/net/modules/inner/main.tf", 4, 'module.net["blue"].module.inner.terraform_data.deep'),
        ("project/modules/net/modules/inner/main.tf", 4, 'module.net["green"].module.inner.terraform_data.deep'),
    ]
    assert all(f["field"] == "input.cidr" for f in report["findings"])
    assert all(f["resource"]["metadata"] == {"terraform-plan": "project/plan.json"} for f in report["findings"])
    # the creation time is unknown in the plan: its validation drops the finding
    assert not any("creation time" in f["message"] for f in report["findings"])


def test_sarif_locations_are_tf_files_and_lines():
    from validator.cli.scan import run_scan

    report = run_scan([str(PROJECT / "plan.json")], policy_dirs=[TEST_POLICIES], include=["TEST-*"], root=DATA)
    log = json.loads(sarif.render(report, RenderOptions()))
    locations = {(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                  r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in log["runs"][0]["results"]}
    assert locations == {("project/main.tf", 10), ("project/main.tf", 20),
                         ("project/modules/net/modules/inner/main.tf", 4)}


def test_each_aws_policy_fires_on_the_tf_sample_at_the_written_line():
    code, report = scan_json(str(AWS), "--policy", "TDV-AWS-*")
    assert code == 1
    found = sorted((f["policyId"], f["location"]["path"], f["location"]["line"], f["field"]) for f in report["findings"])
    assert found == [
        ("TDV-AWS-001", "aws/storage.tf", 8, "acl"),
        ("TDV-AWS-002", "aws/storage.tf", 20, "rule[0].apply_server_side_encryption_by_default"),
        ("TDV-AWS-003", "aws/storage.tf", 14, "versioning_configuration[0].status"),
        ("TDV-AWS-004", "aws/network.tf", 10, "ingress[0].cidr_blocks"),  # the CIDR comes from terraform.tfvars
        ("TDV-AWS-004", "aws/network.tf", 35, "cidr_ipv4"),
        ("TDV-AWS-005", "aws/network.tf", 30, "ipv6_cidr_blocks"),
        ("TDV-AWS-005", "aws/network.tf", 35, "cidr_ipv4"),
        ("TDV-AWS-006", "aws/network.tf", 35, "cidr_ipv4"),
        ("TDV-AWS-007", "aws/compute.tf", 7, "publicly_accessible"),
        ("TDV-AWS-008", "aws/compute.tf", 1, "storage_encrypted"),  # not written: the block
        ("TDV-AWS-009", "aws/storage.tf", 28, "encrypted"),
        ("TDV-AWS-010", "aws/compute.tf", 12, "policy"),
        ("TDV-AWS-011", "aws/storage.tf", 33, "enable_key_rotation"),
        ("TDV-AWS-012", "aws/compute.tf", 28, "metadata_options[0].http_tokens"),
    ]


def test_aws_policies_on_a_real_plan():
    code, report = scan_json(str(CORPUS / "checkov__runner_plan/tfplan.json"), "--policy", "TDV-AWS-*")
    assert code == 1
    found = sorted((f["policyId"], f["resource"]["ref"]) for f in report["findings"])
    assert found == [
        ("TDV-AWS-001", "aws_s3_bucket.data"),
        ("TDV-AWS-004", "aws_security_group.web-node"),
        ("TDV-AWS-007", "aws_db_instance.default"),
        ("TDV-AWS-008", "aws_db_instance.default"),
        ("TDV-AWS-011", "aws_kms_key.logs_key"),
    ]
    assert all(f["location"]["path"] == "corpus/checkov__runner_plan/tfplan.json" and f["location"]["line"] > 1
               for f in report["findings"])


def test_for_each_modules_without_their_sources_point_at_the_plan():
    code, report = scan_json(str(CORPUS / "checkov__plan_with_for_each"), "--policy", "TDV-AWS-006")
    assert code == 1
    refs = sorted(f["resource"]["ref"] for f in report["findings"])
    assert refs == [f'module.sg["{name}"].aws_security_group.bad' for name in ("awful_example", "bad_example", "terrible_example")]
    assert {f["location"]["path"] for f in report["findings"]} == {"corpus/checkov__plan_with_for_each/tf_plan.json"}


def test_console_output_names_tf_lines_and_addresses():
    code, output = scan(str(PROJECT / "plan.json"), "--policies", str(TEST_POLICIES), "--policy", "TEST-*", "--no-color")
    assert code == 1
    assert "project/main.tf:10:5" in output and "[terraform_data.firewall]" in output
