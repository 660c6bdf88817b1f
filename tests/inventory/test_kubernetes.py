"""Each Kubernetes relation of the inventory, positively and negatively."""

from __future__ import annotations

import pytest

from validator import inventory
from validator.engine.scopes import configure_pod_templates
from validator.model import Resource

RBAC = "rbac.authorization.k8s.io/v1"


def scan(*documents: dict) -> tuple[list[Resource], inventory.Inventory]:
    found = []
    for index, document in enumerate(documents):
        meta = document.get("metadata", {})
        found.append(Resource(document["kind"], document["apiVersion"], meta.get("name", ""), meta.get("namespace"),
                              document, "scan.yaml", index))
    return found, inventory.build_from(found)


def related(name: str, *documents: dict, subject: int = 0) -> list[dict]:
    resources, built = scan(*documents)
    return built.related(resources[subject], [name])[name]


def refs(items: list[dict]) -> list[str]:
    return [item["ref"] + ("" if item["inScan"] else " (not in scan)") for item in items]


def meta(name: str, namespace: str | None = "shop", **extra) -> dict:
    data = {"name": name, **extra}
    if namespace:
        data["namespace"] = namespace
    return data


def deployment(name="web", namespace="shop", labels=None, spec=None, replicas=None, kind="Deployment") -> dict:
    document = {"apiVersion": "apps/v1", "kind": kind, "metadata": meta(name, namespace),
                "spec": {"template": {"metadata": {"labels": labels or {"app": name}},
                                      "spec": spec or {"containers": [{"name": "app", "image": "nginx:1.27"}]}}}}
    if replicas is not None:
        document["spec"]["replicas"] = replicas
    return document


def binding(kind="RoleBinding", role_kind="Role", role="app", subjects=None, namespace="shop") -> dict:
    return {"apiVersion": RBAC, "kind": kind, "metadata": meta("app", namespace if kind == "RoleBinding" else None),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role},
            "subjects": subjects if subjects is not None else [{"kind": "ServiceAccount", "name": "web",
                                                                "namespace": "shop"}]}


def role(name="app", kind="Role", namespace="shop", rules=None, labels=None, aggregate=None) -> dict:
    document = {"apiVersion": RBAC, "kind": kind,
                "metadata": meta(name, namespace if kind == "Role" else None, **({"labels": labels} if labels else {})),
                "rules": rules if rules is not None else [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}
    if aggregate:
        document["aggregationRule"] = {"clusterRoleSelectors": [{"matchLabels": aggregate}]}
    return document


def netpol(name="np", namespace="shop", selector=None, **spec) -> dict:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta(name, namespace),
            "spec": {"podSelector": selector if selector is not None else {}, **spec}}


def pdb(name="web", namespace="shop", selector=None, **spec) -> dict:
    document = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": meta(name, namespace),
                "spec": dict(spec)}
    if selector is not None:
        document["spec"]["selector"] = selector
    return document


def service(name="web", namespace="shop", selector=None, ports=None) -> dict:
    spec = {"ports": ports or [{"name": "http", "port": 80}]}
    if selector is not None:
        spec["selector"] = selector
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta(name, namespace), "spec": spec}


def hpa(name="web", namespace="shop", kind="Deployment", target="web", minimum=None) -> dict:
    spec = {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": kind, "name": target}, "maxReplicas": 5}
    if minimum is not None:
        spec["minReplicas"] = minimum
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": meta(name, namespace),
            "spec": spec}


def simple(kind: str, name: str, namespace: str | None = "shop") -> dict:
    return {"apiVersion": "v1", "kind": kind, "metadata": meta(name, namespace)}


# --- bindings -> roles ------------------------------------------------------------------------

def test_a_role_binding_relates_to_the_role_of_its_namespace():
    assert refs(related("roles", binding(), role(), role(namespace="billing"))) == ["Role/shop/app"]


def test_a_role_not_in_the_scan_is_an_item_not_in_scan():
    assert refs(related("roles", binding(), role(namespace="billing"))) == ["Role/shop/app (not in scan)"]
    assert refs(related("roles", binding(role_kind="ClusterRole"), role())) == ["ClusterRole/app (not in scan)"]


def test_a_role_binding_may_bind_a_cluster_role():
    items = related("roles", binding(role_kind="ClusterRole", role="view"), role("view", kind="ClusterRole"))
    assert refs(items) == ["ClusterRole/view"]
    assert items[0]["rules"][0]["source"]["ref"] == "ClusterRole/view"
    assert items[0]["aggregated"] is False


