"""Gatekeeper's runtime context from the scan: data.inventory for referential templates and
match.namespaceSelector against the scan's Namespace objects."""

import json
import re
import textwrap
from pathlib import Path

import pytest

from validator.engine.library import load_each
from validator.engine.policy import PolicyError
from validator.inventory import build_from, entries
from validator.inventory.gatekeeper import REDACTED, RELATION, is_synced
from validator.model import Resource
from validator.pipeline import codec
from validator.sources.kubernetes import parse_manifests

from tests.helpers import tdv

pytest.importorskip("regorus", reason="the Rego extra is not installed (pip install '.[rego]')")

UNIQUE_SELECTOR = textwrap.dedent("""\
    apiVersion: templates.gatekeeper.sh/v1
    kind: ConstraintTemplate
    metadata:
      name: uniqueselector
      annotations:
        metadata.gatekeeper.sh/requires-sync-data: |
          "[[{"groups": [""], "versions": ["v1"], "kinds": ["Service"]}]]"
    spec:
      crd: {spec: {names: {kind: UniqueSelector}}}
      targets:
        - target: admission.k8s.gatekeeper.sh
          rego: |
            package uniqueselector
            itself(namespace, name) {
              namespace == input.review.namespace
              name == input.review.name
            }
            violation[{"msg": msg}] {
              input.review.kind.kind == "Service"
              other := data.inventory.namespace[namespace]["v1"]["Service"][name]
              not itself(namespace, name)
              other.spec.selector == input.review.object.spec.selector
              msg := sprintf("same selector as service %v/%v", [namespace, name])
            }
    ---
    apiVersion: constraints.gatekeeper.sh/v1beta1
    kind: UniqueSelector
    metadata: {name: services}
    """)

NEEDS_BUDGET = textwrap.dedent("""\
    apiVersion: templates.gatekeeper.sh/v1
    kind: ConstraintTemplate
    metadata:
      name: needsbudget
      annotations:
        metadata.gatekeeper.sh/requires-sync-data: |
          "[[{"groups": ["policy"], "versions": ["v1"], "kinds": ["PodDisruptionBudget"]}]]"
    spec:
      crd: {spec: {names: {kind: NeedsBudget}}}
      targets:
        - target: admission.k8s.gatekeeper.sh
          rego: |
            package needsbudget
            covered(obj) {
              budget := data.inventory.namespace[obj.metadata.namespace]["policy/v1"].PodDisruptionBudget[_]
              budget.spec.selector.matchLabels[key] == obj.spec.template.metadata.labels[key]
            }
            violation[{"msg": msg}] {
              input.review.kind.kind == "Deployment"
              not covered(input.review.object)
              msg := sprintf("%v has no PodDisruptionBudget", [input.review.name])
            }
    ---
    apiVersion: constraints.gatekeeper.sh/v1beta1
    kind: NeedsBudget
    metadata: {name: budgets}
    spec:
      match:
        kinds: [{apiGroups: [apps], kinds: [Deployment]}]
    """)

SECRET_PEEK = textwrap.dedent("""\
    apiVersion: templates.gatekeeper.sh/v1
    kind: ConstraintTemplate
    metadata:
      name: secretpeek
      annotations:
        metadata.gatekeeper.sh/requires-sync-data: |
          "[[{"groups": [""], "versions": ["v1"], "kinds": ["Secret"]}]]"
    spec:
      crd: {spec: {names: {kind: SecretPeek}}}
      targets:
        - target: admission.k8s.gatekeeper.sh
          rego: |
            package secretpeek
            violation[{"msg": msg}] {
              input.review.kind.kind == "ConfigMap"
              secret := data.inventory.namespace[_]["v1"]["Secret"][_]
              msg := sprintf("sees %v", [secret.data.password])
            }
    ---
    apiVersion: constraints.gatekeeper.sh/v1beta1
    kind: SecretPeek
    metadata: {name: peek}
    """)

