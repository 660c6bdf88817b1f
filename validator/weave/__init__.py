"""Weave (and earlier Magalix) `Policy` custom resources as tdv policies (see docs/rego.md).

A Weave Policy holds Rego in `spec.code`; the Weave policy agent evaluates its `violation`
rule with Gatekeeper's input (`input.review.object`, `input.parameters`), so tdv runs it as
a Gatekeeper-style Rego policy.
"""

from __future__ import annotations

from typing import Any

GROUPS = ("pac.weave.works/", "magalix.com/")
KIND = "Policy"


def is_weave_policy(data: dict[str, Any]) -> bool:
    api_version = str(data.get("apiVersion") or "")
    return data.get("kind") == KIND and api_version.startswith(GROUPS)
