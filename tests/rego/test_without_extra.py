"""Without the Rego extra, Rego policies are input errors that say how to install it; and
the runtime bound on a check's time turns a slow check into an error result."""

import textwrap

import pytest

from validator.engine.library import load_each
from validator.engine.policy import PolicyError
from validator.rego import INSTALL_HINT

from tests.helpers import tdv

CONFTEST = "package main\n\ndeny[msg] {\n  not input.metadata.labels.team\n  msg := \"no team label\"\n}\n"
TEMPLATE = textwrap.dedent("""\
    apiVersion: templates.gatekeeper.sh/v1
    kind: ConstraintTemplate
    metadata: {name: nolabels}
    spec:
      crd: {spec: {names: {kind: NoLabels}}}
      targets:
        - target: admission.k8s.gatekeeper.sh
          rego: |
            package nolabels
            violation[{"msg": "no labels"}] { not input.review.object.metadata.labels }
    ---
    apiVersion: constraints.gatekeeper.sh/v1beta1
    kind: NoLabels
    metadata: {name: all}
    """)


@pytest.fixture
def no_extra(monkeypatch):
    monkeypatch.setattr("validator.gatekeeper.loader.available", lambda: False)
    monkeypatch.setattr("validator.rego.conftest.available", lambda: False)
    monkeypatch.setattr("validator.rego.evaluator._regorus", lambda: None)


@pytest.mark.parametrize("name,text", [("policy.rego", CONFTEST), ("gatekeeper.yaml", TEMPLATE)])
def test_without_the_extra_rego_is_an_input_error_saying_how_to_install(tmp_path, no_extra, name, text):
    (tmp_path / "rego").mkdir()
    (tmp_path / "rego" / name).write_text(text)
    [error] = load_each([tmp_path / "rego"], include_builtin=False)
    assert isinstance(error, PolicyError) and name in str(error) and "pip install" in str(error)
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    result = tdv("scan", str(tmp_path / "cm.yaml"), "--policies", str(tmp_path / "rego"))
    assert result.exit_code == 2 and INSTALL_HINT in result.output and "Traceback" not in result.output


def test_a_check_over_the_time_limit_is_an_error_naming_the_policy(tmp_path, monkeypatch):
    pytest.importorskip("regorus", reason="the Rego extra is not installed (pip install '.[rego]')")
    monkeypatch.setattr("validator.rego.evaluator.CHECK_SECONDS", 0.0)
    (tmp_path / "rego").mkdir()
    (tmp_path / "rego" / "policy.rego").write_text(CONFTEST)
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    result = tdv("scan", str(tmp_path / "cm.yaml"), "--policies", str(tmp_path / "rego"), "--policy", "CONFTEST-*")
    assert result.exit_code != 0
    assert "CONFTEST-MAIN-DENY could not be evaluated on ConfigMap/c: Rego evaluation took" in result.output
    assert "over the limit of 0 s per check" in result.output


def test_the_install_hint_names_the_package_the_extra_installs():
    """The hint must work as written: the package is published, the package name of tdv is not."""
    import tomllib
    from pathlib import Path

    project = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())["project"]
    (requirement,) = project["optional-dependencies"]["rego"]
    assert f"pip install '{requirement}'" in INSTALL_HINT
