"""The inventory core: entries, the index, the `related` CEL variable, related locations in
reports, and what a policy file may declare."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import jsonschema
import pytest

from validator import inventory
from validator.engine import Engine
from validator.engine.library import select
from validator.engine.policy import PolicyError, parse_policy
from validator.model import Location, Resource, Status
from validator.policy_tests import run_case
from validator.report import ScanReport
from validator.reporters import json_report, sarif
from validator.reporters.attrs_json import to_json_data
from validator.sources.yaml_loader import load_documents

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"
RBAC = "rbac.authorization.k8s.io/v1"


def resources(*documents: dict, path: str = "all.yaml") -> list[Resource]:
    found = []
    for index, document in enumerate(documents):
        meta = document.get("metadata", {})
        found.append(Resource(document["kind"], document["apiVersion"], meta.get("name", ""), meta.get("namespace"),
                              document, path, index, locator=lambda p, line=10 * index + 1: _at(line)))
    return found


def _at(line: int):
    from validator.model import Position
    return Position(line, 1)


def policy(text: str):
    [document] = list(load_documents(text))
    return parse_policy(document, "policy.yaml")


SECRETS_POLICY = """
id: TDV-T-001
title: bindings must not grant secrets
severity: high
category: rbac
description: d
remediation: r
relations: [roles]
targets: {kinds: [RoleBinding, ClusterRoleBinding]}
validations:
  - expression: "!related.roles.exists(r, r.inScan && r.rules.exists(x, 'secrets' in x.resources))"
    field: roleRef
    message: grants secrets
    messageExpression: "'grants secrets through ' + related.roles[0].ref"
    relatedExpression: "related.roles.map(r, r.rules.filter(x, 'secrets' in x.resources).map(x, x.source))"
"""

BINDING = {"apiVersion": RBAC, "kind": "RoleBinding", "metadata": {"name": "reader", "namespace": "shop"},
           "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "secrets"},
           "subjects": [{"kind": "ServiceAccount", "name": "web"}]}
ROLE = {"apiVersion": RBAC, "kind": "Role", "metadata": {"name": "secrets", "namespace": "shop"},
        "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]}
SECRET = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "token", "namespace": "shop"},
          "type": "Opaque", "data": {"password": "c2VjcmV0LXZhbHVl"}, "stringData": {"key": "plain-value"}}


def test_entries_are_small_plain_and_never_hold_secret_values():
    found = inventory.entries(resources(BINDING, ROLE, SECRET))
    assert [e.ref for e in found] == ["RoleBinding/shop/reader", "Role/shop/secrets", "Secret/shop/token"]
    text = repr(pickle.loads(pickle.dumps(found)))
    assert "c2VjcmV0LXZhbHVl" not in text and "plain-value" not in text and "password" not in text
    assert found[2].facts == {"type": "Opaque"}
    assert found[1].location == Location("all.yaml", 11, 1)


def test_an_entry_keeps_its_facts_packed_and_each_read_is_a_copy():
    """A scan holds an entry per resource until the last is evaluated: the facts are kept
    marshalled, and unpacked at each read, so a relation that changes what it read changes
    nothing for the next one."""
    binding = inventory.entries(resources(BINDING))[0]
    assert type(binding.packed) is bytes
    facts = binding.facts
    assert facts["subjects"] == [{"kind": "ServiceAccount", "name": "web"}]
    facts["subjects"].clear()
    assert binding.facts["subjects"] == [{"kind": "ServiceAccount", "name": "web"}]
    assert binding.facts is not binding.facts
    assert len(binding.packed) < 200
    assert inventory.pack({}) == b"" and inventory.Entry(("a", 0), "Pod", "p", None, Location("a")).facts == {}
    odd = {"when": Location("a.yaml", 1, 1)}  # something marshal cannot write is kept as it is
    assert inventory.pack(odd) is odd


def test_kinds_no_relation_reads_have_no_entry():
    [resource] = resources({"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "x"}})
    assert inventory.entry(resource) is None


def test_the_inventory_survives_pickling_and_recomputes_relations():
    scanned = resources(BINDING, ROLE)
    built = inventory.build(inventory.entries(scanned))
    before = built.related(scanned[0], ["roles"])
    copy = pickle.loads(pickle.dumps(built))
    assert copy.related(scanned[0], ["roles"]) == before
    assert len(copy) == 2


def test_without_an_inventory_a_cross_resource_policy_is_not_evaluated():
    scanned = resources(BINDING, ROLE)
    assert Engine.build([policy(SECRETS_POLICY)]).run(scanned) == []


def test_with_an_inventory_the_finding_points_at_the_binding_and_names_the_role():
    scanned = resources(BINDING, ROLE)
    [result] = Engine.build([policy(SECRETS_POLICY)]).run(scanned, inventory.build_from(scanned))
    [violation] = result.violations
    assert result.resource.ref == "RoleBinding/shop/reader"
    assert violation.message == "grants secrets through Role/shop/secrets"
    assert violation.field_path == ("roleRef",)
    assert [(r.location, r.text) for r in violation.related] == [(Location("all.yaml", 11, 1), "Role/shop/secrets")]


def test_a_role_not_in_the_scan_is_not_guessed():
    scanned = resources(BINDING)
    [result] = Engine.build([policy(SECRETS_POLICY)]).run(scanned, inventory.build_from(scanned))
    assert result.status is Status.PASS
    assert inventory.build_from(scanned).related(scanned[0], ["roles"]) == {"roles": [
        {"ref": "Role/shop/secrets", "kind": "Role", "name": "secrets", "namespace": "shop", "inScan": False}]}


def test_single_resource_policies_are_unchanged_by_an_inventory():
    plain = policy("""
