"""docs/fix.md and the `fix` section of docs/policy-format.md stay true."""

from __future__ import annotations

import re
from pathlib import Path

from validator.engine.library import load_policies
from validator.engine.policy import parse_policy
from validator.fix.plan import Planner, has_fix
from validator.sources.yaml_loader import load_documents

DOCS = Path(__file__).resolve().parent.parent.parent / "docs"


def test_the_table_of_fixes_lists_exactly_the_policies_that_have_one():
    text = (DOCS / "fix.md").read_text(encoding="utf-8")
    table = text[text.index("## What gets fixed"):text.index("A fix sets what the policy asks for")]
    listed = re.findall(r"^\| (TDV-[A-Z0-9]+-\d+) \|", table, re.MULTILINE)
    assert sorted(listed) == sorted(p.id for p in load_policies([]) if has_fix(p))


def test_the_policy_format_example_is_a_valid_fix():
    text = (DOCS / "policy-format.md").read_text(encoding="utf-8")
    section = text[text.index("## Fix"):text.index("## Terraform")]
    example = re.search(r"```yaml\n(.*?)```", section, re.DOTALL).group(1)
    policy_text = (
        "id: TDV-DOC-001\ntitle: t\nseverity: low\ncategory: pod-security\ndescription: d\nremediation: r\n"
        "standards: {cis-kubernetes: ['1']}\ntargets: {kinds: [Pod]}\n"
        "parameters: {fix_cpu_limit: {type: string, default: 500m, description: d}}\n"
    ) + example.replace("    field:", "    message: m\n    field:")  # the example leaves messages out
    documents = list(load_documents(policy_text))
    policy = parse_policy(documents[0], "example")
    assert [len(v.fix) for v in policy.validations] == [1, 1, 1]
    Planner().check(policy)
