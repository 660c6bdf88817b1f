"""Weave and Magalix `Policy` custom resources in a policy directory, run by the Rego extra."""

import json
import textwrap
from pathlib import Path

import pytest

from validator.engine.library import load_each, load_policies, select
from validator.engine.policy import PolicyError
from validator.model import Severity

from tests.helpers import tdv, write

pytest.importorskip("regorus", reason="the Rego extra is not installed (pip install '.[rego]')")

# Our own policy in the Weave format: every container names a memory limit of at most
# `max_mib` mebibytes written in Mi.
POLICY = textwrap.dedent("""\
    apiVersion: pac.weave.works/v2beta2
    kind: Policy
    metadata:
      name: team.policies.memory-limit
    spec:
      id: team.policies.memory-limit
      name: Memory limit within budget
      enabled: true
      description: Containers name a memory limit no larger than the team's budget.
      how_to_solve: |
        Set `resources.limits.memory` on each container:
        ```yaml
        resources:
          limits:
            memory: 256Mi
        ```
      category: weave.categories.capacity-management
      severity: low
      targets:
        kinds: [Deployment, Pod]
    %(targets)s
    %(exclude)s
      standards:
        - id: weave.standards.team-budget
          controls: [weave.controls.team-budget.1.2, weave.controls.team-budget.1.3]
      tags: [cost]
      parameters:
        - name: max_mib
          type: integer
          required: true
          value: 512
        - name: skip_label
          type: string
          required: false
          value:
      code: |
        package team.memory

        pod_spec = input.review.object.spec.template.spec {
          input.review.object.kind != "Pod"
        } else = input.review.object.spec

        violation[result] {
          not input.review.object.metadata.labels[input.parameters.skip_label]
          some i
          container := pod_spec.containers[i]
          not container.resources.limits.memory
          result = {
            "issue_detected": true,
            "msg": sprintf("container %%v in %%v has no memory limit", [container.name, input.review.name]),
            "violating_key": sprintf("spec.template.spec.containers[%%v].resources", [i]),
          }
        }

        violation[result] {
          some i
          container := pod_spec.containers[i]
          limit := container.resources.limits.memory
          endswith(limit, "Mi")
          to_number(trim_suffix(limit, "Mi")) > input.parameters.max_mib
          result = {
            "issue_detected": true,
            "msg": sprintf("container %%v asks for %%v, over %%vMi", [container.name, limit, input.parameters.max_mib]),
            "violating_key": sprintf("spec.template.spec.containers[%%v].resources.limits.memory", [i]),
            "recommended_value": sprintf("%%vMi", [input.parameters.max_mib]),
          }
        }
    """)

MANIFESTS = textwrap.dedent("""\
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
      namespace: shop
      labels: {tier: front}
    spec:
      template:
        spec:
          containers:
            - name: app
              image: registry.example/app:1.0
              resources:
                limits:
                  memory: 1024Mi
            - name: proxy
              image: registry.example/proxy:2.1
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: dns, namespace: kube-system}
    spec:
      template:
        spec:
          containers:
            - name: dns
              image: registry.example/dns:1.0
    ---
    apiVersion: v1
    kind: Pod
    metadata: {name: lone, labels: {tier: batch}}
    spec:
      containers:
        - name: job
          image: registry.example/job:1.0
          resources: {limits: {memory: 128Mi}}
    ---
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: settings, namespace: shop}
    data: {}
    """)


def policy(targets: str = "", exclude: str = "", **replace: str) -> str:
    text = POLICY % {"targets": textwrap.indent(targets, "    ") if targets else "",
                     "exclude": textwrap.indent(exclude, "  ") if exclude else ""}
    for old, new in replace.items():
        assert old in text
        text = text.replace(old, new)
    return text


def policy_dir(tmp_path: Path, *texts: str) -> Path:
    directory = tmp_path / "policies"
    for number, text in enumerate(texts):
        write(directory / f"policy{number}" / "policy.yaml", text)
    return directory


