"""The engine drops findings on unknown values, and only those."""

from __future__ import annotations

import pytest

from validator.engine import Engine, evaluate, touches_unknown
from validator.engine.policy import PolicyError, parse_policy
from validator.model import Resource, Status
from validator.sources.terraform_values import (
    UNKNOWN,
    UNKNOWN_ITEM,
    mark_unknown,
    settle,
)
from validator.sources.yaml_loader import load_documents

POLICY = """
id: TEST-UNKNOWN-001
title: test
severity: high
category: network
description: a policy reading two fields, blaming one of them and listing the other in reads.
remediation: none
standards: {test: ["1"]}
targets: {kinds: [x_thing]}
validations:
  - expression: "object.?enabled.orValue(false) == true || has(object.exempt)"
    field: enabled
    reads: [exempt]
    message: not enabled
  - forEach: "rules[*]"
    expression: "!item.?cidrs.orValue([]).exists(c, c == 'any')"
    field: cidrs
    message: open
"""


@pytest.mark.parametrize("path,unknown,touches", [
    (("a",), {("a",)}, True),
    (("a", "b"), {("a",)}, True),  # inside an unknown value
    (("a",), {("a", "b")}, True),  # contains one
    (("a", 0), {("a", UNKNOWN_ITEM)}, False),  # a known item beside an unknown one
    (("a",), {("a", UNKNOWN_ITEM)}, True),
    (("b",), {("a",)}, False),
    ((), {("a",)}, True),
    (("a",), set(), False),
])
def test_touches_unknown(path, unknown, touches):
    assert touches_unknown(path, unknown) is touches


def evaluate_document(value, marks=None):
    document, unknown = settle(mark_unknown(value, marks) if marks else value)
    policy = parse_policy(next(load_documents(POLICY)), "test.yaml")
    compiled = Engine.build([policy]).compiled[0]
    resource = Resource("x_thing", "", "x_thing.a", None, document, "plan.json", unknown_paths=unknown)
    return evaluate(compiled, resource, {})


def test_a_known_violation_is_reported():
    result = evaluate_document({"enabled": False, "rules": [{"cidrs": ["any"]}]})
    assert result.status is Status.FAIL
    assert [v.field_path for v in result.violations] == [("enabled",), ("rules", 0, "cidrs")]


def test_an_unknown_blamed_field_drops_the_finding():
    result = evaluate_document({"rules": [{"cidrs": None}]}, {"enabled": True, "rules": [{"cidrs": True}]})
    assert result.status is Status.PASS


def test_an_unknown_field_in_reads_drops_the_finding():
    result = evaluate_document({"enabled": False}, {"exempt": True})
    assert result.status is Status.PASS
    assert evaluate_document({"enabled": False}, {"other": True}).status is Status.FAIL


def test_a_list_with_an_unknown_item_is_not_blamed_as_a_whole():
    result = evaluate_document({"enabled": True, "rules": [{"cidrs": ["any", None]}, {"cidrs": ["any"]}]},
                               {"rules": [{"cidrs": [False, True]}, {}]})
    assert [v.field_path for v in result.violations] == [("rules", 1, "cidrs")]


def test_unknown_items_close_up_lists():
    document, unknown = settle({"l": [UNKNOWN, 1, UNKNOWN, 2], "m": {"k": UNKNOWN, "n": None}, "big": 2**70})
    assert document == {"l": [1, 2], "m": {}, "big": float(2**70)}
    assert unknown == {("l", UNKNOWN_ITEM), ("m", "k")}


def test_reads_must_be_field_paths():
    broken = POLICY.replace("reads: [exempt]", "reads: ['a..b']")
    with pytest.raises(PolicyError, match="malformed field path"):
        parse_policy(next(load_documents(broken)), "test.yaml")
