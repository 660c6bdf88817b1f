"""`tdv export vap`: ValidatingAdmissionPolicy manifests on stdout or in a file."""

import pytest
import yaml

from validator.engine.library import builtin_dir, load_policies

from tests.vap.common import NOT_EXPORTABLE
from tests.helpers import tdv

KUBERNETES = [p for p in load_policies([]) if p.source.startswith(f"{builtin_dir().name}/kubernetes/")]
KUBERNETES_IDS = sorted(p.id for p in KUBERNETES if p.severity.label != "info"
                        and p.id not in NOT_EXPORTABLE and not p.relations)  # those are named on stderr
# Cross-resource policies read other objects: never exported, named on stderr (when selected).
CROSS_RESOURCE_IDS = sorted(p.id for p in KUBERNETES if p.relations and p.enabled and p.severity.label != "info")

CUSTOM = """\
id: ACME-%(n)s
title: custom
severity: low
category: best-practice
description: a policy used by the export command tests only, long enough for the format checks.
remediation: "fix it"
standards: {internal: ["1"]}
targets: {kinds: [%(kind)s]}
validations: [{expression: "%(expression)s", message: m}]
"""


def export(*args):
    return tdv("export", "vap", *args)


@pytest.fixture
def custom(tmp_path):
    for n, kind, expression in (("1", "ConfigMap", "has(object.data)"), ("2", "aws_s3_bucket", "true"),
                                ("3", "Service", "cidr.isValid(object.spec.clusterIP)")):
        (tmp_path / f"ACME-{n}.yaml").write_text(CUSTOM % locals())
    return tmp_path


def test_every_kubernetes_policy_is_written_with_its_binding():
    result = export()
    assert result.exit_code == 0
    documents = list(yaml.safe_load_all(result.stdout))
    policies = [d for d in documents if d["kind"] == "ValidatingAdmissionPolicy"]
    bindings = [d for d in documents if d["kind"] == "ValidatingAdmissionPolicyBinding"]
    assert sorted(d["metadata"]["name"] for d in policies) == [i.lower() for i in KUBERNETES_IDS]
    assert [b["spec"]["policyName"] for b in bindings] == [p["metadata"]["name"] for p in policies]
    assert all(b["spec"]["validationActions"] == ["Warn", "Audit"] for b in bindings)
    assert result.stdout.startswith(f"# {len(KUBERNETES_IDS)} ValidatingAdmissionPolicies with their bindings")
    # Terraform policies are not candidates: only Kubernetes policies are named as not exported
    skipped = [line.split(":")[2].strip() for line in result.stderr.splitlines()]
    assert skipped == sorted([*NOT_EXPORTABLE, *CROSS_RESOURCE_IDS])
    assert "TDV-K8S-181: it reads other objects of the scan (relations: roles); a ValidatingAdmissionPolicy sees" \
        " one object, and paramKind is not an inventory" in result.stderr


def test_the_defaults_cannot_take_a_cluster_down():
    """Warn and Audit, failurePolicy Ignore, system namespaces left alone, no info-level policies."""
    documents = list(yaml.safe_load_all(export().stdout))
    policies = [d for d in documents if d["kind"] == "ValidatingAdmissionPolicy"]
    bindings = [d for d in documents if d["kind"] == "ValidatingAdmissionPolicyBinding"]
    assert {p["spec"]["failurePolicy"] for p in policies} == {"Ignore"}
    assert "tdv-k8s-030" not in {p["metadata"]["name"] for p in policies}  # info: recommended labels
    for binding in bindings:
        assert "Deny" not in binding["spec"]["validationActions"]
        [term] = binding["spec"]["matchResources"]["namespaceSelector"]["matchExpressions"]
        assert term == {"key": "kubernetes.io/metadata.name", "operator": "NotIn",
                        "values": ["kube-system", "kube-public", "kube-node-lease"]}


