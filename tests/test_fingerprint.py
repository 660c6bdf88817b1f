"""Fingerprints ignore lines, file paths and the order of list items, but not what they identify."""

from validator.fingerprint import fingerprint, stable_path
from validator.model import Resource

POD = {
    "spec": {
        "containers": [
            {"name": "web", "securityContext": {"capabilities": {"add": ["NET_ADMIN", "SYS_TIME"]}},
             "volumeMounts": [{"name": "data", "mountPath": "/a"}, {"name": "data", "mountPath": "/b"}]},
        ],
        "tolerations": [{"key": "gpu", "operator": "Exists"}, {"operator": "Exists"}],
    }
}


def resource(document=POD, path="a.yaml", name="web", namespace="shop"):
    return Resource("Pod", "v1", name, namespace, document, path)


def test_list_items_are_named_by_what_identifies_them():
    assert stable_path(POD, ("spec", "containers", 0)) == ".spec.containers[name=web]"
    add = ("spec", "containers", 0, "securityContext", "capabilities", "add", 1)
    assert stable_path(POD, add).endswith(".add[=SYS_TIME]")
    assert stable_path(POD, ("spec", "containers", 0, "volumeMounts", 1)).endswith("[mountPath=/b]")
    assert stable_path(POD, ("spec", "tolerations", 0)) == ".spec.tolerations[key=gpu]"
    assert stable_path(POD, ("spec", "tolerations", 1)) == ".spec.tolerations[1]"  # nothing identifies it
    assert stable_path(POD, ("spec", "containers", 5, "image")) == ".spec.containers[5].image"


def test_the_file_counts():
    moved = resource(path="elsewhere/b.yaml")
    assert fingerprint("TDV-K8S-001", resource(), ()) != fingerprint("TDV-K8S-001", moved, ())


def test_policy_resource_and_field_count():
    base = fingerprint("TDV-K8S-001", resource(), ("spec",))
    assert base != fingerprint("TDV-K8S-002", resource(), ("spec",))
    assert base != fingerprint("TDV-K8S-001", resource(name="api"), ("spec",))
    assert base != fingerprint("TDV-K8S-001", resource(namespace="prod"), ("spec",))
    assert base != fingerprint("TDV-K8S-001", resource(), ("metadata",))


def test_reordered_capabilities_keep_their_fingerprint():
    swapped = {"spec": {"containers": [{"name": "web", "securityContext": {"capabilities": {
        "add": ["SYS_TIME", "NET_ADMIN"]}}}]}}
    before = ("spec", "containers", 0, "securityContext", "capabilities", "add", 1)
    after = ("spec", "containers", 0, "securityContext", "capabilities", "add", 0)
    assert fingerprint("TDV-K8S-009", resource(), before) == fingerprint("TDV-K8S-009", resource(swapped), after)
