"""Findings on rendered charts and overlays in SARIF and in the console; the pieces that
turn a renderer's output and messages into positions and one-line errors."""

import json
import textwrap

import pytest

from validator.sources.render.process import summary
from validator.sources.render.template_lines import TemplateText

from tests.helpers import tdv


def sarif_locations(tmp_path, root, *arguments):
    out = tmp_path / "x.sarif"
    result = tdv("scan", "--no-config", "--root", str(root), *arguments, "-o", f"sarif={out}")
    assert result.exit_code == 1, result.output
    run = json.loads(out.read_text())["runs"][0]
    assert run["invocations"][0].get("toolExecutionNotifications", []) == []
    return {(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
             r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in run["results"]}


@pytest.mark.integration  # renders a chart with Helm
def test_sarif_points_chart_findings_at_template_lines(render_data, tmp_path):
    root = render_data / "helm"
    places = sarif_locations(tmp_path, root, str(root / "mychart"))
    assert ("TDV-K8S-034", "mychart/charts/subchart/templates/deployment.yaml", 9) in places  # replicas: {{ .Values.replicaCount }}
    assert ("TDV-K8S-022", "mychart/templates/tests/test-connection.yaml", 12) in places  # image: busybox
    assert {uri for _, uri, _ in places} <= {
        "mychart/templates/deployment.yaml", "mychart/templates/tests/test-connection.yaml",
        "mychart/templates/service.yaml", "mychart/templates/serviceaccount.yaml", "mychart/templates/hpa.yaml",
        "mychart/charts/subchart/templates/deployment.yaml"}


@pytest.mark.integration  # renders an overlay with kustomize or kubectl
def test_sarif_points_overlay_findings_at_bases_and_patches(render_data, tmp_path):
    root = render_data / "kustomize" / "kustomize-examples" / "springboot"
    places = sarif_locations(tmp_path, root, str(root / "overlays" / "production"))
    assert ("TDV-K8S-022", "base/deployment.yaml", 18) in places  # image: jingfang/sbdemo
    assert ("TDV-K8S-018", "overlays/production/memorylimit_patch.yaml", 12) in places  # limits: without cpu
    assert ("TDV-K8S-029", "base/service.yaml", 7) in places


@pytest.mark.integration  # renders a chart with Helm
def test_the_console_shows_template_and_line(render_data):
    root = render_data / "helm"
    result = tdv("scan", "--no-config", "--no-color", "--root", str(root), str(root / "mychart"),
                 "--policy", "TDV-K8S-034")
    assert result.exit_code == 1
    assert "mychart/charts/subchart/templates/deployment.yaml:9:3" in result.stdout


def test_a_kubectl_message_becomes_one_trimmed_line():
    stderr = ('# Warning: \'commonLabels\' is deprecated.\n'
              'E1123 16:43:36.320040   21272 run.go:72] "command failed" err="no resource matches'
              ' strategic merge patch \\"Deployment.v1.apps/cart\\": in /abs/root/app/patch.yaml"\n')
    assert summary(stderr, {"/abs/root/": ""}) == \
        'no resource matches strategic merge patch "Deployment.v1.apps/cart": in app/patch.yaml'
    assert summary("Error: " + "x" * 500).startswith("x") and len(summary("x" * 500)) == 300


def test_a_long_message_keeps_its_cause_at_the_end():
    """Kustomize names the cause last: a long message loses its middle, not its end."""
    cause = "lstat base: no such file or directory"
    stderr = ("Error: accumulating resources: accumulation err='accumulating resources from '../../base': "
              + "must build at directory: " * 20 + cause + "\n")
    message = summary(stderr)
    assert len(message) <= 300 and "\n" not in message
    assert message.startswith("accumulating resources: accumulation err=") and message.endswith(cause)
    assert " … " in message


def test_a_field_is_searched_key_by_key_in_its_template_document():
    template = TemplateText(textwrap.dedent("""\
        {{- if .Values.first }}
        apiVersion: v1
        kind: Service
        metadata:
          name: one
        spec:
          ports: []
        {{- end }}
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: {{ .Release.Name }}
        spec:
          template:
            spec:
              containers:
                - name: app
                  securityContext:
                    {{- toYaml .Values.securityContext | nindent 12 }}
                  image: "{{ .Values.image }}"
        """))
    container = ("spec", "template", "spec", "containers", 0)
    assert template.locate((), "Deployment", 0, 1).line == 10  # only the Deployment was rendered
    assert template.locate(container + ("image",), "Deployment", 0, 1).line == 21
    assert template.locate(container + ("securityContext", "privileged"), "Deployment", 0, 1).line == 19
    assert template.locate(("spec", "ports"), "Service", 0, 2).line == 7  # both rendered: by position
    assert template.locate(("spec", "replicas"), "Deployment", 1, 2).line == 14  # missing: its parent