def test_an_aggregated_cluster_role_grants_the_rules_of_the_roles_it_selects_transitively():
    items = related("roles",
                    binding("ClusterRoleBinding", role_kind="ClusterRole", role="ops"),
                    role("ops", kind="ClusterRole", rules=[], aggregate={"agg/ops": "true"}),
                    role("middle", kind="ClusterRole", rules=[{"verbs": ["list"], "resources": ["secrets"]}],
                         labels={"agg/ops": "true"}, aggregate={"agg/middle": "true"}),
                    role("leaf", kind="ClusterRole", rules=[{"verbs": ["create"], "resources": ["pods/exec"]}],
                         labels={"agg/middle": "true"}),
                    role("other", kind="ClusterRole", labels={"agg/view": "true"}))
    [ops] = items
    assert ops["aggregated"] is True
    assert [(r["source"]["name"], r["resources"]) for r in ops["rules"]] == [
        ("middle", ["secrets"]), ("leaf", ["pods/exec"])]


def test_only_bindings_have_roles():
    assert related("roles", role(), binding()) == []


# --- bindings <-> workloads through service accounts ------------------------------------------

def test_a_binding_relates_to_the_workloads_running_as_its_service_account():
    documents = (binding(), deployment("web", spec={"serviceAccountName": "web", "containers": []}),
                 deployment("api", spec={"serviceAccountName": "api", "containers": []}),
                 deployment("other", namespace="billing", spec={"serviceAccountName": "web", "containers": []}))
    assert refs(related("subjectWorkloads", *documents)) == ["Deployment/shop/web"]
    assert refs(related("bindings", *documents, subject=1)) == ["RoleBinding/shop/app"]
    assert related("bindings", *documents, subject=2) == []
    assert related("bindings", *documents, subject=3) == []


def test_a_service_account_subject_defaults_to_the_binding_namespace():
    documents = (binding(subjects=[{"kind": "ServiceAccount", "name": "default"}]), deployment("web"))
    assert refs(related("subjectWorkloads", *documents)) == ["Deployment/shop/web"]


def test_groups_of_service_accounts_reach_their_workloads():
    everyone = binding("ClusterRoleBinding", subjects=[{"kind": "Group", "name": "system:serviceaccounts"}])
    shop = binding("ClusterRoleBinding", subjects=[{"kind": "Group", "name": "system:serviceaccounts:shop"}])
    users = binding("ClusterRoleBinding", subjects=[{"kind": "User", "name": "jane"}])
    workloads = (deployment("web"), deployment("api", namespace="billing"))
    assert refs(related("subjectWorkloads", everyone, *workloads)) == ["Deployment/shop/web", "Deployment/billing/api"]
    assert refs(related("subjectWorkloads", shop, *workloads)) == ["Deployment/shop/web"]
    assert related("subjectWorkloads", users, *workloads) == []
    assert refs(related("bindings", *workloads, shop, subject=0)) == ["ClusterRoleBinding/app"]


def test_a_service_account_relates_to_the_bindings_naming_it():
    assert refs(related("bindings", simple("ServiceAccount", "web"), binding())) == ["RoleBinding/shop/app"]
    assert related("bindings", simple("ServiceAccount", "api"), binding()) == []


# --- network policies -------------------------------------------------------------------------

def test_network_policies_select_workloads_by_pod_template_labels_in_their_namespace():
    documents = (deployment("web", labels={"app": "web", "tier": "front"}),
                 netpol("all"), netpol("web", selector={"matchLabels": {"app": "web"}}),
                 netpol("front", selector={"matchExpressions": [{"key": "tier", "operator": "In", "values": ["front"]}]}),
                 netpol("api", selector={"matchLabels": {"app": "api"}}),
                 netpol("elsewhere", namespace="billing"))
    assert [i["name"] for i in related("networkPolicies", *documents)] == ["all", "web", "front"]
    assert refs(related("selectedWorkloads", *documents, subject=2)) == ["Deployment/shop/web"]
    assert related("selectedWorkloads", *documents, subject=4) == []


def test_a_network_policy_gets_its_effective_policy_types():
    items = related("networkPolicies", deployment(), netpol("in"), netpol("out", egress=[{}]),
                    netpol("explicit", policyTypes=["Egress"]))
    assert [(i["name"], i["policyTypes"]) for i in items] == [
        ("in", ["Ingress"]), ("out", ["Ingress", "Egress"]), ("explicit", ["Egress"])]


def test_a_namespace_relates_to_its_network_policies_and_workloads():
    documents = (simple("Namespace", "shop", None), netpol("np"), netpol("np", namespace="billing"),
                 deployment("web"), deployment("api", namespace=None))
    assert refs(related("networkPolicies", *documents)) == ["NetworkPolicy/shop/np"]
    assert refs(related("workloads", *documents)) == ["Deployment/shop/web"]
    assert related("networkPolicies", simple("Namespace", "empty", None), netpol()) == []


