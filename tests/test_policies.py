"""Every policy passes its own fixtures: each must have at least one passing and one failing case."""

import dataclasses

import pytest

from validator.engine.library import load_policies
from validator.engine.policy import _without_tests
from validator.policy_tests import run_case

from tests.builders import container, deployment, resource

POLICIES = load_policies([])
CASES = [(policy, case) for policy in POLICIES for case in policy.tests]


@pytest.mark.parametrize("policy,case", CASES, ids=[f"{p.id}:{c.name}" for p, c in CASES])
def test_policy_fixture(policy, case):
    outcome = run_case(policy, case)
    assert outcome.passed, outcome.detail


@pytest.mark.parametrize("policy", POLICIES, ids=[p.id for p in POLICIES])
def test_policy_has_passing_and_failing_fixtures(policy):
    expectations = {case.expect for case in policy.tests}
    assert expectations == {"pass", "fail"}, f"{policy.id} needs both passing and failing fixtures"


@pytest.mark.parametrize("policy", POLICIES, ids=[p.id for p in POLICIES])
def test_policy_documents_itself(policy):
    snippet = "```hcl" if "/terraform/" in f"/{policy.source}" else "```yaml"
    assert snippet in policy.remediation, f"{policy.id}: remediation needs a {snippet[3:]} snippet"
    assert len(policy.description.split()) >= 15, f"{policy.id}: description is too thin"
    assert policy.standards or policy.partial, f"{policy.id}: map the policy to a standard (standards: or partial:)"


def test_policy_ids_are_unique_and_files_named_after_them():
    ids = [p.id for p in POLICIES]
    assert len(ids) == len(set(ids))
    for policy in POLICIES:
        assert policy.source.rsplit("/", 1)[-1].startswith(policy.id + "-"), policy.source


def test_a_scan_reads_the_library_without_its_fixtures_and_nothing_else_differs():
    """A scan skips each built-in file's trailing `tests:` section (see load_policy_file)."""
    without = load_policies([], builtin_tests=False)
    assert [p.id for p in without] == [p.id for p in POLICIES]
    for light, full in zip(without, POLICIES):
        assert not light.tests and full.tests
        assert dataclasses.replace(light, tests=full.tests) == full


@pytest.mark.parametrize("text, kept", [
    ("id: X\ntests:\n  - name: a\n", "id: X\n"),
    ("id: X\ntests:\n  - name: a\nlater: 1\n", None),  # not the last key: read it all
    ("id: X\ntests: []\n", None),  # flow style
    ("id: X\ndescription: |\n  tests:\n", None),  # inside a block scalar
])
def test_only_a_trailing_block_tests_section_is_skipped(text, kept):
    assert _without_tests(text) == (text if kept is None else kept)


def test_apparmor_findings_list_annotations_in_container_order():
    """CEL iterates a map in an order that changes from run to run; TDV-K8S-014's message
    follows the containers instead (5 annotations: 1 chance in 120 to pass by luck)."""
    from validator.engine import Engine

    prefix = "container.apparmor.security.beta.kubernetes.io/"
    names = ["e", "a", "b", "c", "d"]
    document = deployment(
        template_annotations={prefix + name: "unconfined" for name in sorted(names, reverse=True)},
        init_containers=[container("e", image=None)], containers=[container(n, image=None) for n in names[1:]])
    [policy] = [p for p in POLICIES if p.id == "TDV-K8S-014"]
    [result] = Engine.build([policy]).run([resource(document, "d.yaml")])
    [violation] = result.violations
    assert violation.message == "unsafe AppArmor annotation: " + ", ".join(
        f"container {name} uses unconfined" for name in ["a", "b", "c", "d", "e"])
