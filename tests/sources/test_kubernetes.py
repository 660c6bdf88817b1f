"""Kubernetes manifests: documents, JSON, lists, Helm sources, skipped documents, positions."""

import json
import logging
import textwrap

from validator.model import InputProblem, Location, Resource
from validator.sources.kubernetes import HELM_SOURCE, parse_manifests


def parse(text: str, display: str = "app.yaml") -> list[Resource | InputProblem]:
    return list(parse_manifests(textwrap.dedent(text), display))


def resources(text: str, display: str = "app.yaml") -> list[Resource]:
    items = parse(text, display)
    assert all(isinstance(item, Resource) for item in items), items
    return items


DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  template:
    spec:
      containers:
        - name: app
          image: nginx:1.27
          securityContext:
            privileged: true
        - name: sidecar
          image: envoy:1.31
"""

PRIVILEGED = ("spec", "template", "spec", "containers", 0, "securityContext", "privileged")


def test_a_manifest_becomes_a_resource_with_identity_and_document():
    [resource] = resources(DEPLOYMENT)
    assert (resource.kind, resource.api_version, resource.api_group) == ("Deployment", "apps/v1", "apps")
    assert (resource.name, resource.namespace, resource.ref) == ("web", "shop", "Deployment/shop/web")
    assert resource.path == "app.yaml" and resource.doc_index == 0 and resource.metadata == {}
    assert resource.document["spec"]["template"]["spec"]["containers"][1]["name"] == "sidecar"


def test_multi_document_files_give_one_resource_per_document_in_order():
    text = DEPLOYMENT + "---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\n---\n---\n" + \
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: ''}\n"
    items = resources(text)
    assert [(r.kind, r.doc_index) for r in items] == [("Deployment", 0), ("Service", 1), ("ConfigMap", 2)]
    assert items[1].namespace is None and items[2].namespace is None
    assert items[2].locate(("metadata", "name")) == Location("app.yaml", 24, 12)


def test_a_json_object():
    text = json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                       "spec": {"containers": [{"name": "c", "securityContext": {"privileged": True}}]}}, indent=4)
    [resource] = resources(text, "pod.json")
    assert resource.ref == "Pod/p"
    assert resource.locate(("spec", "containers", 0, "securityContext", "privileged")) == Location("pod.json", 12, 21)


def test_kubectl_list_output_in_json_gives_its_items():
    listing = {
        "apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""},
        "items": [
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "x"}},
            {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "b"},
             "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "nginx"}]}}}},
        ],
    }
    items = resources(json.dumps(listing, indent=4), "dump.json")
    assert [(r.ref, r.doc_index) for r in items] == [("ConfigMap/x/a", 0), ("Deployment/b", 1)]
    # positions are inside the item, not at the top of the list
    assert items[1].locate(("metadata", "name")) == Location("dump.json", 20, 17)
    assert items[1].locate(()) == Location("dump.json", 16, 9)


def test_typed_lists_give_their_items_and_skip_items_that_are_not_objects(caplog):
    caplog.set_level(logging.DEBUG, logger="validator")
    items = resources("""\
        apiVersion: apps/v1
        kind: DeploymentList
        items:
          - apiVersion: apps/v1
            kind: Deployment
            metadata: {name: one}
          - just a string
          - apiVersion: apps/v1
            kind: Deployment
            metadata: {name: two}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: after}
        """)
    assert [(r.ref, r.doc_index) for r in items] == [("Deployment/one", 0), ("Deployment/two", 1), ("ConfigMap/after", 2)]
    assert items[1].locate(("metadata", "name")) == Location("app.yaml", 10, 16)
    assert "skipping items[1]: not a Kubernetes object" in caplog.text


def test_a_kind_ending_in_list_without_items_is_an_ordinary_resource():
    [resource] = resources("apiVersion: example.com/v1\nkind: AllowList\nmetadata: {name: a}\nspec: {}\n")
    assert resource.kind == "AllowList"


def test_helm_source_comments_are_kept_for_the_documents_that_follow_them():
    items = resources("""\
        ---
        # Source: shop/templates/deployment.yaml
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        ---
        # Source: shop/templates/service.yaml
        apiVersion: v1
        kind: Service
        metadata: {name: web}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: no-comment}
        ---
        # Source: shop/templates/list.yaml
        apiVersion: v1
        kind: List
        items:
          - {apiVersion: v1, kind: ConfigMap, metadata: {name: in-list}}
        """)
    assert [(r.name, r.metadata.get(HELM_SOURCE)) for r in items] == [
        ("web", "shop/templates/deployment.yaml"),
        ("web", "shop/templates/service.yaml"),
        ("no-comment", None),
        ("in-list", "shop/templates/list.yaml"),
    ]


def test_documents_that_are_not_kubernetes_objects_are_skipped_with_a_debug_note(caplog):
    caplog.set_level(logging.DEBUG, logger="validator")
    items = resources("""\
        replicaCount: 2
        image: {repository: nginx}
        ---
        kind: Deployment
        ---
        apiVersion: v1
        kind: ""
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: real}
        """, "values.yaml")
    assert [r.ref for r in items] == ["ConfigMap/real"]
    notes = [r.getMessage() for r in caplog.records]
    assert notes == [f"values.yaml:{line}: skipping a document that is not a Kubernetes object" for line in (1, 4, 6)]


def test_a_document_that_is_a_scalar_or_a_list_is_an_input_error():
    items = parse("just some text\n---\n- a\n- b\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n")
    assert items[:2] == [
        InputProblem("app.yaml", "expected a Kubernetes object (a mapping), found a string", 1),
        InputProblem("app.yaml", "expected a Kubernetes object (a mapping), found a list", 3),
    ]
    assert items[2].ref == "ConfigMap/ok"


def test_metadata_kubernetes_could_not_read_is_an_input_error():
    items = parse("""\
        apiVersion: v1
        kind: ConfigMap
        metadata: oops
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: [a]
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: ok
          namespace: 42
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: fine}
        """)
    assert items[:3] == [
        InputProblem("app.yaml", "ConfigMap: metadata must be a mapping, not a string", 3),
        InputProblem("app.yaml", "ConfigMap: metadata.name must be a string, not a list", 8),
        InputProblem("app.yaml", "ConfigMap: metadata.namespace must be a string, not a number", 14),
    ]
    assert items[3].ref == "ConfigMap/fine"


def test_a_resource_without_metadata_has_no_name():
    [resource] = resources("apiVersion: v1\nkind: Namespace\n")
    assert (resource.name, resource.namespace, resource.ref) == ("", None, "Namespace/")


def test_syntax_errors_name_yaml_or_json_as_written():
    [yaml_error] = parse("a: [1\n", "bad.yaml")
    [json_error] = parse('{"a": \n', "bad.json")
    assert yaml_error.message.startswith("invalid YAML: ") and yaml_error.line == 2
    assert json_error.message.startswith("invalid JSON: ") and json_error.line == 2


# The locator


def test_the_locator_points_at_the_key_of_the_field():
    [resource] = resources(DEPLOYMENT)
    assert resource.locate(PRIVILEGED) == Location("app.yaml", 13, 13)
    assert resource.locate(("metadata", "name")) == Location("app.yaml", 4, 3)


def test_the_locator_falls_back_to_the_nearest_existing_parent():
    [resource] = resources(DEPLOYMENT)
    sidecar = ("spec", "template", "spec", "containers", 1)
    assert resource.locate(sidecar + ("securityContext", "privileged")) == Location("app.yaml", 14, 11)
    assert resource.locate(("spec", "template", "metadata", "labels")) == Location("app.yaml", 7, 3)
    assert resource.locate(()) == Location("app.yaml", 1, 1)


def test_the_locator_counts_lines_from_the_top_of_the_file():
    [_, resource] = resources("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n" + DEPLOYMENT)
    assert resource.locate(PRIVILEGED) == Location("app.yaml", 17, 13)
    assert resource.locate(()) == Location("app.yaml", 5, 1)


def test_the_locator_follows_anchors_and_merge_keys():
    [resource] = resources("""\
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        x-defaults: &defaults
          image: nginx:1.27
          securityContext:
            privileged: true
        spec:
          template:
            spec:
              containers:
                - <<: *defaults
                  name: app
        """)
    containers = ("spec", "template", "spec", "containers")
    assert resource.document["spec"]["template"]["spec"]["containers"][0]["securityContext"] == {"privileged": True}
    assert resource.locate(PRIVILEGED) == Location("app.yaml", 7, 5)
    assert resource.locate(containers + (0, "name")) == Location("app.yaml", 13, 11)


def test_null_fields_are_dropped_as_the_api_server_does():
    [resource] = resources("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels:\nspec: {nodeName: null}\n")
    assert resource.document == {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {}}


# Real manifests (see tests/SOURCES.tsv)


def test_a_real_multi_document_manifest_loads_whole(data_dir):
    text = (data_dir / "istio-bookinfo.yaml").read_text(encoding="utf-8")
    items = resources(text, "bookinfo.yaml")
    assert len(items) == 14
    assert sum(r.kind == "Deployment" for r in items) == 6
    product_page = items[-1]
    assert product_page.ref == "Deployment/productpage-v1"
    container = ("spec", "template", "spec", "containers", 0)
    assert product_page.locate(container + ("image",)) == Location("bookinfo.yaml", 325, 9)
    assert product_page.locate(container + ("securityContext", "privileged")) == Location("bookinfo.yaml", 324, 9)


def test_an_unrendered_helm_template_is_one_clean_error(data_dir):
    text = (data_dir / "podinfo-deployment-template.yaml").read_text(encoding="utf-8")
    assert parse(text, "deployment.yaml") == [InputProblem(
        "deployment.yaml", "invalid YAML: while parsing a flow node, did not find expected node content", 7)]


def test_an_internal_error_on_one_file_is_an_input_error_not_a_crash(monkeypatch, caplog):
    def broken(*args):
        raise KeyError("a value from the input")

    caplog.set_level(logging.DEBUG, logger="validator")
    monkeypatch.setattr("validator.sources.kubernetes._resources", broken)
    assert parse(DEPLOYMENT) == [InputProblem("app.yaml", "could not be read: internal error (KeyError)")]
    assert "KeyError at " in caplog.text and "a value from the input" not in caplog.text