# --- autoscalers, disruption budgets, services, ingresses --------------------------------------

def test_an_autoscaler_relates_to_its_scale_target():
    documents = (hpa(), deployment("web"), deployment("web", namespace="billing"), deployment("web", kind="StatefulSet"))
    assert refs(related("scaleTarget", *documents)) == ["Deployment/shop/web"]
    assert refs(related("scaledBy", *documents, subject=1)) == ["HorizontalPodAutoscaler/shop/web"]
    assert related("scaledBy", *documents, subject=2) == []
    assert related("scaledBy", *documents, subject=3) == []
    assert refs(related("scaleTarget", hpa(target="gone"))) == ["Deployment/shop/gone (not in scan)"]
    assert related("scaleTarget", hpa())[0]["inScan"] is False


def test_an_autoscaler_item_carries_its_replica_range():
    [item] = related("scaledBy", deployment(), hpa(), subject=0)
    assert (item["minReplicas"], item["maxReplicas"]) == (1, 5)


def test_disruption_budgets_select_workloads():
    documents = (deployment("web", replicas=3), pdb("web", selector={"matchLabels": {"app": "web"}}),
                 pdb("none"), pdb("all", selector={}), pdb("api", selector={"matchLabels": {"app": "api"}}),
                 pdb("other", namespace="billing", selector={}))
    assert [i["name"] for i in related("disruptionBudgets", *documents)] == ["web", "all"]
    assert refs(related("selectedWorkloads", *documents, subject=1)) == ["Deployment/shop/web"]
    assert related("selectedWorkloads", *documents, subject=2) == []  # no selector: selects nothing
    assert related("selectedWorkloads", *documents, subject=4) == []
    assert related("selectedWorkloads", *documents, subject=1)[0]["replicas"] == 3


def test_services_select_workloads_and_ingresses_route_to_services():
    ingress = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta("web"),
               "spec": {"defaultBackend": {"service": {"name": "errors", "port": {"number": 80}}},
                        "rules": [{"http": {"paths": [{"path": "/", "backend": {"service": {
                            "name": "web", "port": {"name": "http"}}}}]}}]}}
    documents = (deployment("web", labels={"app": "web", "v": "1"}), service("web", selector={"app": "web"}),
                 service("api", selector={"app": "api"}), service("manual"), ingress,
                 service("web", namespace="billing", selector={"app": "web"}))
    assert refs(related("services", *documents)) == ["Service/shop/web"]
    assert refs(related("selectedWorkloads", *documents, subject=1)) == ["Deployment/shop/web"]
    assert related("selectedWorkloads", *documents, subject=2) == []
    assert related("selectedWorkloads", *documents, subject=3) == []
    items = related("services", *documents, subject=4)
    assert refs(items) == ["Service/shop/errors (not in scan)", "Service/shop/web"]
    assert [i["port"] for i in items] == [80, "http"]
    assert refs(related("ingresses", *documents, subject=1)) == ["Ingress/shop/web"]
    assert related("ingresses", *documents, subject=2) == []


def test_labels_written_as_numbers_or_booleans_match_as_text():
    documents = (deployment("web", labels={"version": 2, "canary": True}),
                 service("web", selector={"version": "2", "canary": "true"}))
    assert refs(related("services", *documents)) == ["Service/shop/web"]


# --- workload -> referenced objects -------------------------------------------------------------

POD = {"serviceAccountName": "web", "imagePullSecrets": [{"name": "registry"}],
       "volumes": [{"name": "a", "configMap": {"name": "settings"}}, {"name": "b", "secret": {"secretName": "tls"}},
                   {"name": "c", "persistentVolumeClaim": {"claimName": "data"}},
                   {"name": "d", "projected": {"sources": [{"configMap": {"name": "extra", "optional": True}},
                                                          {"secret": {"name": "token"}}]}}],
       "initContainers": [{"name": "init", "envFrom": [{"configMapRef": {"name": "init-env"}}]}],
       "containers": [{"name": "app", "env": [{"name": "P", "valueFrom": {"secretKeyRef": {"name": "db", "key": "p"}}},
                                              {"name": "M", "valueFrom": {"configMapKeyRef": {"name": "settings",
                                                                                              "key": "m"}}}]}]}


