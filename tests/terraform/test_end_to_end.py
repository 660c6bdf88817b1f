"""A plan and its .tf sources, scanned end to end: findings on .tf lines, ready for SARIF."""

from __future__ import annotations

import json
import re

import pytest

from validator.model import parse_path
from validator.reporters import FormatOptions, sarif

from tests.helpers import scan_paths
from tests.terraform.common import AWS, CORPUS, DATA, PROJECT, TEST_POLICIES, scan, scan_json


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
    report = scan_paths([PROJECT / "plan.json"], policy_dirs=[TEST_POLICIES], include=["TEST-*"], root=DATA)
    log = json.loads(sarif.render(report, FormatOptions()))
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
        ("TDV-AWS-017", "aws/compute.tf", 1, "backup_retention_period"),  # not written: the default, 1 day
        ("TDV-AWS-018", "aws/compute.tf", 1, "deletion_protection"),  # not written: off by default
        ("TDV-AWS-047", "aws/storage.tf", 13, "versioning_configuration[0].mfa_delete"),  # not written: off
        ("TDV-AWS-059", "aws/compute.tf", 1, "iam_database_authentication_enabled"),  # not written: off
        ("TDV-AWS-060", "aws/compute.tf", 1, "multi_az"),  # not written: a single zone
        ("TDV-AWS-070", "aws/compute.tf", 22, "iam_instance_profile"),  # not written: no role
        ("TDV-AWS-071", "aws/storage.tf", 2, "bucket"),  # no public access block refers to the bucket
        ("TDV-AWS-073", "aws/storage.tf", 2, "bucket"),  # nor any logging resource
        ("TDV-AWS-080", "aws/network.tf", 2, "name"),  # opened by the two separate rules below it
        ("TDV-AWS-096", "aws/storage.tf", 2, "bucket"),  # and no bucket policy refers to it
    ]
    for finding in report["findings"]:  # each points at its field, at the nearest written parent, or at the block
        line = (DATA / finding["location"]["path"]).read_text().splitlines()[finding["location"]["line"] - 1]
        kind, name = finding["resource"]["ref"].split(".")
        names = [segment for segment in parse_path(finding["field"]) if isinstance(segment, str)]
        assert (any(re.match(rf"\s*{n}\s*[={{]", line) for n in names)
                or line.startswith(f'resource "{kind}" "{name}"')), finding


