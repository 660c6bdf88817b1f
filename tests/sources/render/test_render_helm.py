"""Helm charts rendered in-process (helm-python-sdk), with findings on their templates."""

import json
import os
import shutil
import stat
import sys
import textwrap
from pathlib import Path

import helm_python
import pytest

from validator.sources import collect
from validator.sources.render import RenderOptions, helm
from validator.sources.render.resources import RENDERED_FROM

from tests.helpers import write
from tests.sources.render.common import findings, key_at, scan

pytestmark = pytest.mark.integration  # renders charts with Helm's engine (helm-python-sdk or the helm binary)

CHARTS = ["podinfo", "descheduler", "local-path-provisioner", "mychart"]


@pytest.mark.parametrize("chart", CHARTS)
def test_real_charts_render_and_every_finding_points_at_a_key_of_its_template(render_data, chart):
    root = render_data / "helm"
    code, report, _ = scan(str(root / chart), root=root)
    assert report["errors"] == []
    assert code == 1 and findings(report)
    for finding in findings(report):
        where = finding["location"]
        template = root / where["path"]
        assert where["path"].startswith(f"{chart}/") and "/templates/" in where["path"], where
        assert template.is_file()
        segments = {s for s in finding["field"].replace("[", ".").split(".") if s and not s[0].isdigit()}
        key = key_at(template, where["line"], where["column"])
        assert key in segments | {"apiVersion", "kind"}, (finding["field"], where, key)


def test_a_field_is_found_on_its_line_of_the_template(render_data):
    root = render_data / "helm"
    _, report, _ = scan(str(root / "mychart"), "--policy", "TDV-K8S-023", "--policy", "TDV-K8S-034", root=root)
    places = {(f["policyId"], f["location"]["path"], f["location"]["line"]) for f in findings(report)}
    assert places == {
        ("TDV-K8S-023", "mychart/templates/deployment.yaml", 35),  # imagePullPolicy: {{ .Values.image.pullPolicy }}
        # The parent chart's Deployment is scaled by the chart's HorizontalPodAutoscaler (hpa.yaml), so
        # TDV-K8S-034 leaves its replicas to the autoscaler; the subchart's has none.
        ("TDV-K8S-023", "mychart/charts/subchart/templates/deployment.yaml", 35),
        ("TDV-K8S-034", "mychart/charts/subchart/templates/deployment.yaml", 9),  # replicas: {{ .Values.replicaCount }}
    }


def test_the_vendored_subchart_is_rendered_with_its_parent_and_not_on_its_own(render_data):
    inputs = collect([str(render_data / "helm" / "mychart")], render_data)
    assert inputs.errors == []
    by_template = {(r.kind, r.metadata["helm-source"]) for r in inputs.resources}
    assert ("Deployment", "mychart/charts/subchart/templates/deployment.yaml") in by_template
    assert ("Deployment", "mychart/templates/deployment.yaml") in by_template
    assert {r.metadata[RENDERED_FROM] for r in inputs.resources} == {"helm/mychart"}
    assert all(r.document.get("kind") != "NOTES" for r in inputs.resources)


