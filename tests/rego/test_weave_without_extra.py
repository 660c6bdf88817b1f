"""Without the Rego extra, a Weave Policy is an input error that says how to install it."""

import textwrap

from validator.engine.library import load_each
from validator.engine.policy import PolicyError
from validator.rego import INSTALL_HINT

from tests.helpers import tdv, write

POLICY = textwrap.dedent("""\
    apiVersion: pac.weave.works/v2beta2
    kind: Policy
    metadata: {name: team.policies.labelled}
    spec:
      id: team.policies.labelled
      name: Labelled
      severity: low
      code: |
        package team.labelled
        violation[{"msg": "no labels"}] { not input.review.object.metadata.labels }
    """)


def test_without_the_extra_a_weave_policy_is_an_input_error_saying_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr("validator.weave.loader.available", lambda: False)
    write(tmp_path / "weave" / "policy.yaml", POLICY)
    [error] = load_each([tmp_path / "weave"], include_builtin=False)
    assert isinstance(error, PolicyError) and "policy.yaml" in str(error) and "pip install" in str(error)
    write(tmp_path / "cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    result = tdv("scan", str(tmp_path / "cm.yaml"), "--policies", str(tmp_path / "weave"))
    assert result.exit_code == 2 and INSTALL_HINT in result.output and "Traceback" not in result.output


def test_without_the_extra_suites_and_rego_tests_fail_saying_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr("validator.rego.available", lambda: False)
    write(tmp_path / "t" / "suite.yaml", "kind: Suite\napiVersion: test.gatekeeper.sh/v1alpha1\ntests: []\n")
    write(tmp_path / "t" / "deny_test.rego", "package main\n\ntest_nothing { true }\n")
    result = tdv("test", str(tmp_path / "t"))
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert f"FAIL {tmp_path / 't' / 'deny_test.rego'}\n     {INSTALL_HINT}" in result.output
    assert f"FAIL {tmp_path / 't' / 'suite.yaml'}\n     {INSTALL_HINT}" in result.output