MANIFESTS = textwrap.dedent("""\
    apiVersion: v1
    kind: Service
    metadata: {name: web, namespace: shop}
    spec: {selector: {app: web}}
    ---
    apiVersion: v1
    kind: Service
    metadata: {name: web-copy, namespace: shop}
    spec: {selector: {app: web}}
    ---
    apiVersion: v1
    kind: Service
    metadata: {name: api, namespace: shop}
    spec: {selector: {app: api}}
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web, namespace: shop}
    spec: {template: {metadata: {labels: {app: web}}}}
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: api, namespace: shop}
    spec: {template: {metadata: {labels: {app: api}}}}
    ---
    apiVersion: policy/v1
    kind: PodDisruptionBudget
    metadata: {name: web, namespace: shop}
    spec: {minAvailable: 1, selector: {matchLabels: {app: web}}}
    ---
    apiVersion: v1
    kind: Secret
    metadata: {name: db, namespace: shop}
    data: {password: aHVudGVyMg==}
    ---
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: settings, namespace: shop}
    data: {}
    """)


def scan(tmp_path: Path, policies: str, manifests: str = MANIFESTS, *args: str):
    directory = tmp_path / "policies"
    directory.mkdir(exist_ok=True)
    (directory / "gatekeeper.yaml").write_text(policies)
    (tmp_path / "app.yaml").write_text(manifests)
    [kind] = [k for k in re.findall(r"^kind: (\w+)$", policies, re.MULTILINE) if k != "ConstraintTemplate"]
    result = tdv("scan", str(tmp_path / "app.yaml"), "--policies", str(directory), "--policy", f"{kind.upper()}-*",
                 "-o", "json", *args)
    report = json.loads(result.stdout)
    return result, sorted((f["resource"]["ref"], f["message"]) for f in report["findings"]), report


def test_a_referential_template_sees_the_scan_objects_of_its_kinds(tmp_path):
    _, found, report = scan(tmp_path, UNIQUE_SELECTOR)
    assert found == [("Service/shop/web", "same selector as service shop/web-copy"),
                     ("Service/shop/web-copy", "same selector as service shop/web")]
    assert report["summary"]["errors"] == 0


def test_a_resource_of_another_kind_reads_the_synced_objects(tmp_path):
    # Deployments are not synced (no entry of their own is needed); budgets are.
    _, found, _ = scan(tmp_path, NEEDS_BUDGET)
    assert found == [("Deployment/shop/api", "api has no PodDisruptionBudget")]


def test_secret_values_are_redacted_in_the_inventory(tmp_path):
    _, found, _ = scan(tmp_path, SECRET_PEEK)
    assert found == [("ConfigMap/shop/settings", f"sees {REDACTED}")]


def test_only_the_synced_kinds_are_kept_whole(tmp_path):
    [policy] = load_each([_write(tmp_path, NEEDS_BUDGET)], include_builtin=False)
    assert policy.relations == (RELATION,)
    assert is_synced("policy", "PodDisruptionBudget") and not is_synced("", "ConfigMap")
    resources = [r for r in parse_manifests(MANIFESTS, "app.yaml") if isinstance(r, Resource)]
    kept = {e.kind: bool(e.whole) for e in entries(resources, (RELATION,))}
    assert kept["PodDisruptionBudget"] and "ConfigMap" not in kept
    # The Kubernetes facts stay in the entry, and the whole object travels to the main process.
    [budget] = [e for e in build_from(resources).entries if e.kind == "PodDisruptionBudget"]
    assert budget.facts["selector"]["matchLabels"] == {"app": "web"} and budget.api_version == "policy/v1"
    [copy] = codec.decode(codec.encode([budget], []), [])
    assert copy.whole == budget.whole and json.loads(copy.whole)["spec"]["minAvailable"] == 1


def test_a_malformed_sync_annotation_is_an_error(tmp_path):
    broken = NEEDS_BUDGET.replace('"[[{"groups": ["policy"]', '"[{"groups": ["policy"]')
    [error] = load_each([_write(tmp_path, broken)], include_builtin=False)
    assert isinstance(error, PolicyError) and "requires-sync-data is not a JSON list of lists" in str(error)


def _write(tmp_path: Path, text: str) -> Path:
    directory = tmp_path / "policies"
    directory.mkdir(exist_ok=True)
    (directory / "gatekeeper.yaml").write_text(text)
    return directory


