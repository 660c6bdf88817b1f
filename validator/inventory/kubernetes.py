"""Kubernetes entries and relations (see validator/inventory/__init__.py and
docs/cross-resource.md).

Namespaces: an object's namespace is its `metadata.namespace`. Rendered manifests often
leave it out (Helm, Kustomize without `namespace:`): such objects land in whatever namespace
they are applied to, the same one for all of them, so the inventory treats the objects
without a namespace as sharing one unnamed namespace. They are never related to objects
that name a namespace, nor to a Namespace object.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from typing import Any, Callable

from validator.engine.policy import POD_BEARING
from validator.engine.scopes import CONTAINER_LISTS
from validator.engine.targets import selector_matches
from validator.inventory import Entry, Inventory, entry_id, extractor, missing, pack, relation
from validator.model import Resource
from validator.pod_templates import configured_pod_kinds, pod_template_path

ROLE_KINDS = ("Role", "ClusterRole")
BINDING_KINDS = ("RoleBinding", "ClusterRoleBinding")
CLUSTER_SCOPED = frozenset({"ClusterRole", "ClusterRoleBinding", "Namespace"})
REFERENCED_KINDS = ("ServiceAccount", "ConfigMap", "Secret", "PersistentVolumeClaim")
OTHER_KINDS = ("Service", "Ingress", "NetworkPolicy", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Namespace")
# Kinds whose `spec.replicas` sets their pod count (and that an HPA can scale).
SCALABLE = frozenset({"Deployment", "StatefulSet", "ReplicaSet", "ReplicationController", "DeploymentConfig",
                      "Rollout"})
# Groups whose members are every ServiceAccount (of one namespace, for the second form).
ALL_ACCOUNTS_GROUPS = ("system:serviceaccounts", "system:authenticated")
NAMESPACE_ACCOUNTS_GROUP = "system:serviceaccounts:"


def is_workload(kind: str) -> bool:
    return kind in POD_BEARING or kind in configured_pod_kinds()


# ---------------------------------------------------------------------------------------------
# Entries


@extractor
def kubernetes_entry(resource: Resource) -> Entry | None:
    kind = resource.kind
    document = resource.document
    if not isinstance(document, dict) or resource.identity:  # Terraform resources have an address
        return None
    if is_workload(kind):
        facts = _workload(document, kind)
    elif kind in ROLE_KINDS:
        facts = _role(document)
    elif kind in BINDING_KINDS:
        facts = _binding(document)
    elif kind in REFERENCED_KINDS or kind in OTHER_KINDS:
        facts = _FACTS.get(kind, lambda d: {})(document)
    elif is_custom_group(resource.api_group):
        facts = {"custom": True}  # counted per namespace: an operator may make pods from it
    else:
        return None
    return Entry(entry_id(resource), kind, resource.name, _text(resource.namespace) or None,
                 resource.locate(()), pack(facts), resource.api_group)


def is_custom_group(group: str) -> bool:
    """A custom resource's API group (`monitoring.coreos.com`, `argoproj.io`), not one of
    Kubernetes' own (`apps`, `networking.k8s.io`)."""
    return "." in group and not group.endswith(".k8s.io")


