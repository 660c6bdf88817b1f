"""validator.checks: every check of a scan, passed ones kept as runs, read back in order."""

from __future__ import annotations

import pytest

from validator.checks import Checks, Passed
from validator.model import Location, Resource, Result, Severity, Status, Suppression, SuppressionKind, Violation


class Policy:
    def __init__(self, name: str, severity: Severity = Severity.MEDIUM):
        self.id, self.severity = name, severity

    def __repr__(self) -> str:
        return self.id


A, B, C, D = (Policy(name) for name in "ABCD")


def resource(name: str, path: str = "a.yaml", index: int = 0) -> Resource:
    return Resource("Pod", "v1", name, None, {"kind": "Pod"}, path, doc_index=index)


def failed(policy, obj) -> Result:
    return Result(policy, obj, Status.FAIL, [Violation("bad", ("spec",), Location(obj.path, 3, 1))], duration=0.5)


def passed(policy, obj, seconds=0.25) -> Result:
    return Result(policy, obj, Status.PASS, duration=seconds)


WEB, DB = resource("web"), resource("db", index=1)
RESULTS = [passed(A, WEB), passed(B, WEB, 0.125), failed(C, WEB), passed(D, WEB), passed(A, DB),
           Result(B, DB, Status.ERROR, error="no"), passed(C, DB)]


def test_passed_checks_are_kept_as_runs_and_read_back_in_order():
    checks = Checks.of(RESULTS)
    assert [type(item).__name__ for item in checks.items] == ["Passed", "Result", "Passed", "Passed", "Result",
                                                             "Passed"]
    assert checks.items[0].policies == (A, B)
    assert list(checks) == RESULTS  # policy, resource, status, violations, error: all equal
    assert [r.duration for r in checks] == [0.25, 0.125, 0.5, 0.25, 0.25, 0.0, 0.25]
    assert len(checks) == 7 and checks[2] is RESULTS[2] and checks[-1] == RESULTS[-1]
    assert checks == RESULTS and checks != RESULTS[:-1]


def test_a_failed_or_errored_check_is_the_same_object_every_time():
    checks = Checks.of(RESULTS)
    assert checks.outcomes() == [RESULTS[2], RESULTS[5]]
    assert all(a is b for a, b in zip(checks.outcomes(), [RESULTS[2], RESULTS[5]]))
    assert [r for r in checks if r.status is not Status.PASS][0] is RESULTS[2]


def test_runs_of_one_resource_share_the_policies_of_another_of_the_same_shape():
    other = resource("api", index=2)
    checks = Checks.of([passed(A, WEB), passed(B, WEB), passed(A, other), passed(B, other)])
    first, second = checks.items
    assert isinstance(first, Passed) and first.policies is second.policies


def test_outcomes_are_replaced_one_for_one():
    checks = Checks.of(RESULTS)
    suppression = Suppression(SuppressionKind.EXTERNAL, "why", Location("c.yaml", 1, 1))
    marked = Result(C, WEB, Status.FAIL, RESULTS[2].violations, suppression=suppression)
    replaced = checks.with_outcomes([marked, RESULTS[5]])
    assert list(replaced)[2] is marked and len(replaced) == 7
    with pytest.raises(ValueError):
        checks.with_outcomes([marked])
    with pytest.raises(ValueError):
        checks.with_outcomes([marked, RESULTS[5], marked])


def test_select_keeps_part_of_a_run_with_its_times():
    checks = Checks.of(RESULTS).select(lambda policy, obj, status: policy is not B)
    assert [(r.policy, r.resource.name, r.status, r.duration) for r in checks] == [
        (A, "web", Status.PASS, 0.25), (C, "web", Status.FAIL, 0.5), (D, "web", Status.PASS, 0.25),
        (A, "db", Status.PASS, 0.25), (C, "db", Status.PASS, 0.25)]
    assert len(Checks.of(RESULTS).select(lambda policy, obj, status: obj is DB)) == 3


def test_counts_pairs_resources_and_file_order():
    checks = Checks.of(RESULTS)
    assert checks.status_counts() == {Status.PASS: 5, Status.FAIL: 1, Status.ERROR: 1}
    assert list(checks.pairs()) == [(r.policy, r.resource) for r in RESULTS]
    assert checks.resources() == [WEB, DB]
    early = resource("early", path="0.yaml")
    merged = (checks + [passed(A, early), failed(B, early)]).sorted_by_file()
    assert [(r.resource.name, r.policy) for r in merged][:2] == [("early", A), ("early", B)]
    assert list(merged)[2:] == RESULTS
    assert Checks.concat([checks, Checks.of([])]) == RESULTS


def test_a_suppressed_failure_is_counted_only_when_asked():
    suppression = Suppression(SuppressionKind.EXTERNAL, "why", Location("c.yaml", 1, 1))
    checks = Checks.of([Result(A, WEB, Status.FAIL, [], suppression=suppression), passed(B, WEB)])
    assert checks.status_counts() == {Status.PASS: 1}
    assert checks.status_counts(suppressed=True) == {Status.PASS: 1, Status.FAIL: 1}