def test_a_workload_relates_to_what_its_pod_template_refers_to():
    documents = (deployment("web", spec=POD), simple("ConfigMap", "settings"), simple("Secret", "tls"),
                 simple("PersistentVolumeClaim", "data"), simple("ServiceAccount", "web"),
                 simple("ConfigMap", "init-env", namespace="billing"))
    config_maps = related("configMaps", *documents)
    assert refs(config_maps) == ["ConfigMap/shop/settings", "ConfigMap/shop/extra (not in scan)",
                                 "ConfigMap/shop/init-env (not in scan)"]
    assert [i["optional"] for i in config_maps] == [False, True, False]
    assert refs(related("secrets", *documents)) == ["Secret/shop/tls", "Secret/shop/token (not in scan)",
                                                    "Secret/shop/db (not in scan)", "Secret/shop/registry (not in scan)"]
    assert refs(related("persistentVolumeClaims", *documents)) == ["PersistentVolumeClaim/shop/data"]
    assert refs(related("serviceAccount", *documents)) == ["ServiceAccount/shop/web"]


def test_a_workload_without_references_relates_to_the_default_service_account_only():
    documents = (deployment("web"),)
    assert related("configMaps", *documents) == [] and related("secrets", *documents) == []
    assert refs(related("serviceAccount", *documents)) == ["ServiceAccount/shop/default (not in scan)"]


def test_a_cronjob_and_a_configured_kind_are_read_through_their_pod_templates():
    cron = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta("report"),
            "spec": {"jobTemplate": {"spec": {"template": {"metadata": {"labels": {"app": "report"}},
                                                           "spec": {"serviceAccountName": "report"}}}}}}
    assert refs(related("serviceAccount", cron, simple("ServiceAccount", "report"))) == ["ServiceAccount/shop/report"]
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": meta("w"),
              "spec": {"pod": {"metadata": {"labels": {"app": "w"}}, "spec": {"serviceAccountName": "w"}}}}
    assert inventory.entry(scan(widget)[0][0]).facts == {"custom": True}  # counted, not a workload
    configure_pod_templates({"Widget": ("spec", "pod")})
    try:
        assert refs(related("networkPolicies", widget, netpol())) == ["NetworkPolicy/shop/np"]
    finally:
        configure_pod_templates({})


# --- namespaces -------------------------------------------------------------------------------

def test_an_object_relates_to_its_namespace_with_counts():
    documents = (deployment("web"), {"apiVersion": "v1", "kind": "Namespace",
                                     "metadata": {"name": "shop", "labels": {"pod-security.kubernetes.io/enforce": "restricted"}}},
                 netpol(), service("web", selector={"app": "web"}), deployment("api", namespace="billing"))
    [item] = related("namespace", *documents)
    assert item["ref"] == "Namespace/shop" and item["inScan"] is True
    assert item["labels"] == {"pod-security.kubernetes.io/enforce": "restricted"}
    assert (item["workloads"], item["networkPolicies"], item["services"]) == (1, 1, 1)
    [other] = related("namespace", *documents, subject=4)
    assert other["inScan"] is False and other["workloads"] == 1 and other["labels"] == {}
    assert item["customResources"] == 0 and other["customResources"] == 0


def test_a_namespace_counts_the_custom_resources_an_operator_may_make_pods_from():
    prometheus = {"apiVersion": "monitoring.coreos.com/v1", "kind": "Prometheus",
                  "metadata": {"name": "k8s", "namespace": "shop"}}
    gateway = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
               "metadata": {"name": "edge", "namespace": "shop"}}
    [item] = related("namespace", deployment("web"), prometheus, gateway)
    assert item["customResources"] == 1  # Kubernetes' own API groups are not custom
    [elsewhere] = related("namespace", deployment("web"), dict(prometheus, metadata={"name": "k8s", "namespace": "x"}))
    assert elsewhere["customResources"] == 0


def test_objects_without_a_namespace_share_one_unnamed_namespace():
    documents = (deployment("web", namespace=None), netpol(namespace=None), netpol("named"),
                 simple("Namespace", "default", None))
    assert refs(related("networkPolicies", *documents)) == ["NetworkPolicy/np"]
    [item] = related("namespace", *documents)
    assert item["inScan"] is False and item["name"] == "" and item["workloads"] == 1


def test_cluster_scoped_objects_have_no_namespace_item():
    assert related("namespace", role("view", kind="ClusterRole")) == []


@pytest.mark.parametrize("relation", sorted(inventory.RELATIONS))
def test_every_relation_gives_nothing_for_an_object_it_does_not_start_from(relation):
    documents = (simple("ConfigMap", "settings"),)
    expected = ([{"ref": "Namespace/shop", "kind": "Namespace", "name": "shop", "inScan": False, "labels": {},
                  "workloads": 0, "networkPolicies": 0, "services": 0, "customResources": 0}]
                if relation == "namespace" else [])
    assert related(relation, *documents) == expected