def _get(value: Any, *path: Any) -> Any:
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _strings(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _labels(value: Any) -> dict[str, str]:
    """A label map, values as text (YAML may read `version: 1` as a number)."""
    if not isinstance(value, dict):
        return {}
    return {str(k): v if isinstance(v, str) else str(v).lower() if isinstance(v, bool) else str(v)
            for k, v in value.items() if v is not None and not isinstance(v, (dict, list))}


def _selector(value: Any) -> dict[str, Any] | None:
    """A LabelSelector in plain form, or None for an absent or malformed one."""
    if not isinstance(value, dict):
        return None
    result: dict[str, Any] = {"matchLabels": _labels(value.get("matchLabels"))}
    expressions = []
    for item in value.get("matchExpressions") or []:
        if isinstance(item, dict) and isinstance(item.get("key"), str):
            expressions.append({"key": item["key"], "operator": _text(item.get("operator")),
                                "values": [str(v) for v in item.get("values") or [] if v is not None]})
    result["matchExpressions"] = expressions
    return result


def _workload(document: dict[str, Any], kind: str) -> dict[str, Any]:
    template = pod_template_path(kind)
    meta = _get(document, *template, "metadata") if template else document.get("metadata")
    spec = _get(document, *template, "spec") if template else document.get("spec")
    spec = spec if isinstance(spec, dict) else {}
    facts: dict[str, Any] = {"podLabels": _labels(_get(meta, "labels"))}
    account = spec.get("serviceAccountName") or spec.get("serviceAccount")
    facts["serviceAccountName"] = account if isinstance(account, str) and account else "default"
    replicas = _get(document, "spec", "replicas")
    if kind in SCALABLE and isinstance(replicas, int) and not isinstance(replicas, bool):
        facts["replicas"] = replicas
    service_name = _get(document, "spec", "serviceName")
    if kind == "StatefulSet" and isinstance(service_name, str) and service_name:
        facts["serviceName"] = service_name
    found: dict[str, dict[str, bool]] = {"configMaps": {}, "secrets": {}, "persistentVolumeClaims": {}}
    for fact, reference in _volume_references(spec) + _container_references(spec):
        name, optional = reference.get("name"), reference.get("optional")
        if isinstance(name, str) and name:  # optional only when every reference to it is
            found[fact][name] = found[fact].get(name, True) and optional is True
    for fact, names in found.items():
        facts[fact] = [{"name": name, "optional": optional} for name, optional in names.items()]
    facts["containerPorts"] = _container_ports(spec)
    return facts


def _container_ports(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The ports the pod's containers declare, as a Service's targetPort is resolved against them:
    those of its containers and of its sidecars (init containers with `restartPolicy: Always`)."""
    containers = _dicts(spec.get("containers")) + [
        c for c in _dicts(spec.get("initContainers")) if c.get("restartPolicy") == "Always"]
    ports = []
    for container in containers:
        for port in _dicts(container.get("ports")):
            number = port.get("containerPort")
            if not isinstance(number, int) or isinstance(number, bool):
                continue
            item: dict[str, Any] = {"container": _text(container.get("name")), "containerPort": number,
                                    "protocol": _text(port.get("protocol")) or "TCP"}
            if isinstance(port.get("name"), str) and port["name"]:
                item["name"] = port["name"]
            ports.append(item)
    return ports


# Where a pod spec names other objects: (fact, key of the reference, key of the name).
_VOLUME_SOURCES = (("configMaps", "configMap", "name"), ("secrets", "secret", "secretName"),
                   ("persistentVolumeClaims", "persistentVolumeClaim", "claimName"))
_PROJECTED_SOURCES = (("configMaps", "configMap", "name"), ("secrets", "secret", "name"))
_ENV_FROM = (("configMaps", "configMapRef", "name"), ("secrets", "secretRef", "name"))
_ENV_VALUE_FROM = (("configMaps", "configMapKeyRef", "name"), ("secrets", "secretKeyRef", "name"))
Reference = tuple[str, dict[str, Any]]  # (fact, {"name": ..., "optional": ...})


def _named(value: dict[str, Any], sources: tuple[tuple[str, str, str], ...]) -> list[Reference]:
    return [(fact, {"name": value[key].get(name), "optional": value[key].get("optional")})
            for fact, key, name in sources if isinstance(value.get(key), dict)]


def _volume_references(spec: dict[str, Any]) -> list[Reference]:
    found: list[Reference] = []
    for volume in _dicts(spec.get("volumes")):
        found += _named(volume, _VOLUME_SOURCES)
        for source in _dicts(_get(volume, "projected", "sources")):
            found += _named(source, _PROJECTED_SOURCES)
    return found


def _container_references(spec: dict[str, Any]) -> list[Reference]:
    """Each container's envFrom and env references, then the imagePullSecrets."""
    found: list[Reference] = []
    for name in CONTAINER_LISTS:
        for container in _dicts(spec.get(name)):
            for source in _dicts(container.get("envFrom")):
                found += _named(source, _ENV_FROM)
            for variable in _dicts(container.get("env")):
                if isinstance(variable.get("valueFrom"), dict):
                    found += _named(variable["valueFrom"], _ENV_VALUE_FROM)
    found += [("secrets", {"name": pull.get("name")}) for pull in _dicts(spec.get("imagePullSecrets"))]
    return found


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _rule(value: Any) -> dict[str, list[str]] | None:
    if not isinstance(value, dict):
        return None
    return {key: _strings(value.get(key)) for key in ("apiGroups", "resources", "verbs", "resourceNames",
                                                       "nonResourceURLs")}


def _role(document: dict[str, Any]) -> dict[str, Any]:
    rules = [rule for rule in map(_rule, document.get("rules") or []) if rule is not None]
    facts: dict[str, Any] = {"rules": rules, "labels": _labels(_get(document, "metadata", "labels"))}
    selectors = _get(document, "aggregationRule", "clusterRoleSelectors")
    if isinstance(selectors, list):
        facts["aggregationSelectors"] = [s for s in map(_selector, selectors) if s is not None]
    return facts


def _binding(document: dict[str, Any]) -> dict[str, Any]:
    role_ref = _mapping(document.get("roleRef"))
    subjects = []
    for subject in document.get("subjects") or []:
        if isinstance(subject, dict) and isinstance(subject.get("name"), str):
            item = {"kind": _text(subject.get("kind")), "name": subject["name"]}
            if isinstance(subject.get("namespace"), str) and subject["namespace"]:
                item["namespace"] = subject["namespace"]
            subjects.append(item)
    return {"roleRef": {"kind": _text(role_ref.get("kind")), "name": _text(role_ref.get("name"))},
            "subjects": subjects}


def _service(document: dict[str, Any]) -> dict[str, Any]:
    facts: dict[str, Any] = {"selector": _labels(_get(document, "spec", "selector")),
                             "type": _text(_get(document, "spec", "type")) or "ClusterIP",
                             "headless": _get(document, "spec", "clusterIP") == "None"}
    ports = []
    for port in _get(document, "spec", "ports") or []:
        if isinstance(port, dict):
            item = {key: port[key] for key in ("name", "port", "targetPort")
                    if isinstance(port.get(key), (str, int)) and not isinstance(port.get(key), bool)}
            item["protocol"] = _text(port.get("protocol")) or "TCP"
            ports.append(item)
    facts["ports"] = ports
    return facts


def _ingress(document: dict[str, Any]) -> dict[str, Any]:
    backends: list[dict[str, Any]] = []

    def add(backend: Any) -> None:
        if not isinstance(backend, dict):
            return
        service = backend.get("service")
        if isinstance(service, dict) and isinstance(service.get("name"), str):  # networking.k8s.io/v1
            port = _mapping(service.get("port"))
            item: dict[str, Any] = {"service": service["name"]}
            if isinstance(port.get("number"), int):
                item["port"] = port["number"]
            elif isinstance(port.get("name"), str):
                item["port"] = port["name"]
            backends.append(item)
        elif isinstance(backend.get("serviceName"), str):  # extensions/v1beta1, networking.k8s.io/v1beta1
            item = {"service": backend["serviceName"]}
            if isinstance(backend.get("servicePort"), (int, str)):
                item["port"] = backend["servicePort"]
            backends.append(item)

    spec = _mapping(document.get("spec"))
    add(spec.get("defaultBackend") or spec.get("backend"))
    for rule in spec.get("rules") or []:
        for path in _get(rule, "http", "paths") or []:
            add(_get(path, "backend"))
    return {"backends": backends}


def _network_policy(document: dict[str, Any]) -> dict[str, Any]:
    selector = _selector(_get(document, "spec", "podSelector"))
    types = _strings(_get(document, "spec", "policyTypes"))
    if not isinstance(_get(document, "spec", "policyTypes"), list):  # the API server's default
        types = ["Ingress"] + (["Egress"] if _get(document, "spec", "egress") is not None else [])
    return {"podSelector": selector if selector is not None else {"matchLabels": {}, "matchExpressions": []},
            "policyTypes": types, "peers": _peers(document)}


def _peers(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The peers of a NetworkPolicy's rules that select pods of its own namespace by label (a
    non-empty `podSelector` without `namespaceSelector`), with the selector as written (for a
    policy to find its peer by equality) and in plain form (to match workloads)."""
    found = []
    for direction, key in (("ingress", "from"), ("egress", "to")):
        for rule in _dicts(_get(document, "spec", direction)):
            for peer in _dicts(rule.get(key)):
                selector = _selector(peer.get("podSelector"))
                if "namespaceSelector" in peer or selector is None:
                    continue
                if selector["matchLabels"] or selector["matchExpressions"]:
                    found.append({"direction": direction, "podSelector": copy.deepcopy(peer["podSelector"]),
                                  "selector": selector})
    return found


def _autoscaler(document: dict[str, Any]) -> dict[str, Any]:
    target = _get(document, "spec", "scaleTargetRef")
    facts: dict[str, Any] = {"scaleTargetRef": {"kind": _text(_get(target, "kind")),
                                                "name": _text(_get(target, "name"))}}
    for key, default in (("minReplicas", 1), ("maxReplicas", None)):
        value = _get(document, "spec", key)
        if isinstance(value, int) and not isinstance(value, bool):
            facts[key] = value
        elif default is not None:
            facts[key] = default
    return facts


def _budget(document: dict[str, Any]) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    selector = _selector(_get(document, "spec", "selector"))
    if selector is not None:
        facts["selector"] = selector
    for key in ("minAvailable", "maxUnavailable"):
        value = _get(document, "spec", key)
        if isinstance(value, (int, str)) and not isinstance(value, bool):
            facts[key] = value
    return facts


def _namespace(document: dict[str, Any]) -> dict[str, Any]:
    return {"labels": _labels(_get(document, "metadata", "labels"))}


def _secret(document: dict[str, Any]) -> dict[str, Any]:
    kind = document.get("type")
    return {"type": kind} if isinstance(kind, str) else {}  # never its data


_FACTS = {"Service": _service, "Ingress": _ingress, "NetworkPolicy": _network_policy,
          "HorizontalPodAutoscaler": _autoscaler, "PodDisruptionBudget": _budget, "Namespace": _namespace,
          "Secret": _secret}


# ---------------------------------------------------------------------------------------------
# Indexes


def namespace_key(found: Entry) -> str | None:
    """The namespace an entry lives in: its own, "" (the unnamed one) when it names none, or
    None for cluster-scoped kinds."""
    return None if found.kind in CLUSTER_SCOPED else found.namespace or ""


def _by_name(inventory: Inventory) -> dict[tuple[str, str | None, str], list[Entry]]:
    index: dict[tuple[str, str | None, str], list[Entry]] = defaultdict(list)
    for found in inventory.entries:
        index[found.kind, namespace_key(found), found.name].append(found)
    return dict(index)


def named(inventory: Inventory, kind: str, namespace: str | None, name: str) -> list[Entry]:
    return inventory.index("k8s:name", _by_name).get((kind, namespace, name), [])


def _by_namespace(inventory: Inventory) -> dict[tuple[str, str], list[Entry]]:
    """(namespace, "workloads" or a kind) -> entries."""
    index: dict[tuple[str, str], list[Entry]] = defaultdict(list)
    for found in inventory.entries:
        key = namespace_key(found)
        if key is not None:
            group = "workloads" if is_workload(found.kind) else "customResources" if found.facts.get("custom") \
                else found.kind
            index[key, group].append(found)
    return dict(index)


def in_namespace(inventory: Inventory, namespace: str, group: str) -> list[Entry]:
    return inventory.index("k8s:namespace", _by_namespace).get((namespace, group), [])


def _workload_labels(inventory: Inventory) -> dict[tuple[str, str, str], list[Entry]]:
    """(namespace, label, value) -> the workloads whose pods carry that label."""
    index: dict[tuple[str, str, str], list[Entry]] = defaultdict(list)
    for found in inventory.entries:
        if is_workload(found.kind):
            for key, value in found.facts["podLabels"].items():
                index[namespace_key(found) or "", key, value].append(found)
    return dict(index)


def selected_workloads(inventory: Inventory, namespace: str, selector: dict[str, Any]) -> list[Entry]:
    """The workloads of the namespace whose pod template labels the LabelSelector matches
    (an empty selector matches them all)."""
    labels = selector.get("matchLabels") or {}
    if labels:
        index = inventory.index("k8s:labels", _workload_labels)
        candidates = min((index.get((namespace, key, value), []) for key, value in labels.items()), key=len)
    else:
        candidates = in_namespace(inventory, namespace, "workloads")
    return [found for found in candidates if selector_matches(selector, found.facts["podLabels"])]


def _subjects_index(inventory: Inventory) -> dict[Any, list[Entry]]:
    """(namespace, account) -> bindings naming that ServiceAccount; (namespace, None) ->
    bindings naming every account of the namespace; None -> every account of the cluster."""
    index: dict[Any, list[Entry]] = defaultdict(list)
    for found in inventory.entries:
        if found.kind in BINDING_KINDS:
            for key in dict.fromkeys(_account_keys(found)):
                index[key].append(found)
    return dict(index)


def _account_keys(binding: Entry) -> list[Any]:
    keys: list[Any] = []
    for subject in binding.facts["subjects"]:
        if subject["kind"] == "ServiceAccount":
            keys.append((subject.get("namespace") or binding.namespace or "", subject["name"]))
        elif subject["kind"] == "Group" and subject["name"] in ALL_ACCOUNTS_GROUPS:
            keys.append(None)
        elif subject["kind"] == "Group" and subject["name"].startswith(NAMESPACE_ACCOUNTS_GROUP):
            keys.append((subject["name"][len(NAMESPACE_ACCOUNTS_GROUP):], None))
    return keys


def _accounts_index(inventory: Inventory) -> dict[tuple[str, str], list[Entry]]:
    """(namespace, account) -> the workloads running as that ServiceAccount."""
    index: dict[tuple[str, str], list[Entry]] = defaultdict(list)
    for found in inventory.entries:
        if is_workload(found.kind):
            index[namespace_key(found) or "", found.facts["serviceAccountName"]].append(found)
    return dict(index)


def _targets_index(inventory: Inventory) -> dict[tuple[str, str, str], list[Entry]]:
    """(namespace, kind, name) -> HPAs scaling it."""
    index: dict[tuple[str, str, str], list[Entry]] = defaultdict(list)
    for found in inventory.entries:
        if found.kind == "HorizontalPodAutoscaler":
            target = found.facts["scaleTargetRef"]
            index[namespace_key(found) or "", target["kind"], target["name"]].append(found)
    return dict(index)


def _backends_index(inventory: Inventory) -> dict[tuple[str, str], list[Entry]]:
    """(namespace, service) -> Ingresses routing to it."""
    index: dict[tuple[str, str], list[Entry]] = defaultdict(list)
    for found in inventory.entries:
        if found.kind == "Ingress":
            for name in dict.fromkeys(b["service"] for b in found.facts["backends"]):
                index[namespace_key(found) or "", name].append(found)
    return dict(index)


def _aggregated_rules(inventory: Inventory, role: Entry) -> list[dict[str, Any]]:
    """The rules a role grants, each with the `source` item of the role that holds it: its
    own, and for an aggregated ClusterRole those of the ClusterRoles in the scan that its
    selectors pick (transitively, as the controller fills them in)."""
    rules: list[dict[str, Any]] = []
    seen = {role.id}
    queue = [role]
    while queue:
        current = queue.pop(0)
        source, facts = _source(inventory, current), current.facts
        rules.extend({**rule, "source": source} for rule in facts["rules"])
        for selector in facts.get("aggregationSelectors", []):
            for other in inventory.index("k8s:clusterroles", _cluster_roles):
                if other.id not in seen and selector_matches(selector, other.facts["labels"]):
                    seen.add(other.id)
                    queue.append(other)
    return rules


def _cluster_roles(inventory: Inventory) -> list[Entry]:
    return [found for found in inventory.entries if found.kind == "ClusterRole"]


def _source(inventory: Inventory, found: Entry) -> dict[str, Any]:
    item = inventory.item(found)
    return {key: item[key] for key in ("ref", "kind", "name", "inScan", "file", "line", "column")}


def _items(inventory: Inventory, found: list[Entry]) -> list[dict[str, Any]]:
    return [inventory.item(e) for e in found]


# ---------------------------------------------------------------------------------------------
# Relations


@relation("roles", "RoleBinding, ClusterRoleBinding",
          "the Role or ClusterRole its roleRef names (`inScan: false` when absent), with `rules`: every rule it"
          " grants, its own and, for an aggregated ClusterRole, those of the ClusterRoles in the scan that its"
          " aggregationRule selects; each rule has the `source` item of the role that holds it")
def _roles(inventory: Inventory, start: Entry) -> list[dict[str, Any]]:
    if start.kind not in BINDING_KINDS:
        return []
    ref = start.facts["roleRef"]
    if ref["kind"] not in ROLE_KINDS or not ref["name"]:
        return []
    namespace = None if ref["kind"] == "ClusterRole" else start.namespace or ""
    found = named(inventory, ref["kind"], namespace, ref["name"])
    if not found:
        return [missing(ref["kind"], ref["name"], namespace or None)]
    return [inventory.item(role, rules=_aggregated_rules(inventory, role),
                           aggregated="aggregationSelectors" in role.facts) for role in found]


@relation("subjectWorkloads", "RoleBinding, ClusterRoleBinding",
          "the workloads in the scan whose pods run as one of its ServiceAccount subjects (or as any account of"
          " a `system:serviceaccounts[:namespace]` or `system:authenticated` group subject)")
def _subject_workloads(inventory: Inventory, start: Entry) -> list[dict[str, Any]]:
    if start.kind not in BINDING_KINDS:
        return []
    accounts = inventory.index("k8s:accounts", _accounts_index)
    found: dict[Any, Entry] = {}
    for key in _account_keys(start):
        if key is None:
            matched = [e for e in inventory.entries if is_workload(e.kind)]
        elif key[1] is None:
            matched = in_namespace(inventory, key[0], "workloads")
        else:
            matched = accounts.get(key, [])
        found.update((e.id, e) for e in matched)
    return _items(inventory, sorted(found.values(), key=lambda e: e.id))


@relation("bindings", "workloads, ServiceAccount",
          "the RoleBindings and ClusterRoleBindings in the scan that name its ServiceAccount (directly or"
          " through a group of all service accounts)")
def _bindings(inventory: Inventory, start: Entry) -> list[dict[str, Any]]:
    if is_workload(start.kind):
        account = start.facts["serviceAccountName"]
    elif start.kind == "ServiceAccount":
        account = start.name
    else:
        return []
    namespace = namespace_key(start) or ""
    index = inventory.index("k8s:subjects", _subjects_index)
    found = {e.id: e for key in ((namespace, account), (namespace, None), None) for e in index.get(key, [])}
    return _items(inventory, sorted(found.values(), key=lambda e: e.id))


@relation("networkPolicies", "workloads, Namespace",
          "for a workload, the NetworkPolicies of its namespace whose podSelector matches its pod template's"
          " labels; for a Namespace, every NetworkPolicy in it")
def _network_policies(inventory: Inventory, start: Entry) -> list[dict[str, Any]]:
    if start.kind == "Namespace":
        return _items(inventory, in_namespace(inventory, start.name, "NetworkPolicy"))
    return _selecting(inventory, start, "NetworkPolicy", lambda p: p.facts["podSelector"])


def _selecting(inventory: Inventory, workload: Entry, kind: str,
               selector_of: Callable[[Entry], dict[str, Any] | None]) -> list[dict[str, Any]]:
    """The objects of `kind` in a workload's namespace whose selector (None: selects nothing)
    matches its pod template's labels; nothing for an entry that is not a workload."""
    if not is_workload(workload.kind):
        return []
    labels = workload.facts["podLabels"]
    found = []
    for candidate in in_namespace(inventory, namespace_key(workload) or "", kind):
        selector = selector_of(candidate)
        if selector is not None and selector_matches(selector, labels):
            found.append(candidate)
    return _items(inventory, found)


@relation("selectedWorkloads", "NetworkPolicy, PodDisruptionBudget, Service",
          "the workloads of its namespace whose pod template labels its selector matches (a Service or"
          " PodDisruptionBudget without a selector selects none), each with `autoscalers`: the"
          " HorizontalPodAutoscalers of the scan that scale it (`name`, `minReplicas`, `maxReplicas`)")
def _selected(inventory: Inventory, start: Entry) -> list[dict[str, Any]]:
    namespace = namespace_key(start) or ""
    facts = start.facts
    if start.kind == "NetworkPolicy":
        selector = facts["podSelector"]
    elif start.kind == "PodDisruptionBudget" and "selector" in facts:
        selector = facts["selector"]
    elif start.kind == "Service" and facts["selector"]:
        selector = {"matchLabels": facts["selector"]}
    else:
        return []
    scalers = inventory.index("k8s:targets", _targets_index)
    return [inventory.item(found, autoscalers=[_scaler(a) for a in scalers.get(
        (namespace, found.kind, found.name), [])]) for found in selected_workloads(inventory, namespace, selector)]


def _scaler(autoscaler: Entry) -> dict[str, Any]:
    item: dict[str, Any] = {"name": autoscaler.name}
    item.update((key, autoscaler.facts[key]) for key in ("minReplicas", "maxReplicas") if key in autoscaler.facts)
    return item


@relation("peers", "NetworkPolicy",
          "each peer of its rules that selects pods of its own namespace (a non-empty `podSelector` without"
          " `namespaceSelector`), in order: `direction` (`ingress` or `egress`), `podSelector` as written, and"
          " `workloads`, the workloads of its namespace whose pod template labels it matches (these items are"
          " peers, not objects)")
def _peer_workloads(inventory: Inventory, start: Entry) -> list[dict[str, Any]]:
    if start.kind != "NetworkPolicy":
        return []
    namespace = namespace_key(start) or ""
    return [{"direction": peer["direction"], "podSelector": peer["podSelector"],
             "workloads": _items(inventory, selected_workloads(inventory, namespace, peer["selector"]))}
            for peer in start.facts["peers"]]


@relation("disruptionBudgets", "workloads",
          "the PodDisruptionBudgets of its namespace whose selector matches its pod template's labels")
def _budgets(inventory: Inventory, start: Entry) -> list[dict[str, Any]]:
    return _selecting(inventory, start, "PodDisruptionBudget", lambda b: b.facts.get("selector"))


@relation("services", "workloads, Ingress",
          "for a workload, the Services of its namespace whose selector matches its pod template's labels; for"
          " an Ingress, the Service of each backend (`inScan: false` when absent), with the backend's `port`")
def _services(inventory: Inventory, start: Entry) -> list[dict[str, Any]]:
    namespace = namespace_key(start) or ""
    if start.kind == "Ingress":
        items = []
        for backend in start.facts["backends"]:
            extra = {"port": backend["port"]} if "port" in backend else {}
            found = named(inventory, "Service", namespace, backend["service"])
            items += ([inventory.item(s, **extra) for s in found] if found
                      else [missing("Service", backend["service"], namespace or None, **extra)])
        return items
    return _selecting(inventory, start, "Service",
                      lambda s: {"matchLabels": s.facts["selector"]} if s.facts["selector"] else None)


@relation("ingresses", "Service", "the Ingresses of its namespace with a backend naming it")
def _ingresses(inventory: Inventory, start: Entry) -> list[dict[str, Any]]:
    if start.kind != "Service":
        return []
    return _items(inventory, inventory.index("k8s:backends", _backends_index).get(
        (namespace_key(start) or "", start.name), []))


@relation("scaleTarget", "HorizontalPodAutoscaler",
          "the object its scaleTargetRef names (`inScan: false` when absent)")
def _scale_target(inventory: Inventory, start: Entry) -> list[dict[str, Any]]:
    if start.kind != "HorizontalPodAutoscaler":
        return []
    target = start.facts["scaleTargetRef"]
    if not target["kind"] or not target["name"]:
        return []
    namespace = namespace_key(start) or ""
    found = named(inventory, target["kind"], namespace, target["name"])
    return _items(inventory, found) if found else [missing(target["kind"], target["name"], namespace or None)]


@relation("scaledBy", "workloads", "the HorizontalPodAutoscalers of its namespace whose scaleTargetRef names it")
def _scaled_by(inventory: Inventory, start: Entry) -> list[dict[str, Any]]:
    if not is_workload(start.kind):
        return []
    return _items(inventory, inventory.index("k8s:targets", _targets_index).get(
        (namespace_key(start) or "", start.kind, start.name), []))


def _references(kind: str, fact: str) -> Any:
    def compute(inventory: Inventory, start: Entry) -> list[dict[str, Any]]:
        if not is_workload(start.kind):
            return []
        namespace = namespace_key(start) or ""
        if fact == "serviceAccountName":
            wanted = [{"name": start.facts[fact], "optional": False}]
        else:
            wanted = start.facts[fact]
        items = []
        for reference in wanted:
            found = named(inventory, kind, namespace, reference["name"])
            extra = {"optional": reference["optional"]}
            items += ([inventory.item(e, **extra) for e in found] if found
                      else [missing(kind, reference["name"], namespace or None, **extra)])
        return items
    return compute


_REFERENCE_TEXT = (" (`inScan: false` when absent), each with `optional`: whether the pod starts without it")
relation("configMaps", "workloads", "the ConfigMaps its pod template refers to: volumes, projected volumes, env"
         " and envFrom" + _REFERENCE_TEXT)(_references("ConfigMap", "configMaps"))
relation("secrets", "workloads", "the Secrets its pod template refers to: volumes, projected volumes, env, envFrom"
         " and imagePullSecrets" + _REFERENCE_TEXT)(_references("Secret", "secrets"))
relation("persistentVolumeClaims", "workloads", "the PersistentVolumeClaims its pod template's volumes name"
         + _REFERENCE_TEXT)(_references("PersistentVolumeClaim", "persistentVolumeClaims"))
relation("serviceAccount", "workloads", "the ServiceAccount its pods run as (`default` when the template names"
         " none; `inScan: false` when absent)")(_references("ServiceAccount", "serviceAccountName"))


@relation("governingService", "StatefulSet",
          "the Service its `serviceName` names (`inScan: false` when absent; nothing when it names none)")
def _governing_service(inventory: Inventory, start: Entry) -> list[dict[str, Any]]:
    name = start.facts.get("serviceName") if start.kind == "StatefulSet" else None
    if not name:
        return []
    namespace = namespace_key(start) or ""
    found = named(inventory, "Service", namespace, name)
    return _items(inventory, found) if found else [missing("Service", name, namespace or None)]


@relation("namespace", "namespaced objects",
          "one item for the namespace it lives in: the Namespace object when in the scan (`inScan: false`"
          " otherwise, and for the unnamed namespace of objects without `metadata.namespace`), with"
          " `labels` and the counts `workloads`, `networkPolicies`, `services` and `customResources` (objects"
          " of an API group that is not Kubernetes' own, from which an operator may make pods) of the scan's"
          " objects in it")
def _namespace_item(inventory: Inventory, start: Entry) -> list[dict[str, Any]]:
    namespace = namespace_key(start)
    if namespace is None:
        return []
    counts = {"workloads": len(in_namespace(inventory, namespace, "workloads")),
              "networkPolicies": len(in_namespace(inventory, namespace, "NetworkPolicy")),
              "services": len(in_namespace(inventory, namespace, "Service")),
              "customResources": len(in_namespace(inventory, namespace, "customResources"))}
    found = named(inventory, "Namespace", None, namespace) if namespace else []
    if found:
        return [inventory.item(found[0], **counts)]
    return [missing("Namespace", namespace, None, labels={}, **counts)]


@relation("workloads", "Namespace", "the workloads in the scan that live in it")
def _namespace_workloads(inventory: Inventory, start: Entry) -> list[dict[str, Any]]:
    if start.kind != "Namespace":
        return []
    return _items(inventory, in_namespace(inventory, start.name, "workloads"))
