"""Kustomize overlays rendered with the kustomize (or kubectl) on PATH, with findings on
the base, patch or kustomization that wrote each field."""

import hashlib
import textwrap
from pathlib import Path

import pytest

from validator.sources import collect
from validator.sources.render import RenderOptions, kustomize
from validator.sources.render.kustomize_origin import BUILD_ANNOTATIONS
from validator.sources.render.resources import RENDERED_FROM

from tests.helpers import write
from tests.sources.render.common import findings, key_at, scan

pytestmark = pytest.mark.integration  # renders overlays with kustomize or kubectl

OVERLAYS = [
    "kustomize-examples/helloWorld",
    "kustomize-examples/ldap/overlays/production",
    "kustomize-examples/ldap/overlays/staging",
    "kustomize-examples/multibases",
    "kustomize-examples/springboot/overlays/production",
    "kustomize-examples/springboot/overlays/staging",
    "kustomize-examples/wordpress",
    "podinfo-deploy/deploy/overlays/dev",
    "podinfo-deploy/deploy/overlays/production",
    "microservices-demo/kustomize",
    "microservices-demo/kustomize/tests/spanner-with-all-components",
    "microservices-demo/kustomize/tests/service-mesh-istio-with-all-components",
]


def test_a_renderer_is_on_path():
    assert kustomize.renderer() is not None, "CI installs kustomize or kubectl; the tests render for real"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_real_overlays_render_and_every_finding_points_at_a_key_of_a_source_file(render_data, overlay):
    root = render_data / "kustomize"
    code, report, _ = scan(str(root / overlay), root=root)
    assert report["errors"] == []
    assert code == 1 and findings(report)
    for finding in findings(report):
        where = finding["location"]
        source = root / where["path"]
        assert source.is_file() and not where["path"].startswith(".."), where
        assert finding["resource"]["metadata"][RENDERED_FROM].startswith(overlay)  # or an overlay inside it
        key = key_at(source, where["line"], where["column"])
        segments = {s for s in finding["field"].replace("[", ".").split(".") if s and not s[0].isdigit()}
        generated = source.name == "kustomization.yaml"  # a generator's entry (or an `images` one)
        item = key == "-" and "[" in finding["field"]  # the list item that lacks the field
        assert generated or item or key in segments | {"apiVersion", "kind"}, (finding["field"], where, key)


def test_rendered_objects_carry_no_build_annotations(render_data):
    inputs = collect([str(render_data / "kustomize")], render_data)
    assert inputs.errors == []
    for resource in inputs.resources:
        annotations = resource.document.get("metadata", {}).get("annotations", {})
        assert not set(annotations) & set(BUILD_ANNOTATIONS), resource.ref


def tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        digest.update(str(path.relative_to(folder)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def test_the_users_files_are_left_as_they_were(render_data):
    before = tree_digest(render_data / "kustomize")
    collect([str(render_data / "kustomize")], render_data)
    assert tree_digest(render_data / "kustomize") == before


def test_fields_point_at_the_base_the_patch_or_the_generator_that_wrote_them(render_data):
    root = render_data / "kustomize" / "kustomize-examples" / "springboot"
    inputs = collect([str(root / "overlays" / "production")], root)
    deployment = next(r for r in inputs.resources if r.kind == "Deployment")
    container = ("spec", "template", "spec", "containers", 0)
    assert deployment.path == "base/deployment.yaml"
    at = {path[-1]: (loc.path, loc.line) for path in [container + ("image",), container + ("livenessProbe",),
                                                      container + ("resources", "limits", "cpu"), ("spec", "replicas")]
          for loc in [deployment.locate(path)]}
    assert at == {
        "image": ("base/deployment.yaml", 18),
        "livenessProbe": ("overlays/production/healthcheck_patch.yaml", 11),
        "cpu": ("overlays/production/memorylimit_patch.yaml", 12),  # `limits:`, where a cpu limit goes
        "replicas": ("overlays/production/memorylimit_patch.yaml", 6),
    }
    configmap = next(r for r in inputs.resources if r.kind == "ConfigMap")
    assert (configmap.path, configmap.locate(("data",)).line) == ("base/kustomization.yaml", 5)  # configMapGenerator


def test_a_base_used_by_overlays_is_rendered_through_them_only(render_data):
    root = render_data / "kustomize" / "kustomize-examples" / "ldap"
    inputs = collect([str(root)], root)
    assert inputs.errors == []
    assert {r.metadata[RENDERED_FROM] for r in inputs.resources} == {"overlays/production", "overlays/staging"}
    assert {r.path for r in inputs.resources if r.kind == "Deployment"} == {"base/deployment.yaml"}
    assert sorted(r.name for r in inputs.resources if r.kind == "Deployment") == ["production-ldap", "staging-ldap"]


def test_components_are_rendered_only_through_the_overlays_that_use_them(render_data):
    root = render_data / "kustomize" / "microservices-demo" / "kustomize"
    inputs = collect([str(root)], root)
    assert inputs.errors == []
    assert not any(r.metadata[RENDERED_FROM].startswith("components/") for r in inputs.resources)
    assert any(r.path.startswith("components/network-policies/") for r in inputs.resources)
    # The top overlay and the tests render the same base unchanged: it is evaluated once.
    carts = [r for r in inputs.resources if r.kind == "Deployment" and r.name == "cartservice"]
    assert len({r.metadata[RENDERED_FROM] for r in carts}) == len(carts) >= 2


def test_files_outside_any_kustomization_are_still_scanned_as_they_are(render_data):
    root = render_data / "kustomize"
    inputs = collect([str(root / "kustomize-examples" / "mySql"), str(root / "podinfo-deploy" / "deploy")], root)
    assert inputs.errors == []
    raw = {r.path for r in inputs.resources if RENDERED_FROM not in r.metadata}
    assert "kustomize-examples/mySql/deployment.yaml" in raw
    assert "podinfo-deploy/deploy/webapp/frontend/deployment.yaml" in raw
    assert not any("/bases/" in p or "/overlays/" in p for p in raw)
    rendered = {r.metadata[RENDERED_FROM] for r in inputs.resources if RENDERED_FROM in r.metadata}
    assert rendered == {f"podinfo-deploy/deploy/overlays/{e}" for e in ("dev", "staging", "production")}


OVERLAY = """\
    resources:
    - deployment.yaml
    images:
    - name: nginx
      newTag: "1.27"
    patches:
    - target: {kind: Deployment, name: web}
      patch: |-
        - op: add
          path: /spec/template/spec/containers/0/securityContext
          value:
            privileged: true
    - patch: |-
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
        spec:
          template:
            spec:
              hostNetwork: true
    """

DEPLOYMENT = """\
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
    spec:
      template:
        spec:
          containers:
          - name: app
            image: nginx
    """


def test_inline_patches_and_image_overrides_point_at_the_kustomization(tmp_path):
    write(tmp_path / "app" / "kustomization.yaml", textwrap.dedent(OVERLAY))
    write(tmp_path / "app" / "deployment.yaml", textwrap.dedent(DEPLOYMENT))
    inputs = collect([str(tmp_path / "app")], tmp_path)
    assert inputs.errors == []
    (web,) = inputs.resources
    assert web.document["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    container = ("spec", "template", "spec", "containers", 0)
    where = {name: (loc.path, loc.line) for name, path in [
        ("privileged", container + ("securityContext", "privileged")),
        ("hostNetwork", ("spec", "template", "spec", "hostNetwork")),
        ("image", container + ("image",)),
        ("name", container + ("name",)),
    ] for loc in [web.locate(path)]}
    assert where == {
        "privileged": ("app/kustomization.yaml", 12),
        "hostNetwork": ("app/kustomization.yaml", 21),
        "image": ("app/kustomization.yaml", 5),
        "name": ("app/deployment.yaml", 9),
    }


def test_a_kustomization_file_without_extension_is_found(tmp_path):
    write(tmp_path / "app" / "Kustomization", "resources:\n- deployment.yaml\n")
    write(tmp_path / "app" / "deployment.yaml", textwrap.dedent(DEPLOYMENT))
    inputs = collect([str(tmp_path)], tmp_path)
    assert inputs.errors == []
    assert [(r.path, r.metadata[RENDERED_FROM]) for r in inputs.resources] == [("app/deployment.yaml", "app")]


def plain_pod(tmp_path: Path) -> None:
    write(tmp_path / "plain" / "pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: plain\n"
                                           "spec:\n  containers:\n  - name: c\n    image: nginx:1.27\n")


def only_error(tmp_path: Path) -> str:
    plain_pod(tmp_path)
    code, report, _ = scan(str(tmp_path), root=tmp_path)
    assert code == 2
    assert {f["resource"]["name"] for f in findings(report)} == {"plain"}  # the rest is still scanned
    (error,) = report["errors"]
    assert error["path"] == "app"
    assert "\n" not in error["message"]
    return error["message"]


def test_a_broken_kustomization_is_an_input_error_naming_the_overlay(tmp_path):
    write(tmp_path / "app" / "kustomization.yaml", "resources:\n- missing.yaml\n")
    message = only_error(tmp_path)
    assert message.startswith("Kustomize overlay could not be rendered: ")
    assert "app/missing.yaml" in message and str(tmp_path) not in message


def test_invalid_yaml_in_a_kustomization_is_an_input_error(tmp_path):
    write(tmp_path / "app" / "kustomization.yaml", "resources: [\n")
    assert "invalid Kustomization" in only_error(tmp_path)


def test_a_missing_renderer_is_an_input_error(tmp_path, monkeypatch):
    write(tmp_path / "app" / "kustomization.yaml", "resources:\n- deployment.yaml\n")
    write(tmp_path / "app" / "deployment.yaml", textwrap.dedent(DEPLOYMENT))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert "neither kustomize nor kubectl is on PATH" in only_error(tmp_path)


def test_remote_bases_are_not_fetched(tmp_path):
    write(tmp_path / "app" / "kustomization.yaml", "resources:\n- https://github.com/example/repo//deploy?ref=v1\n")
    assert "remote base" in only_error(tmp_path)


def test_exec_plugins_are_not_run(tmp_path):
    marker = tmp_path / "ran"
    script = write(tmp_path / "app" / "plugin.sh", f"#!/bin/sh\ntouch {marker}\n")
    script.chmod(0o755)
    write(tmp_path / "app" / "generator.yaml", textwrap.dedent("""\
        apiVersion: example.com/v1
        kind: Generator
        metadata:
          name: gen
          annotations:
            config.kubernetes.io/function: |
              exec:
                path: ./plugin.sh
        """))
    write(tmp_path / "app" / "kustomization.yaml", "generators:\n- generator.yaml\n")
    only_error(tmp_path)
    assert not marker.exists()


def test_no_render_scans_the_overlay_files_as_they_are(render_data):
    root = render_data / "kustomize" / "kustomize-examples" / "helloWorld"
    inputs = collect([str(root)], root, render=RenderOptions(enabled=False))
    assert inputs.errors == []
    assert sorted(r.kind for r in inputs.resources) == ["ConfigMap", "Deployment", "Kustomization", "Service"]
    assert not any(RENDERED_FROM in r.metadata for r in inputs.resources)
