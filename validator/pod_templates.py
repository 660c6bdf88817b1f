"""Where a Kubernetes kind keeps its pod template: the template's `spec` is the pod spec,
its `metadata` the pod's metadata.

Shared by the stages that look into pods: the engine's `@podSpec` scopes, the skip markers
of pod templates, and the fix editor. A Pod is its own template; any other kind not named
here keeps it at `spec.template` (Deployment, StatefulSet, ..., OpenShift DeploymentConfig,
Argo Rollout). Custom kinds come from `.tdv.yaml` (`pod-templates`).
"""

from __future__ import annotations

from validator.model import FieldPath

POD_TEMPLATES: dict[str, FieldPath] = {"Pod": (), "CronJob": ("spec", "jobTemplate", "spec", "template")}
DEFAULT_POD_TEMPLATE: FieldPath = ("spec", "template")
# Kinds of custom resources and their pod templates, from `.tdv.yaml` (`pod-templates`).
_configured: dict[str, FieldPath] = {}


def configure_pod_templates(templates: dict[str, FieldPath]) -> None:
    """Set the custom kinds whose pod template policies check, for this process (a scan sets
    them from its config; forked workers inherit them)."""
    _configured.clear()
    _configured.update(templates)


def configured_pod_kinds() -> tuple[str, ...]:
    """The custom kinds set by `configure_pod_templates`: `@pod-bearing` policies target them too."""
    return tuple(_configured)


def special_pod_templates() -> dict[str, FieldPath]:
    """Every kind whose pod template is not at `spec.template`, built-in and configured."""
    return {**POD_TEMPLATES, **_configured}


def pod_template_path(kind: str) -> FieldPath:
    return _configured.get(kind, POD_TEMPLATES.get(kind, DEFAULT_POD_TEMPLATE))


def pod_spec_path(kind: str) -> FieldPath:
    return pod_template_path(kind) + ("spec",)