def scan(tmp_path: Path, policies: Path, *args: str):
    write(tmp_path / "app.yaml", MANIFESTS)
    result = tdv("scan", str(tmp_path / "app.yaml"), "--policies", str(policies), "--policy", "TEAM-*",
                 "-o", "json", *args)
    return result, json.loads(result.stdout)


def findings(report):
    return sorted((f["resource"]["ref"], f["message"], f["location"]["line"]) for f in report["findings"])


def test_a_policy_becomes_a_tdv_policy_with_its_metadata(tmp_path):
    [loaded] = load_policies([policy_dir(tmp_path, policy())], include_builtin=False)
    assert (loaded.id, loaded.title, loaded.severity, loaded.language) == (
        "TEAM-POLICIES-MEMORY-LIMIT", "Memory limit within budget", Severity.LOW, "rego")
    assert loaded.category == "resilience" and loaded.enabled
    assert loaded.description == "Containers name a memory limit no larger than the team's budget."
    assert loaded.remediation.startswith("Set `resources.limits.memory` on each container:\n```yaml")
    assert loaded.standards == {"weave.standards.team-budget": ("1.2", "1.3")}
    assert loaded.tags == ("weave", "weave-category:capacity-management", "cost")
    assert loaded.rego_parameters == {"max_mib": 512, "skip_label": None}
    assert [(p.name, p.type, p.default) for p in loaded.parameters] == [("max_mib", "integer", 512),
                                                                         ("skip_label", "string", None)]
    assert loaded.targets.kinds == ("Deployment", "Pod")


def test_findings_carry_the_violation_message_at_the_violating_key(tmp_path):
    result, report = scan(tmp_path, policy_dir(tmp_path, policy()))
    assert result.exit_code == 1
    assert findings(report) == [
        ("Deployment/kube-system/dns", "container dns in dns has no memory limit", 26),  # nearest: containers
        ("Deployment/shop/web", "container app asks for 1024Mi, over 512Mi", 15),
        ("Deployment/shop/web", "container proxy in web has no memory limit", 16),
    ]
    assert report["summary"]["passed"] == 1  # the Pod; the ConfigMap is not a target kind
    sarif = json.loads(tdv("scan", str(tmp_path / "app.yaml"), "--policies", str(tmp_path / "policies"),
                           "--policy", "TEAM-*", "-o", "sarif").stdout)
    [rule] = sarif["runs"][0]["tool"]["driver"]["rules"]
    assert "Remediation:\nSet `resources.limits.memory` on each container:" in rule["help"]["text"]
    assert {r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in sarif["runs"][0]["results"]} == {
        15, 16, 26}


def test_a_config_file_overrides_parameter_defaults(tmp_path):
    write(tmp_path / ".tdv.yaml", "parameters:\n  TEAM-POLICIES-MEMORY-LIMIT:\n    max_mib: 2048\n"
                                  "    skip_label: tier\n")
    _, report = scan(tmp_path, policy_dir(tmp_path, policy()), "--config", str(tmp_path / ".tdv.yaml"))
    assert findings(report) == [("Deployment/kube-system/dns", "container dns in dns has no memory limit", 26)]


@pytest.mark.parametrize("targets,exclude,expected", [
    ("namespaces: [shop]", "", {"Deployment/shop/web"}),
    ("labels:\n  - {tier: '*'}", "", {"Deployment/shop/web"}),
    ("labels:\n  - {tier: back}\n  - {tier: front}", "", {"Deployment/shop/web"}),
    ("labels:\n  - {tier: back}", "", set()),
    ("", "exclude:\n  namespaces: [kube-system]", {"Deployment/shop/web"}),
    ("", "exclude:\n  resources: [shop/web]", {"Deployment/kube-system/dns"}),
    ("", "exclude:\n  labels: {tier: '*'}", {"Deployment/kube-system/dns"}),
    ("", "exclude:\n  labels: {tier: back}", {"Deployment/shop/web", "Deployment/kube-system/dns"}),
])
def test_targets_and_exclude_narrow_the_resources(tmp_path, targets, exclude, expected):
    _, report = scan(tmp_path, policy_dir(tmp_path, policy(targets, exclude)))
    assert {f["resource"]["ref"] for f in report["findings"]} == expected


