"""The cross-resource docs stay true: every relation is described, and the example policy of
docs/policy-format.md loads and passes its own cases."""

from __future__ import annotations

import re

from tests.helpers import REPO
from validator.engine.policy import parse_policy
from validator.inventory import RELATIONS
from validator.policy_tests import run_case
from validator.sources.yaml_loader import load_documents


def test_every_relation_is_described():
    text = (REPO / "docs" / "cross-resource.md").read_text(encoding="utf-8")
    described = re.findall(r"^\| `([A-Za-z]+)` \|", text, re.MULTILINE)
    assert sorted(described) == sorted(RELATIONS)


def test_the_example_cross_resource_policy_works():
    text = (REPO / "docs" / "policy-format.md").read_text(encoding="utf-8")
    [example] = [block for block in re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)
                 if block.startswith("id: ACME-K8S-001")]
    [document] = list(load_documents(example.replace("description: ...", "description: d")
                                     .replace("remediation: ...", "remediation: r")))
    policy = parse_policy(document, "policy-format.md")
    assert policy.relations == ("roles",)
    outcomes = [run_case(policy, case) for case in policy.tests]
    assert [o.passed for o in outcomes] == [True, True], [o.detail for o in outcomes]
