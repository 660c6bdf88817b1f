"""Objects rendered by Kustomize are fixed in the base or patch each field comes from."""

from __future__ import annotations

import pytest

from validator.sources.render import kustomize as renderer

from tests.helpers import fix_paths, scan_paths, write

pytestmark = pytest.mark.integration  # renders overlays with kustomize or kubectl

BASE = """\
# The web tier.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: sidecar
          image: envoy:1.30
        - name: app
          image: shop/web:1.0   # pinned
"""
PATCH = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: app
          resources:
            requests:
              cpu: 200m
"""


@pytest.fixture
def tree(workdir):
    assert renderer.renderer() is not None, "CI installs kustomize or kubectl; the tests render for real"
    write(workdir / "base" / "kustomization.yaml", "resources:\n  - deployment.yaml\n")
    write(workdir / "base" / "deployment.yaml", BASE)
    for name in ("prod", "staging"):
        write(workdir / "overlays" / name / "kustomization.yaml",
              f"namePrefix: {name}-\nresources:\n  - ../../base\npatches:\n  - path: resources.yaml\n")
        write(workdir / "overlays" / name / "resources.yaml", PATCH)
    return workdir


def test_fields_go_to_the_base_or_the_patch_and_containers_are_matched_by_name(tree):
    policies = ["TDV-K8S-002", "TDV-K8S-019", "TDV-K8S-030"]
    before = scan_paths([tree / "overlays" / "prod"], root=tree, include=policies)
    assert before.failures and not before.errors
    changes = fix_paths([tree / "overlays" / "prod"], tree, policies)
    assert not [p for c in changes for p in c.problems]
    base = (tree / "base" / "deployment.yaml").read_text(encoding="utf-8")
    assert base == BASE.replace("  name: web\n", "  name: web\n  labels:\n    app.kubernetes.io/name: web\n"
                                                  "    app.kubernetes.io/instance: web\n").replace(
        "image: envoy:1.30\n", "image: envoy:1.30\n          securityContext:\n            allowPrivilegeEscalation: false\n"
        "          resources:\n            requests:\n              memory: 128Mi\n            limits:\n"
        "              memory: 256Mi\n").replace(
        "# pinned\n", "# pinned\n          securityContext:\n            allowPrivilegeEscalation: false\n")
    assert (tree / "overlays" / "prod" / "resources.yaml").read_text(encoding="utf-8") == PATCH + (
        "              memory: 128Mi\n            limits:\n              memory: 256Mi\n")
    assert (tree / "overlays" / "staging" / "resources.yaml").read_text(encoding="utf-8") == PATCH
    after = scan_paths([tree / "overlays" / "prod"], root=tree, include=policies)
    assert not after.failures and not after.errors
    assert not any(c.changed for c in fix_paths([tree / "overlays"], tree, ["TDV-K8S-002", "TDV-K8S-030"]))


def test_both_overlays_fixed_together_share_the_base_edits(tree):
    changes = fix_paths([tree / "overlays"], tree, ["TDV-K8S-002", "TDV-K8S-030", "TDV-K8S-019"])
    assert not [p for c in changes for p in c.problems]
    assert {c.display for c in changes if c.changed} == {
        "base/deployment.yaml", "overlays/prod/resources.yaml", "overlays/staging/resources.yaml"}
    assert (tree / "base" / "deployment.yaml").read_text(encoding="utf-8").count("allowPrivilegeEscalation") == 2
    assert not scan_paths([tree / "overlays"], root=tree,
                          include=["TDV-K8S-002", "TDV-K8S-030", "TDV-K8S-019"]).failures


def test_a_field_a_json_patch_sets_or_a_generated_object_is_refused(tree):
    overlay = tree / "overlays" / "prod"
    write(overlay / "kustomization.yaml",
          "namePrefix: prod-\nresources:\n  - ../../base\npatches:\n  - path: escalate.yaml\n"
          "    target: {kind: Deployment, name: web}\n"
          "configMapGenerator:\n  - name: settings\n    literals: [LOG_LEVEL=info]\n")
    write(overlay / "escalate.yaml", "- op: add\n  path: /spec/template/spec/containers/1/securityContext\n"
                                     "  value: {allowPrivilegeEscalation: true}\n")
    changes = fix_paths([overlay], tree, ["TDV-K8S-002", "TDV-K8S-030"])
    problems = "\n".join(p for c in changes for p in c.problems)
    assert "comes from overlays/prod/kustomization.yaml (a generator, images, replicas or namespace)" in problems
    assert "overlays/prod/escalate.yaml has no Deployment document for prod-web" in problems
    assert (overlay / "escalate.yaml").read_text(encoding="utf-8").count("true") == 1

