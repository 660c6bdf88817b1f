"""Odd text never costs a finding: lone surrogates are replaced before a document reaches CEL."""

from __future__ import annotations

import json

from validator.text_values import REPLACEMENT, text_safe

from tests.helpers import tdv

# A lone surrogate in an unrelated field (JSON's `\ud800` escape) and SSH open to the world.
PLAN = json.dumps({"format_version": "1.2", "terraform_version": "1.9.0", "resource_changes": [
    {"address": "aws_security_group.ssh", "mode": "managed", "type": "aws_security_group", "name": "ssh",
     "change": {"actions": ["create"], "after": {
         "name": "ssh", "description": "odd \ud800 text", "tags": {"k\udfff": "v"},
         "ingress": [{"from_port": 22, "to_port": 22, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"],
                      "ipv6_cidr_blocks": [], "description": "\udc00"}]}}}]})


def test_clean_documents_are_handed_over_as_they_are():
    document = {"a": ["é", "😀", 1, 1.5, None, True, {"b": "x"}]}
    assert text_safe(document) is document


def test_each_lone_surrogate_in_keys_and_values_becomes_a_replacement_character():
    assert text_safe({"k\ud800": ["x\udfffy", {"\udc00": "\ud83d"}], "n": 1}) == {
        f"k{REPLACEMENT}": [f"x{REPLACEMENT}y", {REPLACEMENT: REPLACEMENT}], "n": 1}


def test_a_lone_surrogate_in_a_plan_does_not_hide_an_ssh_port_open_to_the_world(tmp_path):
    (tmp_path / "plan.json").write_text(PLAN)
    result = tdv("scan", "--root", str(tmp_path), str(tmp_path / "plan.json"), "--policy", "TDV-AWS-00*", "-o", "json")
    report = json.loads(result.stdout)  # the summary goes to stderr
    assert report["errors"] == []
    assert [f["policyId"] for f in report["findings"]] == ["TDV-AWS-004"]
