"""Export of single policies: match constraints, parameters, forEach and the exportability checks."""

import textwrap

import pytest
import yaml

from validator.engine.policy import parse_policy
from validator.sources.yaml_loader import load_documents
from validator.vap.export import Binding, NotExportable, export_policies, export_policy, render

HEAD = """\
id: ACME-001
title: test policy
severity: high
category: best-practice
description: a policy used by the export tests only, long enough to pass the format checks here.
remediation: "fix it"
standards: {internal: ["1"]}
"""


def policy(body: str):
    return parse_policy(next(load_documents(HEAD + textwrap.dedent(body))), "acme.yaml")


def export(body: str, parameters=None, actions=("Deny",)):
    p = policy(body)
    return export_policy(p, p.defaults() | (parameters or {}), Binding(actions, "Fail", ()))


def test_pod_bearing_kinds_become_resource_rules_per_group():
    [vap, binding] = export("""\
        targets: {kinds: ["@pod-bearing"]}
        validations: [{expression: "true", message: m}]
        """)
    rules = {tuple(r["apiGroups"]): r for r in vap["spec"]["matchConstraints"]["resourceRules"]}
    assert sorted(rules[("",)]["resources"]) == ["pods", "replicationcontrollers"]
    assert sorted(rules[("apps",)]["resources"]) == ["daemonsets", "deployments", "replicasets", "statefulsets"]
    assert sorted(rules[("batch",)]["resources"]) == ["cronjobs", "jobs"]
    assert rules[("apps.openshift.io",)]["resources"] == ["deploymentconfigs"]
    assert rules[("argoproj.io",)]["resources"] == ["rollouts"]
    for rule in rules.values():
        assert rule["apiVersions"] == ["*"] and rule["operations"] == ["CREATE", "UPDATE"]
    assert vap["spec"]["failurePolicy"] == "Fail"
    assert binding["spec"] == {"policyName": "acme-001", "validationActions": ["Deny"]}


