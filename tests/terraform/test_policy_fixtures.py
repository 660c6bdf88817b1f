"""Terraform policies: fixtures in both forms, and the test-case format for them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from validator.engine.library import load_policies
from validator.engine.policy import PolicyError, parse_policy
from validator.engine.scopes import parse_scope
from validator.policy_tests import run_case
from validator.sources.yaml_loader import load_documents

TERRAFORM = [p for p in load_policies([]) if p.source.startswith("policies/terraform/")]
PROVIDERS = {"aws": "AWS", "gcp": "GCP", "azure": "AZR"}  # directory -> id prefix
PUBLISHED = {"AWS": 80, "GCP": 52, "AZR": 59}  # ids never disappear once published
# What each provider must cover: the benchmark its policies cite, and, per area, resource types
# of which at least one must be targeted by some policy.
COVERAGE = {
    "AWS": ("cis-aws-foundations", {
        "S3": {"aws_s3_bucket"}, "security groups": {"aws_security_group"}, "RDS": {"aws_db_instance"},
        "EBS": {"aws_ebs_volume"}, "IAM": {"aws_iam_policy", "aws_iam_role"}, "KMS": {"aws_kms_key"},
        "EC2": {"aws_instance"}, "CloudTrail": {"aws_cloudtrail"}, "EKS": {"aws_eks_cluster"},
        "load balancers": {"aws_lb_listener"}, "Lambda": {"aws_lambda_function"}, "ECR": {"aws_ecr_repository"},
    }),
    "GCP": ("cis-gcp-foundations", {
        "Cloud Storage": {"google_storage_bucket"}, "firewall": {"google_compute_firewall"},
        "Cloud SQL": {"google_sql_database_instance"}, "GKE": {"google_container_cluster"},
        "Compute Engine": {"google_compute_instance"},
    }),
    "AZR": ("cis-azure-foundations", {
        "storage": {"azurerm_storage_account"}, "NSG": {"azurerm_network_security_group"},
        "Key Vault": {"azurerm_key_vault"}, "SQL": {"azurerm_mssql_server"},
        "AKS": {"azurerm_kubernetes_cluster"}, "App Service": {"azurerm_linux_web_app", "azurerm_windows_web_app"},
    }),
}


@pytest.mark.parametrize("directory,prefix", PROVIDERS.items())
def test_each_provider_numbers_its_policies_from_001_without_gaps(directory, prefix):
    policies = [p for p in TERRAFORM if p.source.startswith(f"policies/terraform/{directory}/")]
    numbers = sorted(int(p.id.rsplit("-", 1)[1]) for p in policies)
    # ids run from 001 without gaps; a block of ids reserved for parallel work starts at a multiple of 50
    runs = [n for i, n in enumerate(numbers) if i == 0 or n != numbers[i - 1] + 1]
    assert runs[:1] == [1] and all(n % 50 == 0 for n in runs[1:]), f"{prefix}: ids have gaps: {runs}"
    assert len(set(numbers)) == len(numbers)
    assert len(numbers) >= PUBLISHED[prefix]
    for policy in policies:
        assert policy.id.startswith(f"TDV-{prefix}-"), f"{policy.source} holds {policy.id}"
        assert policy.source.rsplit("/", 1)[1].startswith(f"{policy.id}-"), policy.source


def test_every_terraform_policy_is_in_its_providers_directory():
    assert {p.source.split("/")[2] for p in TERRAFORM} == set(PROVIDERS)


@pytest.mark.parametrize("prefix", COVERAGE)
def test_each_provider_covers_the_required_services(prefix):
    benchmark, areas = COVERAGE[prefix]
    policies = [p for p in TERRAFORM if p.id.startswith(f"TDV-{prefix}-")]
    targeted = {kind for p in policies for kind in p.targets.kinds}
    missing = [area for area, kinds in areas.items() if not kinds & targeted]
    assert not missing, f"{prefix}: no policy for {', '.join(missing)}"
    assert any(benchmark in p.standards for p in policies)


def test_the_terraform_guide_lists_every_policy_with_its_severity_and_types():
    text = (Path(__file__).resolve().parents[2] / "docs" / "terraform.md").read_text(encoding="utf-8")
    rows: dict[str, tuple[str, set[str]]] = {}  # id -> (severity, resource types)
    previous: set[str] = set()
    for line in text.splitlines():
        if not re.match(r"\| TDV-[A-Z]+-\d{3} \|", line):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        types = cells[-1]
        if types.startswith("same"):  # "same": the row above; "same as TDV-X-nnn": that row
            named = re.search(r"TDV-[A-Z]+-\d{3}", types)
            kinds = rows[named.group(0)][1] if named else previous
        else:
            kinds = set(re.findall(r"`([a-z0-9_]+)`", types))
        rows[cells[0]] = (cells[1], kinds)
        previous = kinds
    assert sorted(rows) == sorted(p.id for p in TERRAFORM)
    for policy in TERRAFORM:
        assert rows[policy.id] == (policy.severity.label, set(policy.targets.kinds)), policy.id


@pytest.mark.parametrize("policy", TERRAFORM, ids=[p.id for p in TERRAFORM])
def test_passing_and_failing_fixtures_in_both_forms(policy):
    forms = {(("tf" if case.tf is not None else "plan" if case.plan is not None else "object"), case.expect)
             for case in policy.tests}
    assert forms == {("tf", "pass"), ("tf", "fail"), ("plan", "pass"), ("plan", "fail")}


@pytest.mark.parametrize("policy", TERRAFORM, ids=[p.id for p in TERRAFORM])
def test_an_unknown_value_the_policy_reads_passes(policy):
    read = set()
    for validation in policy.validations:
        paths = [validation.field_path, *validation.reads]
        if validation.for_each:
            read.add(validation.for_each.split(".")[0].removesuffix("[*]"))
        read.update(str(path[0]) for path in paths if path and not validation.for_each)
    cases = [c for c in policy.tests if c.plan is not None and c.expect == "pass"]
    planned = [p for c in cases for p in (c.plan if isinstance(c.plan, list) else [c.plan])]
    assert any(read & set(p.get("after_unknown", {})) for p in planned), f"{policy.id}: no such plan case"


@pytest.mark.parametrize("policy", TERRAFORM, ids=[p.id for p in TERRAFORM])
def test_every_validation_blames_a_field(policy):
    for validation in policy.validations:
        assert validation.field_path, f"{policy.id}: {validation.message}"
        if validation.for_each:
            parse_scope(validation.for_each)


BASE = """
id: TEST-FORM-001
title: test
severity: low
category: data-protection
description: d
remediation: r
standards: {test: ["1"]}
targets: {kinds: [aws_ebs_volume]}
validations:
  - expression: "object.?encrypted.orValue(false)"
    field: encrypted
    message: not encrypted