def test_values_files_then_sets_change_what_is_rendered(render_data, tmp_path):
    chart = render_data / "helm" / "podinfo"

    def deployment(options):
        inputs = collect([str(chart)], render_data, render=options)
        assert inputs.errors == []
        return next(r for r in inputs.resources if r.kind == "Deployment" and r.name.endswith("podinfo"))

    assert deployment(RenderOptions()).document["spec"]["replicas"] == 1
    prod = deployment(RenderOptions(helm_values=(chart / "values-prod.yaml",)))
    assert prod.document["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] == "256Mi"
    assert "replicas" not in prod.document["spec"]  # values-prod.yaml turns the autoscaler on
    override = write(tmp_path / "more.yaml", "replicaCount: 4\nhpa:\n  enabled: false\n")
    assert deployment(RenderOptions(helm_values=(chart / "values-prod.yaml", override))).document["spec"]["replicas"] == 4
    later = RenderOptions(helm_values=(override,), helm_set=("replicaCount=5",))
    assert deployment(later).document["spec"]["replicas"] == 5


def test_release_name_and_namespace_are_those_given(render_data):
    options = RenderOptions(helm_release="shop", helm_namespace="prod")
    inputs = collect([str(render_data / "helm" / "descheduler")], render_data, render=options)
    cronjob = next(r for r in inputs.resources if r.kind == "CronJob")
    assert cronjob.name == "shop-descheduler"
    assert cronjob.namespace == "prod"


def probe_chart(tmp_path: Path, template: str, values: str = "", schema: str | None = None) -> Path:
    chart = tmp_path / "probe"
    write(chart / "Chart.yaml", "apiVersion: v2\nname: probe\nversion: 0.1.0\n")
    write(chart / "values.yaml", values)
    write(chart / "templates" / "configmap.yaml", textwrap.dedent(template))
    if schema is not None:
        write(chart / "values.schema.json", schema)
    return chart


def test_kube_version_is_what_capabilities_report(tmp_path):
    chart = probe_chart(tmp_path, """\
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: probe
        data:
          kube: "{{ .Capabilities.KubeVersion.Version }}"
        """)
    inputs = collect([str(chart)], tmp_path, render=RenderOptions(kube_version="v1.29.3"))
    assert inputs.errors == []
    assert inputs.resources[0].document["data"]["kube"] == "v1.29.3"


def test_lookup_finds_nothing(tmp_path):
    chart = probe_chart(tmp_path, """\
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: probe
        data:
          found: "{{ if lookup "v1" "Secret" "default" "db" }}yes{{ else }}no{{ end }}"
        """)
    inputs = collect([str(chart)], tmp_path)
    assert inputs.errors == []
    assert inputs.resources[0].document["data"]["found"] == "no"


def only_error(tmp_path: Path, *arguments: str) -> str:
    write(tmp_path / "plain" / "pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: plain\n"
                                           "spec:\n  containers:\n  - name: c\n    image: nginx:1.27\n")
    code, report, _ = scan(str(tmp_path), *arguments, root=tmp_path)
    assert code == 2
    assert {f["resource"]["name"] for f in findings(report)} == {"plain"}  # the rest is still scanned
    (error,) = report["errors"]
    assert error["path"] == "probe"
    return error["message"]


def test_a_failing_required_value_is_an_input_error_naming_the_chart(tmp_path):
    probe_chart(tmp_path, """\
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: {{ required "name is required" .Values.name }}
        """)
    message = only_error(tmp_path)
    assert message.startswith("Helm chart could not be rendered: ")
    assert "name is required" in message and "probe/templates/configmap.yaml" in message
    assert "\n" not in message


def test_a_template_error_is_an_input_error(tmp_path):
    probe_chart(tmp_path, "kind: ConfigMap\nmetadata:\n  name: {{ .Values.missing.deeper }}\n")
    message = only_error(tmp_path)
    assert "probe/templates/configmap.yaml:3" in message and "nil pointer" in message


def test_schema_errors_are_input_errors_that_never_show_the_values(tmp_path):
    probe_chart(tmp_path, "kind: ConfigMap\n", values="password: hunter2-topsecret\n", schema=json.dumps({
        "type": "object",
        "properties": {"password": {"type": "string", "pattern": "^[a-z]+$"}, "replicas": {"type": "integer"}},
        "required": ["replicas"],
    }))
    message = only_error(tmp_path)
    assert "values.schema.json" in message and "/password" in message and "missing property 'replicas'" in message
    assert "hunter2" not in message


def test_a_dependency_missing_from_charts_is_an_input_error(tmp_path):
    chart = probe_chart(tmp_path, "kind: ConfigMap\n")
    write(chart / "Chart.yaml", "apiVersion: v2\nname: probe\nversion: 0.1.0\ndependencies:\n"
                                "- name: redis\n  version: 1.0.0\n  repository: https://charts.example.com\n")
    assert "dependency redis is declared in Chart.yaml but missing from charts/" in only_error(tmp_path)


def test_no_renderer_is_an_input_error_naming_the_extra(tmp_path, monkeypatch):
    probe_chart(tmp_path, "kind: ConfigMap\n")
    monkeypatch.setattr(helm, "_sdk", lambda: None)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    message = only_error(tmp_path)
    assert "pip install 'helm-python-sdk>=0.2.2,<0.3'" in message  # a package that is published


STAND_IN_HELM = """\
#!{python}
# Stands in for `helm template`: records how it was called, renders with the SDK.
import json, os, sys
import helm_python
from validator.sources.render.helm import _as_stream
json.dump({{"argv": sys.argv[1:], "env": dict(os.environ)}}, open({record!r}, "w"))
args = sys.argv[1:]
assert args[0] == "template"
name, chart = args[1], args[2]
with helm_python.Chart.load(chart) as loaded:
    sys.stdout.write(_as_stream(loaded.render(None, name=name, namespace=args[args.index("--namespace") + 1])))
"""


def test_without_the_sdk_a_helm_binary_renders_without_plugins_or_environment(render_data, tmp_path, monkeypatch):
    record = tmp_path / "call.json"
    binary = write(tmp_path / "bin" / "helm", STAND_IN_HELM.format(python=sys.executable, record=str(record)))
    binary.chmod(binary.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setattr(helm, "_sdk", lambda: None)
    monkeypatch.setenv("PATH", str(binary.parent))
    monkeypatch.setenv("HELM_SECRET_TOKEN", "not-for-the-renderer")
    root = render_data / "helm"
    code, report, _ = scan(str(root / "mychart"), "--helm-release", "shop", "--helm-set", "a=b", root=root)
    assert report["errors"] == [] and code == 1
    assert {f["location"]["path"] for f in findings(report)} >= {"mychart/templates/deployment.yaml",
                                                                "mychart/charts/subchart/templates/deployment.yaml"}
    call = json.loads(record.read_text())
    assert call["argv"][:3] == ["template", "shop", str((root / "mychart").resolve())]
    assert call["argv"][3:] == ["--namespace", "default", "--set", "a=b"]
    assert not any("post-renderer" in a or "plugin" in a for a in call["argv"])
    assert "HELM_SECRET_TOKEN" not in call["env"] and call["env"]["PATH"] == ""
    assert os.path.isdir(call["env"]["HOME"]) is False  # a temporary home, removed after the run


def test_pre_rendered_output_maps_to_the_templates_given_the_chart_root(render_data, tmp_path):
    chart = render_data / "helm" / "mychart"
    rendered = write(tmp_path / "rendered.yaml", helm.render_text(chart, RenderOptions(), tmp_path, 1 << 24))
    assert rendered.read_text().count("# Source: ") >= 6
    _, plain, _ = scan(str(rendered), root=tmp_path)
    assert {f["location"]["path"] for f in findings(plain)} == {"rendered.yaml"}
    _, mapped, _ = scan(str(rendered), "--chart-root", str(chart), root=render_data / "helm")
    paths = {f["location"]["path"] for f in findings(mapped)}
    assert "mychart/templates/deployment.yaml" in paths
    assert "mychart/charts/subchart/templates/deployment.yaml" in paths
    assert all(p.startswith("mychart/") for p in paths)


def test_no_render_scans_the_chart_as_the_yaml_it_holds(render_data):
    root = render_data / "helm"
    _, report, _ = scan(str(root / "mychart"), "--no-render", root=root)
    assert report["errors"]  # templates are not YAML
    assert not any("rendered-from" in f["resource"].get("metadata", {}) for f in findings(report))


def test_a_subchart_kept_as_an_archive_is_rendered_and_points_at_the_chart(render_data, tmp_path):
    chart = tmp_path / "mychart"
    shutil.copytree(render_data / "helm" / "mychart", chart)
    helm_python.package(str(chart / "charts" / "subchart"), destination=str(chart / "charts"))
    shutil.rmtree(chart / "charts" / "subchart")
    inputs = collect([str(chart)], tmp_path)
    assert inputs.errors == []
    sub = next(r for r in inputs.resources if r.name == "release-name-subchart")
    assert sub.locate(("spec", "replicas")).path == "mychart/Chart.yaml"


def test_naming_the_chart_file_renders_its_directory(render_data):
    inputs = collect([str(render_data / "helm" / "descheduler" / "Chart.yaml")], render_data)
    assert inputs.errors == []
    assert {r.metadata[RENDERED_FROM] for r in inputs.resources} == {"helm/descheduler"}