def test_a_pod_without_namespace_is_matched_by_an_empty_namespace(tmp_path):
    text = policy("namespaces: ['']", **{"value: 512": "value: 64"})
    _, report = scan(tmp_path, policy_dir(tmp_path, text))
    assert findings(report) == [("Pod/lone", "container job asks for 128Mi, over 64Mi", 36)]  # at the limit


def test_severity_and_enabled(tmp_path):
    disabled = policy(**{"enabled: true": "enabled: false", "severity: low": "severity: high"})
    [loaded] = load_policies([policy_dir(tmp_path, disabled)], include_builtin=False)
    assert (loaded.enabled, loaded.severity) == (False, Severity.HIGH)
    assert select([loaded]) == [] and select([loaded], ["TEAM-*"]) == []  # off by default
    assert select([loaded], ["team-policies-memory-limit"]) == [loaded]  # runs when asked for by its id
    write(tmp_path / "app.yaml", MANIFESTS)
    result = tdv("scan", str(tmp_path / "app.yaml"), "--policies", str(tmp_path / "policies"), "--policy",
                 "TEAM-POLICIES-MEMORY-LIMIT", "-o", "json")
    assert len(json.loads(result.stdout)["findings"]) == 3


def test_the_magalix_group_and_its_older_field_names(tmp_path):
    text = policy(**{"apiVersion: pac.weave.works/v2beta2": "apiVersion: magalix.com/v1",
                     "enabled: true": "enable: 'false'", "how_to_solve:": "howToSolve:"})
    [loaded] = load_policies([policy_dir(tmp_path, text)], include_builtin=False)
    assert not loaded.enabled and "memory: 256Mi" in loaded.remediation


@pytest.mark.parametrize("replace,message", [
    ({"package team.memory": "# no package"}, "the Rego has no package declaration"),
    ({"not container.resources.limits.memory\n": "not container.resources.limits[\n"}, "Rego does not compile"),
    ({"violation[result] {": "deny[result] {"}, "the Rego has no violation rule"),
    ({"severity: low": "severity: urgent"}, "severity 'urgent' is not one of"),
    ({"  category:": "  provider: terraform\n  category:"}, "provider 'terraform' is not supported"),
    ({"name: max_mib": "nom: max_mib"}, "a parameter needs a name"),
])
def test_bad_policies_are_one_line_errors_naming_the_file_and_line(tmp_path, replace, message):
    [error] = load_each([policy_dir(tmp_path, policy(**replace))], include_builtin=False)
    assert isinstance(error, PolicyError) and message in str(error)
    assert "policy0/policy.yaml:" in str(error) and error.line


def test_a_policy_without_code_is_an_error(tmp_path):
    text = policy().split("  code: |")[0]
    [error] = load_each([policy_dir(tmp_path, text)], include_builtin=False)
    assert isinstance(error, PolicyError) and "spec.code must hold the Rego" in str(error)


COMPLIANT = textwrap.dedent("""\
    apiVersion: v1
    kind: Pod
    metadata: {name: ok}
    spec:
      containers:
        - {name: c, image: registry.example/c:1, resources: {limits: {memory: 64Mi}}}
    """)


