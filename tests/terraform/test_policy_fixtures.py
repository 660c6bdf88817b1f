"""Terraform policies: fixtures in both forms, and the test-case format for them."""

from __future__ import annotations

import pytest

from validator.engine.library import load_policies
from validator.engine.policy import PolicyError, parse_policy
from validator.engine.scopes import parse_scope
from validator.policy_tests import run_case
from validator.sources.yaml_loader import load_documents

TERRAFORM = [p for p in load_policies([]) if p.source.startswith("policies/terraform/")]


def test_the_aws_policies_are_there():
    assert [p.id for p in TERRAFORM] == [f"TDV-AWS-{n:03d}" for n in range(1, 13)]


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
    assert any(read & set(c.plan.get("after_unknown", {})) for c in cases), f"{policy.id}: no such plan case"


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
    with pytest.raises(PolicyError, match="exactly one of: object, tf, plan"):
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