LABELLED = textwrap.dedent("""\
    apiVersion: templates.gatekeeper.sh/v1
    kind: ConstraintTemplate
    metadata: {name: ownerlabel}
    spec:
      crd: {spec: {names: {kind: OwnerLabel}}}
      targets:
        - target: admission.k8s.gatekeeper.sh
          rego: |
            package ownerlabel
            violation[{"msg": "no owner label"}] {
              not input.review.object.metadata.labels.owner
            }
    ---
    apiVersion: constraints.gatekeeper.sh/v1beta1
    kind: OwnerLabel
    metadata: {name: owners}
    spec:
      match:
        namespaceSelector: {matchLabels: {team: payments}}
    """)

NAMESPACED = textwrap.dedent("""\
    apiVersion: v1
    kind: Namespace
    metadata: {name: pay, labels: {team: payments}}
    ---
    apiVersion: v1
    kind: Namespace
    metadata: {name: web}
    ---
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: a, namespace: pay}
    ---
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: b, namespace: web}
    ---
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: c, namespace: elsewhere}
    ---
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: d}
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata: {name: reader}
    """)


def test_namespace_selector_is_judged_with_the_scan_namespaces(tmp_path):
    result, found, _ = scan(tmp_path, LABELLED, NAMESPACED)
    assert found == [("ClusterRole/reader", "no owner label"),  # cluster-scoped: always matched
                     ("ConfigMap/pay/a", "no owner label"),
                     ("Namespace/pay", "no owner label")]  # a Namespace by its own labels
    # `elsewhere` is not in the scan: not judged, and said once.
    assert [line for line in result.stderr.splitlines() if "namespaceSelector" in line] == [
        f"tdv: {tmp_path / 'policies' / 'gatekeeper.yaml'}: the namespaceSelector of OWNERLABEL-OWNERS cannot be evaluated"
        " for objects in namespace 'elsewhere', which is not in the scan: the constraint does not judge them"]


def test_an_object_without_namespace_is_judged_with_the_default_namespace(tmp_path):
    selects_default = LABELLED.replace("{matchLabels: {team: payments}}", "{matchLabels: {zone: a}}")
    default = "apiVersion: v1\nkind: Namespace\nmetadata: {name: default, labels: {zone: a}}\n---\n"
    _, found, _ = scan(tmp_path, selects_default, default + NAMESPACED)
    assert ("ConfigMap/d", "no owner label") in found and ("ConfigMap/pay/a", "no owner label") not in found


def test_constraints_sharing_a_referential_template_see_the_same_inventory(tmp_path):
    from validator.engine import Engine

    two = UNIQUE_SELECTOR + "---\n" + UNIQUE_SELECTOR.split("---\n")[1].replace("name: services", "name: in-shop") + \
        "spec:\n  match:\n    namespaces: [shop]\n"
    policies = load_each([_write(tmp_path, two)], include_builtin=False)
    resources = [r for r in parse_manifests(MANIFESTS, "app.yaml") if isinstance(r, Resource)]
    known = build_from(resources)

    def rows(chosen):
        return sorted((r.policy.id, r.resource.ref, tuple(v.message for v in r.violations))
                      for r in Engine.build(chosen).run(resources, known) if r.violations)

    together = rows(policies)
    assert together == sorted(rows([policies[0]]) + rows([policies[1]]))
    assert [row[:2] for row in together] == [("UNIQUESELECTOR-IN-SHOP", "Service/shop/web"),
                                             ("UNIQUESELECTOR-IN-SHOP", "Service/shop/web-copy"),
                                             ("UNIQUESELECTOR-SERVICES", "Service/shop/web"),
                                             ("UNIQUESELECTOR-SERVICES", "Service/shop/web-copy")]


def test_a_cel_template_honours_the_namespace_selector(tmp_path):
    rego = ('      rego: |\n        package ownerlabel\n        violation[{"msg": "no owner label"}] {\n'
            '          not input.review.object.metadata.labels.owner\n        }\n')
    cel = LABELLED.replace(rego, "      code:\n        - engine: K8sNativeValidation\n          source:\n"
                                 "            validations:\n              - expression: >-\n"
                                 "                  has(variables.anyObject.metadata.labels) &&\n"
                                 "                  'owner' in variables.anyObject.metadata.labels\n"
                                 "                message: no owner label\n")
    assert "K8sNativeValidation" in cel
    _, found, _ = scan(tmp_path, cel, NAMESPACED)
    assert found == [("ClusterRole/reader", "no owner label"), ("ConfigMap/pay/a", "no owner label"),
                     ("Namespace/pay", "no owner label")]