def test_a_resource_without_an_entry_has_empty_relations():
    resources, built = scan({"apiVersion": "v1", "kind": "LimitRange", "metadata": meta("limits")})
    assert built.related(resources[0], ["roles", "namespace"]) == {"roles": [], "namespace": []}


# --- ports and autoscalers of selected workloads ------------------------------------------------

def test_a_workload_declares_the_ports_of_its_containers_and_sidecars():
    spec = {"containers": [{"name": "app", "image": "a", "ports": [{"name": "http", "containerPort": 8080},
                                                                     {"containerPort": 53, "protocol": "UDP"},
                                                                     {"name": "bad", "containerPort": "80"}]}],
            "initContainers": [{"name": "proxy", "image": "p", "restartPolicy": "Always",
                                "ports": [{"name": "admin", "containerPort": 15000}]},
                               {"name": "migrate", "image": "m", "ports": [{"name": "db", "containerPort": 5432}]}],
            "ephemeralContainers": [{"name": "debug", "image": "d"}]}
    [item] = related("selectedWorkloads", service("web", selector={"app": "web"}), deployment(spec=spec))
    assert item["containerPorts"] == [
        {"container": "app", "containerPort": 8080, "protocol": "TCP", "name": "http"},
        {"container": "app", "containerPort": 53, "protocol": "UDP"},
        {"container": "proxy", "containerPort": 15000, "protocol": "TCP", "name": "admin"}]
    [plain] = related("selectedWorkloads", service("web", selector={"app": "web"}), deployment())
    assert plain["containerPorts"] == []


def test_a_service_port_carries_its_protocol():
    [item] = related("services", deployment(), service("web", selector={"app": "web"}, ports=[
        {"name": "dns", "port": 53, "targetPort": "dns", "protocol": "UDP"}, {"name": "http", "port": 80}]))
    assert item["ports"] == [{"name": "dns", "port": 53, "targetPort": "dns", "protocol": "UDP"},
                             {"name": "http", "port": 80, "protocol": "TCP"}]


def test_selected_workloads_carry_the_autoscalers_scaling_them():
    documents = (pdb("web", selector={"matchLabels": {"app": "web"}}), deployment("web"), hpa(minimum=2),
                 hpa("other", target="api"), hpa("elsewhere", namespace="billing"))
    [item] = related("selectedWorkloads", *documents)
    assert item["autoscalers"] == [{"name": "web", "minReplicas": 2, "maxReplicas": 5}]
    [alone] = related("selectedWorkloads", pdb("web", selector={}), deployment("web"))
    assert alone["autoscalers"] == []


def test_network_policy_peers_select_workloads_of_its_namespace():
    policy = netpol("db", selector={"matchLabels": {"app": "db"}},
                    ingress=[{"from": [{"podSelector": {"matchLabels": {"app": "web"}}},
                                       {"podSelector": {"matchLabels": {"app": "gone"}}},
                                       {"podSelector": {}},
                                       {"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": "x"}}},
                                       {"ipBlock": {"cidr": "10.0.0.0/8"}}]}],
                    egress=[{"to": [{"podSelector": {"matchExpressions": [{"key": "tier", "operator": "Exists"}]}}]}])
    documents = (policy, deployment("web"), deployment("api", labels={"app": "api", "tier": "back"}),
                 deployment("web", namespace="billing"))
    peers = related("peers", *documents)
    assert [(p["direction"], p["podSelector"], refs(p["workloads"])) for p in peers] == [
        ("ingress", {"matchLabels": {"app": "web"}}, ["Deployment/shop/web"]),
        ("ingress", {"matchLabels": {"app": "gone"}}, []),
        ("egress", {"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, ["Deployment/shop/api"])]
    assert related("peers", netpol("open")) == []


def test_a_stateful_set_relates_to_its_governing_service():
    stateful = deployment("db", kind="StatefulSet")
    stateful["spec"]["serviceName"] = "db-headless"
    headless = service("db-headless", selector={"app": "db"})
    headless["spec"]["clusterIP"] = "None"
    documents = (stateful, headless, service("db", selector={"app": "db"}),
                 service("db-headless", namespace="billing"))
    [item] = related("governingService", *documents)
    assert (item["ref"], item["headless"]) == ("Service/shop/db-headless", True)
    assert related("services", *documents)[1]["headless"] is False
    assert refs(related("governingService", stateful)) == ["Service/shop/db-headless (not in scan)"]
    assert related("governingService", deployment("db", kind="StatefulSet")) == []
    assert related("governingService", deployment("web"), service("web")) == []