def test_tdv_test_runs_the_manifests_of_a_tests_directory_as_passing_cases(tmp_path):
    directory = policy_dir(tmp_path, policy())
    write(directory / "policy0" / "tests" / "small.yaml", COMPLIANT + "---\n" + MANIFESTS)  # the first document
    write(directory / "policy0" / "tests" / "service.yml", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n")
    result = tdv("test", str(directory), "-v")
    assert result.exit_code == 0, result.output
    assert "PASS TEAM-POLICIES-MEMORY-LIMIT  service.yml" in result.output
    assert "PASS TEAM-POLICIES-MEMORY-LIMIT  small.yaml" in result.output
    write(directory / "policy0" / "tests" / "large.yaml", COMPLIANT.replace("64Mi", "4096Mi"))
    result = tdv("test", str(directory))
    assert result.exit_code == 1
    assert "FAIL TEAM-POLICIES-MEMORY-LIMIT  large.yaml" in result.output
    expected = "expected pass, got 1 violation(s) at spec.containers[0].resources.limits.memory"  # a Pod's
    assert expected in result.output


def test_a_tests_directory_with_rego_tests_has_no_manifest_cases(tmp_path):
    directory = policy_dir(tmp_path, policy())
    write(directory / "policy0" / "tests" / "large.yaml", COMPLIANT.replace("64Mi", "4096Mi"))
    write(directory / "policy0" / "tests" / "limit_test.rego", "package team.memory\n\ntest_nothing { true }\n")
    [loaded] = load_policies([directory], include_builtin=False)
    assert loaded.tests == ()


def test_a_policy_list_in_a_directory_named_by_the_config_file(tmp_path):
    items = textwrap.indent(policy(), "    ").replace("    apiVersion: pac.weave.works/v2beta2", "  - apiVersion:"
                                                          " pac.weave.works/v2beta2", 1)
    write(tmp_path / "weave" / "all.yaml", "apiVersion: pac.weave.works/v2beta2\nkind: PolicyList\nitems:\n" + items)
    write(tmp_path / ".tdv.yaml", "policies:\n  dirs: [weave]\n  include: [TEAM-*]\n")
    write(tmp_path / "app.yaml", MANIFESTS)
    result = tdv("scan", str(tmp_path / "app.yaml"), "--config", str(tmp_path / ".tdv.yaml"), "-o", "json")
    assert len(json.loads(result.stdout)["findings"]) == 3, result.output


def test_code_calling_the_deprecated_re_match_runs(tmp_path):
    text = policy(**{'endswith(limit, "Mi")': 're_match(`^[0-9]+Mi$`, limit)'})
    _, report = scan(tmp_path, policy_dir(tmp_path, text))
    assert ("Deployment/shop/web", "container app asks for 1024Mi, over 512Mi", 15) in findings(report)
    assert report["summary"]["errors"] == 0


CRONJOB = textwrap.dedent("""\
    apiVersion: batch/v1
    kind: CronJob
    metadata: {name: nightly, namespace: shop}
    spec:
      schedule: "0 1 * * *"
      jobTemplate:
        spec:
          template:
            spec:
              containers:
                - name: report
                  image: registry.example/report:1
                  resources:
                    limits: {memory: 2048Mi}
    """)


def test_a_deployment_shaped_violating_key_is_moved_to_a_cronjobs_pod_template(tmp_path):
    code = 'pod_spec = input.review.object.spec.template.spec {\n      input.review.object.kind != "Pod"'
    text = policy(**{"kinds: [Deployment, Pod]": "kinds: [CronJob]", code: code.replace(
        "input.review.object.spec.template.spec", "input.review.object.spec.jobTemplate.spec.template.spec")})
    write(tmp_path / "cron.yaml", CRONJOB)
    result = tdv("scan", str(tmp_path / "cron.yaml"), "--policies", str(policy_dir(tmp_path, text)), "--policy",
                 "TEAM-*", "-o", "json")
    [finding] = json.loads(result.stdout)["findings"]
    assert finding["field"] == "spec.jobTemplate.spec.template.spec.containers[0].resources.limits.memory"
    assert finding["location"]["line"] == 14 and finding["message"] == "container report asks for 2048Mi, over 512Mi"
