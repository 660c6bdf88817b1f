"""Which resources a policy applies to: kinds, API groups, namespaces and a label selector."""

from __future__ import annotations

from typing import Any

from validator.engine.policy import Targets
from validator.model import Resource


def matches(targets: Targets, resource: Resource) -> bool:
    """Kinds are matched through the engine's index; this checks everything else.

    A resource without an explicit namespace never matches an include list (it lands in
    whatever namespace it is applied to), and is never excluded by one.
    """
    if targets.api_groups is not None and resource.api_group not in targets.api_groups:
        return False
    namespace = resource.namespace
    if targets.namespaces_include and namespace not in targets.namespaces_include:
        return False
    if namespace is not None and namespace in targets.namespaces_exclude:
        return False
    if targets.label_selector and not selector_matches(targets.label_selector, resource.labels):
        return False
    return targets.applies is None or targets.applies(resource)


def selector_matches(selector: dict[str, Any], labels: dict[str, Any]) -> bool:
    """Kubernetes label-selector semantics (matchLabels and matchExpressions)."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if str(labels.get(key)) != str(value) or key not in labels:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression.get("key"), expression.get("operator")
        values = [str(v) for v in expression.get("values") or []]
        present = key in labels
        if operator == "In" and not (present and str(labels[key]) in values):
            return False
        if operator == "NotIn" and present and str(labels[key]) in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True
