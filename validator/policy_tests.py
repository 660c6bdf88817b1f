"""Run the test cases written inside policy files (used by pytest and `tdv test`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from validator.engine import Engine, evaluate
from validator.engine.policy import Policy, PolicyTest
from validator.model import Resource, Status, format_path


@dataclass(frozen=True)
class CaseOutcome:
    policy: Policy
    case: PolicyTest
    passed: bool
    detail: str


def fixture_resource(case: PolicyTest, name: str = "<fixture>") -> Resource:
    obj = case.object
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    return Resource(
        kind=str(obj.get("kind", "")),
        api_version=str(obj.get("apiVersion", "")),
        name=str(meta.get("name", "")),
        namespace=meta.get("namespace"),
        document=obj,
        path=name,
    )


def run_case(policy: Policy, case: PolicyTest) -> CaseOutcome:
    from validator.engine.targets import matches

    compiled = Engine.build([policy], {policy.id: case.parameters}).compiled[0]
    resource = fixture_resource(case)
    targeted = resource.kind in policy.targets.kinds or "*" in policy.targets.kinds
    if not targeted or not matches(policy.targets, resource):
        if case.expect == "pass":
            return CaseOutcome(policy, case, True, "not targeted")
        return CaseOutcome(policy, case, False, f"the policy does not target {resource.kind or 'this object'}")
    result = evaluate(compiled, resource, {})
    if result.status is Status.ERROR:
        return CaseOutcome(policy, case, False, f"evaluation error: {result.error}")
    if case.expect == "pass":
        if result.status is Status.PASS:
            return CaseOutcome(policy, case, True, "passed")
        fields = ", ".join(format_path(v.field_path) for v in result.violations)
        return CaseOutcome(policy, case, False, f"expected pass, got {len(result.violations)} violation(s) at {fields}")
    if result.status is Status.PASS:
        return CaseOutcome(policy, case, False, "expected a violation, got none")
    blamed = [v.field_path for v in result.violations]
    if case.field_path is not None and case.field_path not in blamed:
        got = ", ".join(format_path(p) for p in blamed)
        return CaseOutcome(policy, case, False, f"expected a violation at {format_path(case.field_path)}, got {got}")
    if case.count is not None and case.count != len(blamed):
        return CaseOutcome(policy, case, False, f"expected {case.count} violation(s), got {len(blamed)}")
    return CaseOutcome(policy, case, True, "; ".join(v.message for v in result.violations))


def run_policy_tests(policies: list[Policy]) -> Iterator[CaseOutcome]:
    for policy in policies:
        for case in policy.tests:
            yield run_case(policy, case)