id: TDV-T-002
title: t
severity: low
category: rbac
description: d
remediation: r
targets: {kinds: [RoleBinding, Role]}
validations:
  - expression: "object.?roleRef.?name.orValue('') != 'secrets'"
    message: binds the secrets role
""")
    scanned = resources(BINDING, ROLE)
    without = Engine.build([plain]).run(scanned)
    with_inventory = Engine.build([plain]).run(scanned, inventory.build_from(scanned))
    assert [(r.status, r.violations) for r in without] == [(r.status, r.violations) for r in with_inventory]


def test_batched_cross_resource_verdicts_equal_unbatched_ones(monkeypatch):
    """With an inventory, the batch of a kind holds its cross-resource policies too."""
    import validator.engine as engine_module

    documents = []
    for number in range(60):
        grants = "secrets" if number % 3 else "pods"
        documents.append({**BINDING, "metadata": {"name": f"b{number}", "namespace": "shop"},
                          "roleRef": {**BINDING["roleRef"], "name": f"r{number}"}})
        documents.append({**ROLE, "metadata": {"name": f"r{number}", "namespace": "shop"},
                          "rules": [{"apiGroups": [""], "resources": [grants], "verbs": ["get"]}]})
    scanned = resources(*documents)
    chosen = [policy(SECRETS_POLICY), policy(SECRETS_POLICY.replace("TDV-T-001", "TDV-T-003"))]
    built = inventory.build_from(scanned)
    monkeypatch.setattr(engine_module, "BATCH_MIN_RESOURCES", 10)
    engine = Engine.build(chosen)
    batched = engine.run(scanned, built)
    assert any(engine._batches.get(("RoleBinding", True)) or [])
    monkeypatch.setattr(engine_module, "BATCH_MIN_RESOURCES", 10**9)
    alone = Engine.build(chosen).run(scanned, built)
    assert [(r.policy.id, r.status, r.violations) for r in batched] == [(r.policy.id, r.status, r.violations)
                                                                       for r in alone]
    assert sum(r.status is Status.FAIL for r in batched) == 80


def test_the_reports_carry_related_locations(tmp_path):
    scanned = resources(BINDING, ROLE)
    chosen = policy(SECRETS_POLICY)
    results = Engine.build([chosen]).run(scanned, inventory.build_from(scanned))
    report = ScanReport(results=results, errors=[], policies=[chosen], files_scanned=1, resources_scanned=2,
                        root=str(tmp_path))
    log = to_json_data(sarif.build(report), sarif.ALWAYS_WRITTEN)
    [result] = log["runs"][0]["results"]
    assert result["relatedLocations"] == [{
        "id": 0, "message": {"text": "Role/shop/secrets"},
        "physicalLocation": {"artifactLocation": {"uri": "all.yaml", "uriBaseId": "%SRCROOT%"},
                             "region": {"startLine": 11, "startColumn": 1}}}]
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 1
    schema = json.loads((SCHEMAS / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    assert list(jsonschema.Draft4Validator(schema).iter_errors(log)) == []
    data = json_report.build(report)
    assert data["findings"][0]["related"] == [{"ref": "Role/shop/secrets", "path": "all.yaml", "line": 11,
                                               "column": 1}]
    report_schema = json.loads((Path(json_report.__file__).parent.parent / "schemas" / "report-v1.schema.json")
                               .read_text(encoding="utf-8"))
    assert list(jsonschema.Draft202012Validator(report_schema).iter_errors(data)) == []


def test_findings_without_related_objects_have_no_related_keys(tmp_path):
    scanned = resources(BINDING, {**ROLE, "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]})
    chosen = policy(SECRETS_POLICY.replace("'secrets' in x.resources", "'pods' in x.resources")
                    .replace("    relatedExpression", "    #"))
    results = Engine.build([chosen]).run(scanned, inventory.build_from(scanned))
    report = ScanReport(results=results, errors=[], policies=[chosen], root=str(tmp_path))
    assert "relatedLocations" not in json.dumps(to_json_data(sarif.build(report), sarif.ALWAYS_WRITTEN))
    assert "related" not in json_report.build(report)["findings"][0]


@pytest.mark.parametrize("change, problem", [
    (("relations: [roles]", "relations: [rolez]"), "unknown relation 'rolez'"),
    (("relations: [roles]", "relations: [services]"), "reads related.roles: declare it under relations:"),
    (("relations: [roles]\n", ""), "reads related.roles: declare it under relations:"),
])
def test_a_policy_declares_the_relations_it_reads(change, problem):
    with pytest.raises(PolicyError, match=problem):
        policy(SECRETS_POLICY.replace(*change))


def test_a_policy_off_by_default_runs_only_when_named():
    off = policy(SECRETS_POLICY.replace("relations:", "enabled: false\nrelations:"))
    assert not off.enabled
    assert select([off]) == []
    assert select([off], ["TDV-T-*"]) == []
    assert select([off], ["tdv-t-001"]) == [off]
    assert select([off], off_by_default=False) == [off]


def test_a_policy_test_with_several_objects_runs_on_its_subject():
    text = SECRETS_POLICY + f"""
