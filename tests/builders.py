"""Kubernetes objects for tests, built from the few fields a test cares about.

The builders return plain dicts (what the API server would hold after parsing a manifest);
`manifest()` writes them as YAML text in the block style most hand-written manifests use
(two-space indents, indented lists, keys in the order given). `resource()` wraps a dict as
the Resource the engine evaluates.

    deployment("web", containers=[container("app", security_context={"privileged": True})])
    pod(containers=[container(image="nginx:latest")], host_network=True)

Keyword arguments in snake_case are pod-spec fields written in camelCase in the object
(`host_network=True` -> `hostNetwork: true`); a test that needs an exact text layout (line
and column checks against hand-written YAML) keeps its YAML literal instead.
"""

from __future__ import annotations

from typing import Any

import yaml

IMAGE = "nginx:1.27"
WEB_LABELS = {"app.kubernetes.io/name": "web", "app.kubernetes.io/instance": "web"}  # so label policies pass


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _fields(values: dict[str, Any]) -> dict[str, Any]:
    return {camel(key): value for key, value in values.items() if value is not None}


def container(name: str = "app", image: str | None = IMAGE, *, security_context: dict | None = None,
              **fields: Any) -> dict:
    """A container: name, image (None leaves it out), securityContext and any other field."""
    built: dict[str, Any] = {"name": name}
    if image is not None:
        built["image"] = image
    if security_context is not None:
        built["securityContext"] = security_context
    built.update(_fields(fields))
    return built


def metadata(name: str | None, namespace: str | None = None, labels: dict | None = None,
             annotations: dict | None = None, **fields: Any) -> dict:
    built: dict[str, Any] = {} if name is None else {"name": name}
    built.update(_fields({"namespace": namespace, "labels": labels, "annotations": annotations, **fields}))
    return built


def pod_spec(containers: list[dict] | None = None, *, init_containers: list[dict] | None = None,
             security_context: dict | None = None, **fields: Any) -> dict:
    """A pod spec; one default container unless `containers` is given (an empty list stays empty)."""
    built: dict[str, Any] = {}
    if init_containers is not None:
        built["initContainers"] = init_containers
    built["containers"] = [container()] if containers is None else containers
    if security_context is not None:
        built["securityContext"] = security_context
    built.update(_fields(fields))
    return built


def pod(name: str = "web", *, namespace: str | None = None, labels: dict | None = None,
        annotations: dict | None = None, containers: list[dict] | None = None,
        init_containers: list[dict] | None = None, security_context: dict | None = None, **spec: Any) -> dict:
    """A v1 Pod. `security_context` is the pod's; other keywords are pod-spec fields."""
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": metadata(name, namespace, labels, annotations),
            "spec": pod_spec(containers, init_containers=init_containers, security_context=security_context,
                             **spec)}


def deployment(name: str = "web", *, namespace: str | None = None, labels: dict | None = None,
               annotations: dict | None = None, replicas: int | None = None, containers: list[dict] | None = None,
               init_containers: list[dict] | None = None, pod_security: dict | None = None,
               template_labels: dict | None = None, template_annotations: dict | None = None,
               **spec: Any) -> dict:
    """An apps/v1 Deployment. `pod_security` is the pod template's securityContext, the
    template_* keywords its metadata; other keywords are pod-spec fields."""
    template: dict[str, Any] = {}
    template_metadata = _fields({"labels": template_labels, "annotations": template_annotations})
    if template_metadata:
        template["metadata"] = template_metadata
    template["spec"] = pod_spec(containers, init_containers=init_containers, security_context=pod_security, **spec)
    body: dict[str, Any] = {} if replicas is None else {"replicas": replicas}
    body["template"] = template
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": metadata(name, namespace, labels, annotations), "spec": body}


def resource(document: dict, path: str = "manifest.yaml"):
    """`document` as the validator.model.Resource the engine evaluates."""
    from validator.model import Resource

    meta = document.get("metadata") or {}
    return Resource(str(document.get("kind")), str(document.get("apiVersion")), str(meta.get("name")),
                    meta.get("namespace"), document, path)


class _BlockDumper(yaml.SafeDumper):
    """Indents list items under their key, as kubectl's examples and most charts do."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def manifest(*documents: dict) -> str:
    """`documents` as one YAML text, `---` between them."""
    return "---\n".join(yaml.dump(d, Dumper=_BlockDumper, sort_keys=False, default_flow_style=False,
                                  allow_unicode=True, width=1000) for d in documents)
