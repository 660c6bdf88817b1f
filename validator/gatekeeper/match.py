"""A Constraint's `spec.match`, evaluated on a resource of the scan.

A namespaced resource that carries no namespace is taken to be in `default`, as gator
takes it (and as `kubectl apply` without `-n` puts it); this differs from tdv's own
namespace targets, which such a resource never matches. `namespaceSelector` needs the
labels of the namespace: the Rego evaluator judges it with the Namespace objects of the scan
(from the `gatekeeperObjects` relation, see validator.inventory.gatekeeper).
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from validator.engine.targets import selector_matches

# Kinds that live outside namespaces (for `scope`, and for namespace lists, which a
# cluster-scoped object other than a Namespace always passes, as in Gatekeeper).
CLUSTER_SCOPED = frozenset({
    "Namespace", "Node", "PersistentVolume", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition",
    "StorageClass", "PriorityClass", "IngressClass", "RuntimeClass", "CSIDriver", "CSINode", "VolumeAttachment",
    "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding", "APIService", "CertificateSigningRequest", "PodSecurityPolicy",
    "FlowSchema", "PriorityLevelConfiguration", "ConstraintTemplate",
})


@dataclass(frozen=True)
class Match:
    kinds: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = ()  # (apiGroups, kinds); empty: any
    namespaces: tuple[str, ...] = ()
    excluded_namespaces: tuple[str, ...] = ()
    label_selector: tuple[tuple[str, Any], ...] = ()  # frozen form of the selector mapping
    name: str | None = None
    scope: str = "*"
    # Evaluated with the scan's Namespace objects by the Rego evaluator (validator.rego.evaluator).
    namespace_selector: dict[str, Any] | None = None

    def __call__(self, resource: Any) -> bool:
        if not is_kubernetes(resource):
            return False
        kind, group = resource.kind, resource.api_group
        if self.kinds and not any(_listed(kind, kinds) and _listed(group, groups) for groups, kinds in self.kinds):
            return False
        cluster = kind in CLUSTER_SCOPED
        if self.scope == "Cluster" and not cluster or self.scope == "Namespaced" and cluster:
            return False
        if self.name is not None and not fnmatchcase(resource.name or "", self.name):
            return False
        namespace = resource.name if kind == "Namespace" else resource.namespace or "default"
        if not cluster or kind == "Namespace":
            if self.namespaces and not _any_glob(namespace, self.namespaces):
                return False
            if _any_glob(namespace, self.excluded_namespaces):
                return False
        return not self.label_selector or selector_matches(dict(self.label_selector), resource.labels)


def is_kubernetes(resource: Any) -> bool:
    """A Kubernetes object (Terraform resources have no apiVersion): the only kind of
    resource Gatekeeper and conftest policies are run on."""
    return bool(resource.api_version)


def _listed(value: str, allowed: tuple[str, ...]) -> bool:
    return "*" in allowed or value in allowed


def _any_glob(value: str, patterns: tuple[str, ...]) -> bool:
    """Gatekeeper's namespace patterns: a name, `prefix*` or `*suffix`."""
    return any(fnmatchcase(value, pattern) for pattern in patterns)