def test_names_labels_and_annotations_identify_the_policy():
    [vap, binding] = export("""\
        targets: {kinds: [Service]}
        validations: [{expression: "true", message: m}]
        """, actions=("Deny", "Audit"))
    assert vap["metadata"]["name"] == binding["metadata"]["name"] == "acme-001"
    for document in (vap, binding):
        assert document["apiVersion"] == "admissionregistration.k8s.io/v1"
        assert document["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "tdv"}
    annotations = vap["metadata"]["annotations"]
    assert annotations["tdv.dev/policy-id"] == "ACME-001"
    assert annotations["tdv.dev/severity"] == "high"
    assert binding["spec"]["validationActions"] == ["Deny", "Audit"]


def test_namespaces_and_labels_become_selectors():
    [vap, _] = export("""\
        targets:
          kinds: [Deployment]
          apiGroups: [apps]
          namespaces: {include: [shop, billing], exclude: [kube-system]}
          labelSelector:
            matchLabels: {tier: web}
            matchExpressions: [{key: env, operator: In, values: [prod]}]
        validations: [{expression: "true", message: m}]
        """)
    constraints = vap["spec"]["matchConstraints"]
    assert constraints["namespaceSelector"] == {"matchExpressions": [
        {"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["shop", "billing"]},
        {"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["kube-system"]},
    ]}
    assert constraints["objectSelector"] == {"matchLabels": {"tier": "web"},
                                             "matchExpressions": [{"key": "env", "operator": "In", "values": ["prod"]}]}


def test_any_kind_matches_every_resource():
    [vap, _] = export("""\
        targets: {kinds: ["*"]}
        validations: [{expression: "true", message: m}]
        """)
    assert vap["spec"]["matchConstraints"]["resourceRules"][0]["resources"] == ["*"]
    assert vap["spec"]["matchConstraints"]["resourceRules"][0]["apiGroups"] == ["*"]


def test_parameters_are_a_variable_rebound_as_params():
    [vap, _] = export("""\
        targets: {kinds: [Deployment]}
        parameters:
          limit: {type: integer, default: 3, description: max}
          names: {type: list, default: [a, b], description: names}
        validations:
          - expression: "object.spec.replicas <= params.limit"
            message: too many
            messageExpression: "'more than ' + string(params.limit)"
        """, parameters={"limit": 5})
    assert vap["spec"]["variables"] == [{"name": "params", "expression": '{"limit": dyn(5), "names": dyn(["a", "b"])}'}]
    [validation] = vap["spec"]["validations"]
    assert validation["expression"] == "[variables.params].all(params, (object.spec.replicas <= params.limit))"
    assert validation["messageExpression"] == "[variables.params].map(params, 'more than ' + string(params.limit))[0]"


def test_cel_bind_is_rewritten_and_whitespace_compacted():
    [vap, _] = export("""\
        targets: {kinds: [Pod]}
        validations:
          - expression: |
              cel.bind(n, object.metadata.name,
                n != 'x')
            message: m
        """)
    assert vap["spec"]["validations"][0]["expression"] == "([object.metadata.name].map(n, n != 'x')[0])"


def test_for_each_becomes_all_and_messages_of_the_failing_items():
    [vap, _] = export("""\
        targets: {kinds: [Role]}
        validations:
          - forEach: "rules[*]"
            as: rule
            expression: "!('*' in rule.verbs)"
            message: wildcard verb
            messageExpression: "'rule ' + rule.resources.join(',') + ' grants *'"
        """)
    [validation] = vap["spec"]["validations"]
    assert validation["expression"] == "object.?rules.orValue([]).all(rule, (!('*' in rule.verbs)))"
    assert validation["message"] == "wildcard verb"
    assert "rule.resources.join(',')" in validation["messageExpression"]
    assert validation["messageExpression"].endswith(".filter(m, m != '').join('; ')")


@pytest.mark.parametrize("body,reason", [
    ("targets: {kinds: [aws_s3_bucket]}\nvalidations: [{expression: 'true', message: m}]\n",
     "it targets aws_s3_bucket, not a built-in Kubernetes kind"),
    ("targets: {kinds: [Pod]}\nvalidations: [{expression: \"cidr.isPublic(object.spec.hostIP)\", message: m}]\n",
     "it uses cidr.isPublic, which the Kubernetes API server does not provide"),
    ("targets: {kinds: [Pod]}\nvalidations: [{expression: 'math.greatest(1, 2) == 2', message: m}]\n",
     "it uses math.greatest, which the Kubernetes API server does not provide"),
    ("targets: {kinds: [Pod], apiGroups: [apps]}\nvalidations: [{expression: 'true', message: m}]\n",
     "none of its kinds is in its apiGroups"),
    ("relations: [networkPolicies]\ntargets: {kinds: [Pod]}\n"
     "validations: [{expression: 'related.networkPolicies.size() > 0', message: m}]\n",
     "it reads other objects of the scan (relations: networkPolicies); a ValidatingAdmissionPolicy sees one object,"
     " and paramKind is not an inventory"),
])
def test_policies_the_api_server_cannot_enforce_are_skipped_with_the_reason(body, reason):
    with pytest.raises(NotExportable) as error:
        export(body)
    assert str(error.value) == reason


def test_export_policies_collects_documents_and_skips():
    good, bad = policy("targets: {kinds: [Pod]}\nvalidations: [{expression: 'true', message: m}]\n"), \
        policy("targets: {kinds: [Widget]}\nvalidations: [{expression: 'true', message: m}]\n")
    result = export_policies([good, bad])
    assert [d["kind"] for d in result.documents] == ["ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"]
    assert [(p.id, reason) for p, reason in result.skipped] == [
        ("ACME-001", "it targets Widget, not a built-in Kubernetes kind")]


def test_rendered_yaml_reads_back_identically():
    documents = export("""\
        targets: {kinds: ["@pod-bearing"]}
        validations:
          - forEach: "@containers"
            expression: "container.?image.orValue('').contains(':')"
            message: "image has no tag"
            messageExpression: "'container ' + container.name + ' uses an image without a tag: ' + container.image"
        """)
    text = render(documents, "# header\n")
    assert text.startswith("# header\n---\n")
    assert list(yaml.safe_load_all(text)) == documents