# Every AWS finding on the real plan, with what the plan says at the blamed field that makes it one.
REAL_PLAN = CORPUS / "checkov__runner_plan/tfplan.json"
REAL_PLAN_FINDINGS = {
    ("TDV-AWS-001", "aws_s3_bucket.data", "acl"): lambda v: v == "public-read",
    ("TDV-AWS-004", "aws_security_group.web-node", "ingress[0].cidr_blocks"): lambda v: "0.0.0.0/0" in v,
    ("TDV-AWS-007", "aws_db_instance.default", "publicly_accessible"): lambda v: v is True,
    ("TDV-AWS-008", "aws_db_instance.default", "storage_encrypted"): lambda v: v is False,
    ("TDV-AWS-011", "aws_kms_key.logs_key", "enable_key_rotation"): lambda v: v is False,
    # provider v3 buckets whose logging is known to be empty (neither is a log-delivery-write target)
    ("TDV-AWS-014", "aws_s3_bucket.data", "logging"): lambda v: v == [],
    ("TDV-AWS-014", "aws_s3_bucket.financials", "logging"): lambda v: v == [],
    ("TDV-AWS-014", "aws_s3_bucket.flowbucket", "logging"): lambda v: v == [],
    ("TDV-AWS-014", "aws_s3_bucket.operations", "logging"): lambda v: v == [],
    ("TDV-AWS-017", "aws_db_instance.default", "backup_retention_period"): lambda v: v == 0,
    ("TDV-AWS-018", "aws_db_instance.default", "deletion_protection"): lambda v: v is None,  # off by default
    ("TDV-AWS-022", "aws_elasticsearch_domain_policy.monitoring-framework-policy", "access_policies"):
        lambda v: [(s["Effect"], s["Principal"], s.get("Condition")) for s in json.loads(v)["Statement"]]
        == [("Allow", {"AWS": "*"}, None)],
    ("TDV-AWS-027", "aws_eks_cluster.eks_cluster", "encryption_config"): lambda v: v == [],
    ("TDV-AWS-028", "aws_eks_cluster.eks_cluster", "enabled_cluster_log_types"): lambda v: v is None,
    ("TDV-AWS-034", "aws_lambda_function.analysis_lambda", "environment[0].variables"):
        lambda v: {"access_key", "secret_key"} <= set(v),
    ("TDV-AWS-035", "aws_ecr_repository.repository", "image_tag_mutability"): lambda v: v == "MUTABLE",
    ("TDV-AWS-036", "aws_ecr_repository.repository", "image_scanning_configuration"): lambda v: v == [],
    ("TDV-AWS-046", "aws_iam_user_policy.userpolicy", "user"): lambda v: v == "123456789123-acme-corp-user",
    **{("TDV-AWS-047", f"aws_s3_bucket.{name}", "versioning[0].mfa_delete"): (lambda v: v is False)
       for name in ("data_science", "logs", "operations")},
    **{("TDV-AWS-055", f"aws_subnet.{name}", "map_public_ip_on_launch"): (lambda v: v is True)
       for name in ("eks_subnet1", "eks_subnet2", "web_subnet", "web_subnet2")},
    ("TDV-AWS-059", "aws_db_instance.default", "iam_database_authentication_enabled"): lambda v: v is None,  # MySQL, off
    ("TDV-AWS-060", "aws_db_instance.default", "multi_az"): lambda v: v is False,
    # a mysql8.0 group that does not set require_secure_transport
    ("TDV-AWS-061", "aws_db_parameter_group.default", "parameter"):
        lambda v: "require_secure_transport" not in {p["name"] for p in v},
    ("TDV-AWS-069", "aws_iam_role_policy.ec2policy", "policy"):
        lambda v: json.loads(v)["Statement"][0]["Action"] == ["s3:*", "ec2:*", "rds:*"],
    ("TDV-AWS-069", "aws_iam_user_policy.userpolicy", "policy"):
        lambda v: json.loads(v)["Statement"][0]["Resource"] == "*",
    ("TDV-AWS-070", "aws_instance.web_host", "iam_instance_profile"): lambda v: v is None,
    # cross-resource: no resource of the plan provides a public access block or versioning (a
    # new bucket's versioning is computed by the provider, and its block does not write one)
    **{("TDV-AWS-071", f"aws_s3_bucket.{name}", "bucket"): (lambda v: v.startswith("123456789123-acme-corp-"))
       for name in ("data", "data_science", "financials", "flowbucket", "logs", "operations")},
    **{("TDV-AWS-072", f"aws_s3_bucket.{name}", "bucket"): (lambda v: v.startswith("123456789123-acme-corp-"))
       for name in ("data", "financials", "flowbucket")},
    ("TDV-AWS-075", "aws_vpc.eks_vpc", "cidr_block"): lambda v: v == "10.10.0.0/16",  # web_vpc has a flow log
    **{("TDV-AWS-076", f"aws_vpc.{name}", "cidr_block"): (lambda v: v.endswith("/16")) for name in ("eks_vpc", "web_vpc")},
    # no inline policy (known null) and no aws_s3_bucket_policy in the plan
    **{("TDV-AWS-096", f"aws_s3_bucket.{name}", "bucket"): (lambda v: v.startswith("123456789123-acme-corp-"))
       for name in ("data", "data_science", "financials", "flowbucket", "logs", "operations")},
}


def test_aws_policies_on_a_real_plan():
    code, report = scan_json(str(REAL_PLAN), "--policy", "TDV-AWS-*")
    assert code == 1
    found = sorted((f["policyId"], f["resource"]["ref"], f["field"]) for f in report["findings"])
    assert found == sorted(REAL_PLAN_FINDINGS)
    assert all(f["location"]["path"] == "corpus/checkov__runner_plan/tfplan.json" and f["location"]["line"] > 1
               for f in report["findings"])


def at(value, path):
    """The value at a field path; None when it is absent."""
    for segment in path:
        if isinstance(value, dict):
            value = value.get(segment)
        elif isinstance(value, list) and isinstance(segment, int) and segment < len(value):
            value = value[segment]
        else:
            return None
    return value


@pytest.mark.parametrize("policy,address,field", sorted(REAL_PLAN_FINDINGS))
def test_each_finding_on_the_real_plan_is_what_the_plan_says(policy, address, field):
    change, = (c["change"] for c in json.loads(REAL_PLAN.read_text())["resource_changes"] if c["address"] == address)
    path = parse_path(field)
    assert not any(at(change["after_unknown"], path[:n]) is True for n in range(1, len(path) + 1)), \
        f"{address}.{field} is not known before apply: the finding should have been dropped"
    assert REAL_PLAN_FINDINGS[policy, address, field](at(change["after"], path)), f"{policy}: {address}.{field}"


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