def test_enforcement_and_namespaces_are_chosen_by_flags():
    documents = list(yaml.safe_load_all(export("--policy", "TDV-K8S-001", "--action", "Deny", "--failure-policy", "fail",
                                               "--exclude-namespace", "cni").stdout))
    assert documents[0]["spec"]["failurePolicy"] == "Fail"
    assert documents[1]["spec"]["validationActions"] == ["Deny"]
    assert documents[1]["spec"]["matchResources"]["namespaceSelector"]["matchExpressions"][0]["values"] == ["cni"]
    everywhere = list(yaml.safe_load_all(export("--policy", "TDV-K8S-001", "--include-system-namespaces").stdout))
    assert "matchResources" not in everywhere[1]["spec"]
    labels = export("--policy", "TDV-K8S-030", "--min-severity", "info")
    assert labels.exit_code == 0 and "tdv-k8s-030" in labels.stdout
    high = list(yaml.safe_load_all(export("--min-severity", "high").stdout))
    assert high and all(d["metadata"]["annotations"]["tdv.dev/severity"] in {"critical", "high"}
                        for d in high if d["kind"] == "ValidatingAdmissionPolicy")


def test_selection_actions_and_output_file(tmp_path):
    target = tmp_path / "out" / "vap.yaml"
    result = export("--policy", "TDV-K8S-001", "--policy", "tdv-k8s-002", "--action", "deny", "--action", "Audit",
                    "-o", str(target))
    assert result.exit_code == 0 and result.stdout == ""
    documents = list(yaml.safe_load_all(target.read_text()))
    assert [d["metadata"]["name"] for d in documents] == ["tdv-k8s-001"] * 2 + ["tdv-k8s-002"] * 2
    assert documents[1]["spec"]["validationActions"] == ["Deny", "Audit"]


def test_policies_that_cannot_be_exported_are_listed_on_stderr(custom):
    result = export("--policies", str(custom), "--policy", "ACME-*")
    assert result.exit_code == 0
    assert [d["metadata"]["name"] for d in yaml.safe_load_all(result.stdout)] == ["acme-1", "acme-1"]
    assert result.stderr.splitlines() == [
        "tdv: not exported: ACME-3: it uses cidr.isValid, which the Kubernetes API server does not provide",
    ]  # ACME-2 checks a Terraform resource: not a candidate


def test_nothing_exportable_exits_2(custom):
    result = export("--policies", str(custom), "--policy", "ACME-3")
    assert result.exit_code == 2 and result.stdout == ""
    assert "no selected policy can be exported" in result.stderr


@pytest.mark.parametrize("args,message", [
    (["--action", "Deny", "--action", "Warn"], "cannot be combined"),
    (["--action", "Block"], "'Block' is not one of"),
    (["--policy", "NOPE-*"], "no policies selected"),
    (["--policy", "TDV-AWS-001"], "no policies selected"),
    (["--exclude-namespace", "a", "--include-system-namespaces"], "exclude each other"),
])
def test_usage_errors_exit_2(args, message):
    result = export(*args)
    assert result.exit_code == 2 and message in result.output


def test_the_config_chooses_the_policies_and_their_parameters(tmp_path, monkeypatch, custom):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".tdv.yaml").write_text(
        "policies:\n  include: ['TDV-K8S-02*', 'ACME-*']\n  exclude: [TDV-K8S-020]\n  dirs: [.]\n"
        "parameters:\n  TDV-K8S-024:\n    allowed_registries: [registry.example.com]\n")
    monkeypatch.chdir(tmp_path)
    result = export()
    assert result.exit_code == 0, result.output
    documents = list(yaml.safe_load_all(result.stdout))
    names = [d["metadata"]["name"] for d in documents if d["kind"] == "ValidatingAdmissionPolicy"]
    assert "tdv-k8s-024" in names and "acme-1" in names and "tdv-k8s-020" not in names
    assert all(name.startswith(("tdv-k8s-02", "acme-")) for name in names)
    [registries] = [d for d in documents if d["kind"] == "ValidatingAdmissionPolicy"
                    and d["metadata"]["name"] == "tdv-k8s-024"]
    assert registries["spec"]["variables"][0]["expression"] == '{"allowed_registries": ["registry.example.com"]}'

    ignored = export("--no-config", "--policy", "TDV-K8S-024")
    [policy, _] = yaml.safe_load_all(ignored.stdout)
    assert "registry.example.com" not in policy["spec"]["variables"][0]["expression"]


def test_a_config_that_names_no_exportable_policy_says_so(tmp_path, monkeypatch):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".tdv.yaml").write_text("policies:\n  include: ['TDV-AWS-*']\n  min-severity: critical\n"
                                        "  categories: [pod-security]\n")
    monkeypatch.chdir(tmp_path)
    result = export()
    assert result.exit_code == 2 and "the policies section of .tdv.yaml" in result.output
