"""Shared inputs of the command-line tests."""

import textwrap

import pytest

from tests.builders import WEB_LABELS, container, manifest, pod

PRIVILEGED_POD = manifest(pod(namespace="shop", labels=WEB_LABELS,
                                 containers=[container(security_context={"privileged": True})]))

# A user's policy: no standards, a low severity, one validation.
CUSTOM_POLICY = textwrap.dedent("""\
    id: ACME-001
    title: ConfigMaps carry an owner label
    severity: low
    category: best-practice
    description: Every ConfigMap names the team that owns it, so that questions reach someone.
    remediation: |
      Add the label:

      ```yaml
      metadata:
        labels: {acme.example/owner: shop}
      ```
    targets: {kinds: [ConfigMap]}
    validations:
      - expression: "has(object.metadata.labels) && 'acme.example/owner' in object.metadata.labels"
        field: metadata.labels
        message: a ConfigMap has no owner label
        messageExpression: "'ConfigMap ' + object.metadata.name + ' has no owner label'"
    """)

# A user's policy whose CEL does not compile.
BROKEN_POLICY = CUSTOM_POLICY.replace("id: ACME-001", "id: ACME-002").replace(
    "has(object.metadata.labels) && ", "has(object.metadata.labels && ")


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A working directory with a failing Pod in deploy/, no config file."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "pod.yaml").write_text(PRIVILEGED_POD)
    return tmp_path


@pytest.fixture
def broken(project):
    """A policy directory, `broken`, whose one policy does not compile."""
    (project / "broken").mkdir()
    (project / "broken" / "ACME-002-owner.yaml").write_text(BROKEN_POLICY)
    return "broken"


@pytest.fixture
def own(project):
    """A policy directory, `own`, with a user's policy that has no standards."""
    (project / "own").mkdir()
    (project / "own" / "ACME-001-owner.yaml").write_text(CUSTOM_POLICY)
    return "own"
