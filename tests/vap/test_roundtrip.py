"""Deploy-time parity: every built-in Kubernetes policy, exported as a ValidatingAdmissionPolicy
and loaded back by tdv, gives the same verdict as the original on all of its own fixtures."""

from pathlib import Path

import pytest

from validator.engine import Engine, evaluate
from validator.engine.cel import CelEvaluator
from validator.engine.library import builtin_dir, load_each, load_policies
from validator.engine.policy import Policy
from validator.engine.targets import matches
from validator.model import Status
from validator.policy_tests import fixture_resource
from validator.vap.export import Binding, NotExportable, api_server_env, export_policy, render

from tests.vap.common import NOT_EXPORTABLE

KUBERNETES = [p for p in load_policies([]) if p.source.startswith(f"{builtin_dir().name}/kubernetes/")]


def exported(policy: Policy, parameters: dict) -> list[dict]:
    """Bound in every namespace: the fixtures' verdicts, not the default binding, are compared."""
    return export_policy(policy, policy.defaults() | parameters, Binding(exclude_namespaces=()))


def imported(documents: list[dict], tmp_path: Path) -> Policy:
    (tmp_path / "vap.yaml").write_text(render(documents), encoding="utf-8")
    [entry] = load_each([tmp_path], include_builtin=False)
    assert isinstance(entry, Policy), str(entry)
    return entry


def fails(policy: Policy, case, parameters: dict) -> bool:
    resource = fixture_resource(case)
    if resource.kind not in policy.targets.kinds or not matches(policy.targets, resource):
        return False
    result = evaluate(Engine.build([policy], {policy.id: parameters}).compiled[0], resource, {})
    assert result.status is not Status.ERROR, f"{policy.id}: {result.error}"
    return result.status is Status.FAIL


def test_the_library_has_kubernetes_policies():
    assert len(KUBERNETES) >= 30


SINGLE_RESOURCE = [p for p in KUBERNETES if not p.relations]
CROSS_RESOURCE = [p for p in KUBERNETES if p.relations]


@pytest.mark.parametrize("policy", SINGLE_RESOURCE, ids=[p.id for p in SINGLE_RESOURCE])
def test_every_kubernetes_policy_is_exportable(policy):
    try:
        exported(policy, {})
    except NotExportable as reason:
        assert NOT_EXPORTABLE.get(policy.id), f"{policy.id} cannot be exported ({reason}); fix it or list it"
    else:
        assert policy.id not in NOT_EXPORTABLE, f"{policy.id} is exportable now: remove it from NOT_EXPORTABLE"


@pytest.mark.parametrize("policy", CROSS_RESOURCE, ids=[p.id for p in CROSS_RESOURCE])
def test_cross_resource_policies_are_not_exported_and_say_why(policy):
    """An admission request holds one object: a policy that reads others cannot be enforced there."""
    with pytest.raises(NotExportable, match="sees one object, and paramKind is not an inventory"):
        exported(policy, {})


def test_the_library_has_cross_resource_policies():
    assert len(CROSS_RESOURCE) >= 9


EXPORTABLE = [p for p in SINGLE_RESOURCE if p.id not in NOT_EXPORTABLE]


@pytest.mark.parametrize("policy", EXPORTABLE, ids=[p.id for p in EXPORTABLE])
def test_exported_expressions_compile_for_the_api_server_and_the_engine(policy):
    engine_env = CelEvaluator().env(("variables",))
    [vap, _] = exported(policy, {})
    validations = vap["spec"]["validations"]
    assert len(validations) == len(policy.validations)
    for validation in validations:
        for key in ("expression", "messageExpression"):
            if key in validation:
                api_server_env().compile(validation[key])
                engine_env.compile(validation[key])
    for variable in vap["spec"].get("variables", []):
        api_server_env().compile(variable["expression"])


@pytest.mark.parametrize("policy", EXPORTABLE, ids=[p.id for p in EXPORTABLE])
def test_exported_policy_gives_the_same_verdict_on_every_fixture(policy, tmp_path):
    assert policy.tests
    for index, case in enumerate(policy.tests):
        directory = tmp_path / str(index)
        directory.mkdir()
        twin = imported(exported(policy, case.parameters), directory)
        assert twin.id == policy.id and twin.severity == policy.severity and twin.title == policy.title
        expected = fails(policy, case, case.parameters)
        assert expected == (case.expect == "fail")
        assert fails(twin, case, {}) == expected, f"{policy.id}: {case.name}"
