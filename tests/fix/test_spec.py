"""The `fix` key of the policy format: parsed into steps, or rejected with its line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from validator.engine.fix_spec import FixStep
from validator.engine.policy import PolicyError, load_policy_file
from validator.fix.plan import Planner

POLICY = """\
id: TDV-TEST-001
title: Test
severity: low
category: pod-security
description: test
remediation: test
standards: {cis-kubernetes: ["1"]}
targets: {kinds: [Pod]}
parameters:
  tokens: {type: string, default: required, description: test}
validations:
  - forEach: "@containers"
    expression: "container.?securityContext.?runAsNonRoot.orValue(false)"
    field: securityContext.runAsNonRoot
    fix:
{fix}
    message: test
"""


def load(tmp_path: Path, fix: str):
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY.replace("{fix}", fix), encoding="utf-8")
    return load_policy_file(path, "policy.yaml")


def test_steps_are_parsed(tmp_path):
    policy = load(tmp_path, "      - set: securityContext.runAsNonRoot\n        value: true\n"
                            "      - append: securityContext.capabilities.drop\n        value: ALL\n"
                            '      - set: metadata.labels["a.b/c"]\n        valueExpression: params.tokens\n'
                            "        ifAbsent: true\n        when: \"true\"")
    assert policy.validations[0].fix == (
        FixStep("set", ("securityContext", "runAsNonRoot"), True),
        FixStep("append", ("securityContext", "capabilities", "drop"), "ALL"),
        FixStep("set", ("metadata", "labels", "a.b/c"), None, "params.tokens", True, "true"),
    )


@pytest.mark.parametrize("fix,line,message", [
    ("      - set: a\n", 16, "exactly one of: value, valueExpression"),
    ("      - set: a\n        append: b\n        value: 1\n", 16, "exactly one of: set, append"),
    ("      - value: 1\n", 16, "exactly one of: set, append"),
    ("      - set: a\n        value: 1\n        valueExpression: x\n", 16, "exactly one of: value, valueExpression"),
    ("      - set: 'a..b'\n        value: 1\n", 16, "malformed field path"),
    ("      - set: ''\n        value: 1\n", 16, "must be a non-empty string"),
    ("      - append: a\n        value: 1\n        ifAbsent: true\n", 18, "ifAbsent must be a boolean, and goes with set"),
    ("      - set: a\n        value: 1\n        colour: red\n", 18, "unknown key 'colour'"),
    ("      - set: a\n        value: null\n", 17, "value must be a string, number, boolean, list or mapping"),
    ("      []\n", 15, "fix needs at least one step"),
    ("      {set: a}\n", 15, "must be a list"),
])
def test_malformed_steps_are_rejected_with_their_line(tmp_path, fix, line, message):
    with pytest.raises(PolicyError) as caught:
        load(tmp_path, fix.rstrip("\n"))
    assert caught.value.line == line
    assert message in caught.value.message


def test_a_fix_expression_that_does_not_compile_is_a_policy_error(tmp_path):
    policy = load(tmp_path, "      - set: a\n        valueExpression: \"container.name +\"")
    with pytest.raises(PolicyError, match=re.escape("TDV-TEST-001: CEL compile error in fix")):
        Planner().check(policy)
    Planner().check(load(tmp_path, "      - set: a\n        valueExpression: podSpec.?hostname.orValue(container.name)"))
