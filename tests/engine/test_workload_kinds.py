"""Pod templates of other workload kinds: the built-in OpenShift DeploymentConfig and Argo
Rollout, and custom kinds named in `.tdv.yaml` (`pod-templates`)."""

from __future__ import annotations

import textwrap

import pytest

from validator.config import ConfigError, load_config
from validator.engine.scopes import configure_pod_templates, pod_spec_path

from tests.helpers import scan_paths

PRIVILEGED = """\
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: registry.example.com/web:1.0
          securityContext:
            privileged: true
"""


@pytest.fixture(autouse=True)
def no_configured_kinds():
    yield
    configure_pod_templates({})


def scan(tmp_path, text: str, config_text: str | None = None):
    (tmp_path / "workload.yaml").write_text(text)
    config = None
    if config_text is not None:
        (tmp_path / ".tdv.yaml").write_text(textwrap.dedent(config_text))
        config = load_config(tmp_path / ".tdv.yaml")
    report = scan_paths([tmp_path / "workload.yaml"], include=["TDV-K8S-001"], root=tmp_path, config=config)
    return [(v.location.line, v.message) for r in report.results for v in r.violations]


def test_deployment_config_is_checked_at_the_line_to_edit(tmp_path):
    findings = scan(tmp_path, textwrap.dedent("""\
        apiVersion: apps.openshift.io/v1
        kind: DeploymentConfig
        metadata: {name: web}
        spec:
          replicas: 2
        """) + PRIVILEGED)
    assert findings == [(14, "container web runs privileged")]


def test_rollout_is_checked_and_a_workload_ref_rollout_has_no_template(tmp_path):
    findings = scan(tmp_path, textwrap.dedent("""\
        apiVersion: argoproj.io/v1alpha1
        kind: Rollout
        metadata: {name: web}
        spec:
          strategy: {canary: {steps: [{setWeight: 20}]}}
        """) + PRIVILEGED + textwrap.dedent("""\
        ---
        apiVersion: argoproj.io/v1alpha1
        kind: Rollout
        metadata: {name: referenced}
        spec:
          workloadRef: {apiVersion: apps/v1, kind: Deployment, name: web}
        """))
    assert findings == [(14, "container web runs privileged")]


def test_a_deployment_config_inside_a_list_is_checked(tmp_path):
    findings = scan(tmp_path, textwrap.dedent("""\
        apiVersion: v1
        kind: List
        items:
          - apiVersion: apps.openshift.io/v1
            kind: DeploymentConfig
            metadata: {name: web}
            spec:
              template:
                spec:
                  containers:
                    - name: web
                      image: registry.example.com/web:1.0
                      securityContext: {privileged: true}
        """))
    assert findings == [(13, "container web runs privileged")]


CLONESET = textwrap.dedent("""\
    apiVersion: apps.kruise.io/v1alpha1
    kind: CloneSet
    metadata: {name: web}
    spec:
      workload:
    """) + textwrap.indent(PRIVILEGED, "  ")


def test_custom_kind_is_checked_only_once_configured(tmp_path):
    assert scan(tmp_path, CLONESET) == []
    findings = scan(tmp_path, CLONESET, "pod-templates:\n  CloneSet: spec.workload.template\n")
    assert findings == [(14, "container web runs privileged")]
    assert pod_spec_path("CloneSet") == ("spec", "workload", "template", "spec")


def test_a_scan_without_the_setting_forgets_the_kinds_of_an_earlier_one(tmp_path):
    scan(tmp_path, CLONESET, "pod-templates: {CloneSet: spec.workload.template}\n")
    assert scan(tmp_path, CLONESET) == []
    assert pod_spec_path("CloneSet") == ("spec", "template", "spec")


@pytest.mark.parametrize(("text", "expected"), [
    ("pod-templates: [CloneSet]\n", ".tdv.yaml:1: 'pod-templates' must be a mapping"),
    ("pod-templates:\n  cloneset: spec.template\n", ".tdv.yaml:2: 'cloneset' is not a kind"),
    ("pod-templates:\n  Deployment: spec.template\n",
     ".tdv.yaml:2: Deployment is built in: its pod template is known"),
    ("pod-templates:\n  CloneSet: spec.template\n  Workflow: spec.templates[0]\n",
     ".tdv.yaml:3: the pod template of Workflow is a dotted field path such as spec.template"),
    ("pod-templates:\n  CloneSet: 3\n", ".tdv.yaml:2: the pod template of CloneSet is a dotted field path"),
])
def test_bad_pod_templates_name_the_line(tmp_path, text, expected):
    (tmp_path / ".tdv.yaml").write_text(text)
    with pytest.raises(ConfigError) as error:
        load_config(tmp_path / ".tdv.yaml", ".tdv.yaml")
    assert str(error.value).startswith(expected)