tests:
  - name: binding to a role reading secrets fails
    expect: fail
    field: roleRef
    objects: [{json.dumps(BINDING)}, {json.dumps(ROLE)}]
  - name: the subject may be another object than the first
    expect: fail
    subject: 1
    objects: [{json.dumps(ROLE)}, {json.dumps(BINDING)}]
  - name: a role not in the scan is not guessed
    expect: pass
    objects: [{json.dumps(BINDING)}]
  - name: the role alone is not targeted
    expect: pass
    subject: 0
    objects: [{json.dumps(ROLE)}, {json.dumps(BINDING)}]
"""
    checked = policy(text)
    assert checked.tests[1].object == BINDING
    outcomes = [run_case(checked, case) for case in checked.tests]
    assert [o.passed for o in outcomes] == [True, True, True, True], [o.detail for o in outcomes]


def test_a_subject_out_of_range_is_a_format_error():
    with pytest.raises(PolicyError, match="subject is the index"):
        policy(SECRETS_POLICY + f"""
tests:
  - name: x
    expect: pass
    subject: 2
    objects: [{json.dumps(BINDING)}]
""")


def test_entries_are_made_only_for_the_platforms_of_the_relations_read():
    """A scan whose cross-resource policies are all Terraform ones pays nothing for its
    Kubernetes objects, and the other way round."""
    role = Resource("Role", "rbac.authorization.k8s.io/v1", "reader", "shop",
                    {"kind": "Role", "metadata": {"name": "reader", "namespace": "shop"}, "rules": []}, "r.yaml")
    assert [e.kind for e in inventory.entries([role])] == ["Role"]
    assert [e.kind for e in inventory.entries([role], relations=["roles"])] == ["Role"]
    assert inventory.entries([role], relations=["publicAccessBlocks"]) == []
    assert inventory.entries([role], relations=[]) == []
