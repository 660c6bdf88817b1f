"""Every policy with a `fix`: its failing fixtures, written to a file and fixed, pass.

Each failing `object:` or `tf:` fixture is written to a file of its own, scanned, fixed
with the policy's fix and scanned again: every finding the fix covers is gone, nothing was
refused, and a second run changes nothing. Findings no fix covers (a `runAsUser: 0`, a
custom required label) may remain; every fixable policy has a fixture that passes fully.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from validator.engine.library import load_policies
from validator.fix.plan import has_fix

from tests.helpers import config_with, fix_paths, scan_paths

FIXABLE = [policy for policy in load_policies([]) if has_fix(policy)]
CASES = [(policy, case) for policy in FIXABLE for case in policy.tests
         if case.expect == "fail" and (case.object is not None or case.tf is not None)]


@dataclass
class Repair:
    planned: set  # blamed fields of the findings a fix was planned for
    remaining: set  # blamed fields still failing after the fix
    problems: list[str]
    changed: bool
    changed_again: bool
    errors: list


def repair(policy, case, directory: Path) -> Repair:
    if case.tf is not None:
        path = directory / "main.tf"
        path.write_text(case.tf, encoding="utf-8")
    else:
        path = directory / "fixture.yaml"
        path.write_text(yaml.safe_dump(case.object, sort_keys=False), encoding="utf-8")
    parameters = {policy.id: case.parameters} if case.parameters else None
    before = scan_paths([path], root=directory, include=[policy.id], config=config_with(parameters))
    assert before.failures, "the fixture must fail before the fix"
    changes = fix_paths([path], directory, [policy.id], parameters)
    after = scan_paths([path], root=directory, include=[policy.id], config=config_with(parameters))
    again = fix_paths([path], directory, [policy.id], parameters)
    return Repair(
        planned={item.violation.field_path for change in changes for item in change.done},
        remaining={v.field_path for result in after.failures for v in result.violations},
        problems=[problem for change in changes + again for problem in change.problems],
        changed=any(change.changed for change in changes),
        changed_again=any(change.changed for change in again),
        errors=after.errors + after.evaluation_errors,
    )


def test_the_expected_policies_have_fixes():
    ids = {policy.id for policy in FIXABLE}
    assert {"TDV-K8S-002", "TDV-K8S-003", "TDV-K8S-010", "TDV-K8S-012", "TDV-K8S-013", "TDV-K8S-018",
            "TDV-K8S-019", "TDV-K8S-023", "TDV-K8S-025", "TDV-K8S-030", "TDV-AWS-007", "TDV-AWS-008",
            "TDV-AWS-011", "TDV-AWS-012", "TDV-AWS-015"} <= ids


@pytest.mark.parametrize("policy,case", CASES, ids=[f"{p.id}:{c.name}" for p, c in CASES])
def test_a_failing_fixture_is_repaired_where_a_fix_applies(policy, case, workdir):
    outcome = repair(policy, case, workdir)
    # A fix the API server would reject (allowPrivilegeEscalation: false beside privileged: true)
    # is refused and left to a human: the one kind of problem a fixture may show.
    refused = [p for p in outcome.problems if "needs a human: the API server would reject" in p]
    assert not [p for p in outcome.problems if p not in refused], outcome.problems
    assert not refused or ("left to a human" in case.name), f"{case.name}: {refused}"
    assert not outcome.errors
    assert outcome.changed == bool(outcome.planned)
    assert not outcome.planned & outcome.remaining, f"still failing after the fix: {outcome.planned & outcome.remaining}"
    assert not outcome.changed_again, "a second run changed the file"


@pytest.mark.parametrize("policy", FIXABLE, ids=[p.id for p in FIXABLE])
def test_every_fixable_policy_has_a_failing_fixture_that_passes_after_fix(policy, tmp_path):
    cases = [case for p, case in CASES if p is policy]
    for number, case in enumerate(cases):
        directory = tmp_path / str(number)
        (directory / ".git").mkdir(parents=True)
        outcome = repair(policy, case, directory)
        if outcome.planned and not outcome.remaining:
            return
    pytest.fail(f"{policy.id}: no failing object: or tf: fixture passes after its fix")


@pytest.mark.parametrize("policy, case", [c for c in CASES if c[1].object is not None],
                         ids=lambda item: getattr(item, "id", None) or getattr(item, "name", None))
def test_plans_from_recorded_validations_equal_plans_from_evaluating_again(policy, case):
    """The engine records which validation failed; without that record, the planner
    evaluates each validation again. Both must plan the same fixes."""
    import dataclasses

    from validator.engine import Engine
    from validator.fix.plan import Planner
    from validator.model import Resource

    document = case.object
    metadata = document.get("metadata") or {}
    resource = Resource(document["kind"], document["apiVersion"], metadata.get("name"), metadata.get("namespace"),
                        document, "fixture.yaml")
    [result] = Engine.build([policy], {policy.id: case.parameters}).run([resource])
    assert all(v.validation is not None for v in result.violations)
    unrecorded = dataclasses.replace(result, violations=[dataclasses.replace(v, validation=None)
                                                         for v in result.violations])

    def plans(result):
        planner = Planner({policy.id: case.parameters})
        return [(p.violation.field_path, p.assignments, p.problem) for p in planner.plan(result)]

    assert plans(result) == plans(unrecorded)