tests:
"""


def load(tests: str):
    return parse_policy(next(load_documents(BASE + tests)), "test.yaml")


def test_a_case_holds_exactly_one_form():
    with pytest.raises(PolicyError, match="exactly one of: object, objects, tf, plan"):
        load("  - {name: two, expect: fail, tf: 'x', plan: {type: a, after: {}}}\n")
    with pytest.raises(PolicyError, match="exactly one of"):
        load("  - {name: none, expect: fail}\n")


def test_plan_cases_are_checked():
    with pytest.raises(PolicyError, match="missing required key 'type'"):
        load("  - {name: p, expect: fail, plan: {after: {}}}\n")
    with pytest.raises(PolicyError, match="unknown key 'before'"):
        load("  - {name: p, expect: fail, plan: {type: aws_ebs_volume, after: {}, before: {}}}\n")


def test_cases_run_through_the_real_sources():
    policy = load(
        "  - name: tf\n    expect: fail\n    tf: |\n      resource \"aws_ebs_volume\" \"v\" {\n        size = 1\n      }\n"
        "  - name: broken tf\n    expect: pass\n    tf: 'resource \"aws_ebs_volume\" {'\n"
        "  - name: plan unknown\n    expect: pass\n    plan: {type: aws_ebs_volume, after: {size: 1}, after_unknown: {encrypted: true}}\n"
        "  - name: plan wrong type\n    expect: fail\n    plan: {type: aws_s3_bucket, after: {}}\n"
    )
    outcomes = [run_case(policy, case) for case in policy.tests]
    assert [o.passed for o in outcomes] == [True, False, True, False]
    assert outcomes[1].detail.startswith("the fixture cannot be read: <fixture>.tf:1: invalid HCL")
    assert outcomes[3].detail == "the policy does not target aws_s3_bucket"
