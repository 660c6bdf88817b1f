"""Gatekeeper ConstraintTemplates and Constraints in a policy directory, run by the Rego extra."""

import json
import textwrap
from pathlib import Path

import pytest

from validator.engine.library import load_each, load_policies
from validator.engine.policy import PolicyError
from validator.model import Severity

from tests.helpers import tdv

pytest.importorskip("regorus", reason="the Rego extra is not installed (pip install '.[rego]')")

TEMPLATE = textwrap.dedent("""\
    apiVersion: templates.gatekeeper.sh/v1
    kind: ConstraintTemplate
    metadata:
      name: teamlabels
      annotations:
        metadata.gatekeeper.sh/title: Team labels
        description: Objects carry the labels the platform team asks for.
    spec:
      crd:
        spec:
          names:
            kind: TeamLabels
      targets:
        - target: admission.k8s.gatekeeper.sh
          rego: |
            package teamlabels
            import data.lib.naming.display

            violation[{"msg": msg, "details": {"missing": label}}] {
              label := input.parameters.labels[_]
              not input.review.object.metadata.labels[label]
              msg := sprintf("%v in %v by %v (%v) has no label %v", [display(input.review),
                input.review.namespace, input.review.userInfo.username, input.review.operation, label])
            }
          libs:
            - |
              package lib.naming
              display(review) = out {
                out := sprintf("%v/%v", [review.kind.kind, review.name])
              }
    """)

CONSTRAINT = textwrap.dedent("""\
    apiVersion: constraints.gatekeeper.sh/v1beta1
    kind: TeamLabels
    metadata:
      name: %(name)s
    spec:
    %(spec)s
    """)

MANIFESTS = textwrap.dedent("""\
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
      namespace: shop
      labels: {owner: ana}
    spec: {}
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: dns, namespace: kube-system}
    spec: {}
    ---
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: settings, namespace: shop, labels: {tier: web}}
    data: {}
    ---
    apiVersion: v1
    kind: Namespace
    metadata: {name: shop}
    """)


def constraint(name="owner-required", spec="  parameters: {labels: [owner, team]}"):
    return CONSTRAINT % {"name": name, "spec": spec}


def policy_dir(tmp_path: Path, *constraints: str, template: str = TEMPLATE) -> Path:
    directory = tmp_path / "policies"
    directory.mkdir(exist_ok=True)
    (directory / "template.yaml").write_text(template)
    (directory / "constraints.yaml").write_text("---\n".join(constraints))
    return directory


def scan(tmp_path: Path, policies: Path, *args: str):
    (tmp_path / "app.yaml").write_text(MANIFESTS)
    result = tdv("scan", str(tmp_path / "app.yaml"), "--policies", str(policies), "--policy", "TEAMLABELS-*",
                 "-o", "json", *args)
    return result, json.loads(result.stdout)


def findings(report):
    return sorted((f["policyId"], f["resource"]["ref"], f["message"], f["location"]["line"])
                  for f in report["findings"])


def test_each_constraint_becomes_a_policy(tmp_path):
    directory = policy_dir(tmp_path, constraint(), constraint("cost", "  enforcementAction: warn"))
    cost, owner = load_policies([directory], include_builtin=False)
    assert (owner.id, owner.severity, owner.language) == ("TEAMLABELS-OWNER-REQUIRED", Severity.HIGH, "rego")
    assert owner.title == "Team labels (owner-required)"
    assert owner.description == "Objects carry the labels the platform team asks for."
    assert owner.rego_parameters == {"labels": ["owner", "team"]}
    assert (cost.id, cost.severity) == ("TEAMLABELS-COST", Severity.INFO)  # warn never fails the build


def test_review_parameters_and_libs_reach_the_rego(tmp_path):
    spec = "  match:\n    kinds: [{apiGroups: [apps], kinds: [Deployment]}]\n  parameters: {labels: [owner, team]}"
    result, report = scan(tmp_path, policy_dir(tmp_path, constraint(spec=spec)))
    assert result.exit_code == 1
    assert findings(report) == [
        ("TEAMLABELS-OWNER-REQUIRED", "Deployment/kube-system/dns", "Deployment/dns in kube-system by tdv (CREATE)"
         " has no label owner", 9),
        ("TEAMLABELS-OWNER-REQUIRED", "Deployment/kube-system/dns", "Deployment/dns in kube-system by tdv (CREATE)"
         " has no label team", 9),
        ("TEAMLABELS-OWNER-REQUIRED", "Deployment/shop/web", "Deployment/web in shop by tdv (CREATE) has no label"
         " team", 1),
    ]
    assert report["summary"]["passed"] == 0 and report["summary"]["errors"] == 0


@pytest.mark.parametrize("match,expected", [
    ("excludedNamespaces: [kube-*]", {"Deployment/shop/web", "ConfigMap/shop/settings", "Namespace/shop"}),
    ("namespaces: [shop]", {"Deployment/shop/web", "ConfigMap/shop/settings", "Namespace/shop"}),
    ("kinds: [{apiGroups: ['*'], kinds: [ConfigMap, Namespace]}]", {"ConfigMap/shop/settings", "Namespace/shop"}),
    ("kinds: [{apiGroups: [apps], kinds: [ConfigMap]}]", set()),  # the group must match too
    ("labelSelector: {matchLabels: {tier: web}}", {"ConfigMap/shop/settings"}),
    ("name: dn*", {"Deployment/kube-system/dns"}),
    ("scope: Cluster", {"Namespace/shop"}),
    ("scope: Namespaced", {"Deployment/shop/web", "Deployment/kube-system/dns", "ConfigMap/shop/settings"}),
])
def test_match_narrows_the_resources(tmp_path, match, expected):
    spec = f"  match:\n    {match}\n  parameters: {{labels: [absent]}}"
    _, report = scan(tmp_path, policy_dir(tmp_path, constraint(spec=spec)))
    assert {f["resource"]["ref"] for f in report["findings"]} == expected
    assert report["summary"]["passed"] == 0  # resources outside the match are not evaluated


def test_warn_constraint_reports_without_failing(tmp_path):
    spec = "  enforcementAction: dryrun\n  parameters: {labels: [team]}"
    result, report = scan(tmp_path, policy_dir(tmp_path, constraint(spec=spec)))
    assert result.exit_code == 0
    assert {f["severity"] for f in report["findings"]} == {"info"} and len(report["findings"]) == 4


def test_a_failing_rule_is_an_error_result_naming_the_policy(tmp_path):
    template = TEMPLATE.replace("not input.review.object", "count(input.parameters.labels) / 0 > 1\n"
                                "          not input.review.object")
    result, report = scan(tmp_path, policy_dir(tmp_path, constraint(), template=template))
    assert report["summary"]["errors"] == 4 and not report["findings"] and result.exit_code != 0
    assert all(e["message"].startswith("TEAMLABELS-OWNER-REQUIRED could not be evaluated on ")
               and ": Rego evaluation failed: " in e["message"] for e in report["errors"])


@pytest.mark.parametrize("change,message", [
    (("kind: TeamLabels\n  targets", "kind: TeamLabels\n  targets"), None),
    (("package teamlabels", "package"), "the Rego has no package declaration"),
    (("not input.review", "not input.review["), "does not compile"),
    (("target: admission.k8s.gatekeeper.sh", "target: audit.example.com"), "has no target admission.k8s"),
])
def test_bad_templates_are_one_line_errors_naming_the_file(tmp_path, change, message):
    directory = policy_dir(tmp_path, constraint(), template=TEMPLATE.replace(*change))
    if message is None:
        return
    (tmp_path / "app.yaml").write_text(MANIFESTS)
    result = tdv("scan", str(tmp_path / "app.yaml"), "--policies", str(directory))
    assert result.exit_code == 2
    assert "template.yaml" in result.output and message in result.output
    assert "Traceback" not in result.output


def test_constraint_without_template_is_an_error(tmp_path):
    directory = tmp_path / "policies"
    directory.mkdir()
    (directory / "constraints.yaml").write_text(constraint())
    [error] = load_each([directory], include_builtin=False)
    assert isinstance(error, PolicyError) and "no ConstraintTemplate for kind TeamLabels" in str(error)
    assert "constraints.yaml:1:" in str(error)


def test_unknown_enforcement_action_is_an_error(tmp_path):
    directory = policy_dir(tmp_path, constraint(spec="  enforcementAction: block"))
    [error] = load_each([directory], include_builtin=False)
    assert isinstance(error, PolicyError) and "enforcementAction 'block'" in str(error)


def test_network_calls_are_refused(tmp_path):
    template = TEMPLATE.replace("not input.review.object", 'http.send({"method": "get", "url": "http://x"})\n'
                                "          not input.review.object")
    (tmp_path / "app.yaml").write_text(MANIFESTS)
    result = tdv("scan", str(tmp_path / "app.yaml"), "--policies",
                 str(policy_dir(tmp_path, constraint(), template=template)))
    assert result.exit_code == 2 and "calls http.send" in result.output


@pytest.mark.parametrize("match,found", [("namespaces: [default]", True), ("excludedNamespaces: [default]", False),
                                         ("namespaces: [shop]", False)])
def test_a_resource_without_namespace_is_in_default_as_gator_takes_it(tmp_path, match, found):
    (tmp_path / "pod.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: lone}\nspec: {containers: []}\n")
    directory = policy_dir(tmp_path, constraint(spec=f"  match:\n    {match}\n  parameters: {{labels: [team]}}"))
    result = tdv("scan", str(tmp_path / "pod.yaml"), "--policies", str(directory), "--policy", "TEAMLABELS-*",
                 "-o", "json")
    messages = [f["message"] for f in json.loads(result.stdout)["findings"]]
    assert messages == (["Pod/lone in  by tdv (CREATE) has no label team"] if found else [])


def test_details_field_locates_the_finding(tmp_path):
    template = TEMPLATE.replace('"details": {"missing": label}', '"details": {"missing": label, "field": "metadata.labels"}')
    spec = "  match:\n    kinds: [{apiGroups: [apps], kinds: [Deployment]}]\n  parameters: {labels: [team]}"
    _, report = scan(tmp_path, policy_dir(tmp_path, constraint(spec=spec), template=template))
    located = {f["resource"]["ref"]: (f["location"]["line"], f["field"]) for f in report["findings"]}
    assert located["Deployment/shop/web"] == (6, "metadata.labels")  # the labels line
    assert located["Deployment/kube-system/dns"][0] == 11  # no labels: at metadata, the nearest existing field


def test_a_config_file_overrides_constraint_parameters(tmp_path):
    directory = policy_dir(tmp_path, constraint(spec="  parameters: {labels: [owner, team]}"))
    (tmp_path / ".tdv.yaml").write_text("parameters:\n  TEAMLABELS-OWNER-REQUIRED:\n    labels: [tier]\n")
    _, report = scan(tmp_path, directory, "--config", str(tmp_path / ".tdv.yaml"))
    assert {f["message"].rpartition(" ")[2] for f in report["findings"]} == {"tier"}
    assert {f["resource"]["ref"] for f in report["findings"]} == {"Deployment/shop/web", "Deployment/kube-system/dns",
                                                                  "Namespace/shop"}  # the ConfigMap has a tier


def test_a_bad_template_is_an_input_error_and_the_scan_goes_on(tmp_path):
    directory = policy_dir(tmp_path, constraint(spec="  parameters: {labels: [team]}"))
    broken = TEMPLATE.replace("TeamLabels", "BrokenLabels").replace("name: teamlabels", "name: broken").replace(
        "not input.review", "not input.review[")
    (directory / "broken.yaml").write_text(broken + "---\n" + constraint().replace("TeamLabels", "BrokenLabels"))
    (tmp_path / "app.yaml").write_text(MANIFESTS)
    result = tdv("scan", str(tmp_path / "app.yaml"), "--policies", str(directory), "-o", "json")
    report = json.loads(result.stdout)
    assert result.exit_code == 2  # an input error
    [error] = [e for e in report["errors"] if "broken.yaml" in e["path"]]
    assert error["line"] and "template BrokenLabels: Rego does not compile: broken.rego:6:20:" in error["message"]
    assert {f["policyId"] for f in report["findings"]} >= {"TEAMLABELS-OWNER-REQUIRED"}  # the other ran
    assert any(f["policyId"].startswith("TDV-") for f in report["findings"])  # so did the built-in library


def _results(policies, resources):
    from validator.engine import Engine
    from validator.inventory import build_from

    results = Engine.build(policies).run(resources, build_from(resources))
    return sorted((r.policy.id, r.resource.ref, r.status.value, tuple(v.message for v in r.violations), r.error)
                  for r in results)


def test_the_constraints_of_a_template_share_one_evaluation_per_resource(tmp_path):
    from validator.engine import Engine
    from validator.model import Resource
    from validator.sources.kubernetes import parse_manifests

    directory = policy_dir(tmp_path, constraint("owner-required", "  parameters: {labels: [owner]}"),
                           constraint("team-in-shop", "  match:\n    namespaces: [shop]\n  parameters: {labels: [team]}"),
                           constraint("tier-on-maps", "  match:\n    kinds: [{apiGroups: [''], kinds: [ConfigMap]}]\n"
                                                      "  parameters: {labels: [tier, app]}"))
    policies = load_policies([directory], include_builtin=False)
    resources = [r for r in parse_manifests(MANIFESTS, "app.yaml") if isinstance(r, Resource)]
    together = _results(policies, resources)
    alone = sorted(row for policy in policies for row in _results([policy], resources))
    assert together == alone  # the same results as each Constraint evaluated on its own
    assert ("TEAMLABELS-TEAM-IN-SHOP", "Deployment/shop/web", "fail",
            ("Deployment/web in shop by tdv (CREATE) has no label team",), None) in together
    assert not [row for row in together if row[0] == "TEAMLABELS-TEAM-IN-SHOP" and "kube-system" in row[1]]
    engine = Engine.build(policies)
    engine.run(resources)
    [shared] = engine.compiled[0].evaluator._shared.values()
    assert [m.policy.id for m in shared.members] == [p.id for p in policies]


def test_a_shared_evaluation_error_is_each_constraints_error(tmp_path):
    from validator.model import Resource
    from validator.sources.kubernetes import parse_manifests

    template = TEMPLATE.replace("not input.review.object", "count(input.parameters.labels) / 0 > 1\n"
                                "          not input.review.object")
    directory = policy_dir(tmp_path, constraint("a"), constraint("b"), template=template)
    resources = [r for r in parse_manifests(MANIFESTS, "app.yaml") if isinstance(r, Resource)]
    rows = _results(load_policies([directory], include_builtin=False), resources)
    assert len(rows) == 8 and {row[2] for row in rows} == {"error"}
    assert all("Rego evaluation failed" in row[4] for row in rows)


def test_a_body_line_starting_with_a_parenthesis_is_a_new_expression_as_in_opa(tmp_path):
    template = TEMPLATE.replace("          not input.review.object.metadata.labels[label]\n",
                                "          input.parameters.labels\n"
                                "          (count(input.parameters.labels) - 1) >= 0\n"
                                "          not input.review.object.metadata.labels[label]\n")
    assert "labels\n          (count" in template
    spec = "  match:\n    kinds: [{apiGroups: [apps], kinds: [Deployment]}]\n  parameters: {labels: [team]}"
    _, report = scan(tmp_path, policy_dir(tmp_path, constraint(spec=spec), template=template))
    assert report["summary"]["errors"] == 0 and len(report["findings"]) == 2


def test_opa_lines_ends_only_a_term_before_a_parenthesis():
    from validator.rego.evaluator import opa_lines

    text = "p {\n  input.a\n  (1 + 1) > 1\n  x := f(1,\n    (2))\n  y := [\n    (3)]\n}\n"
    assert opa_lines(text) == text.replace("input.a\n", "input.a;\n")
    assert opa_lines("p {\n  input.a # note\n  (1) > 0\n}") == "p {\n  input.a; # note\n  (1) > 0\n}"
    assert opa_lines('p {\n  x := "#"\n  (1) > 0\n}') == 'p {\n  x := "#"\n  (1) > 0\n}'  # left as written
    raw = "p {\n  x := `a\n(b`\n}"
    assert opa_lines(raw) == raw


def test_a_rule_with_several_bodies_is_several_definitions_as_in_opa(tmp_path):
    template = TEMPLATE.replace("\n        }\n      libs:", "\n        } {\n"
                                '          input.review.object.metadata.labels.team == "none"\n'
                                '          label := "team"\n'
                                '          msg := "a team named none"\n'
                                "        }\n      libs:")
    assert "} {" in template
    spec = "  match:\n    kinds: [{apiGroups: [apps], kinds: [Deployment]}]\n  parameters: {labels: [owner]}"
    (tmp_path / "none.yaml").write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\n"
                                        "  namespace: shop\n  labels: {owner: a, team: none}\nspec: {}\n")
    result = tdv("scan", str(tmp_path / "none.yaml"), "--policies",
                 str(policy_dir(tmp_path, constraint(spec=spec), template=template)), "--policy", "TEAMLABELS-*",
                 "-o", "json")
    assert [f["message"] for f in json.loads(result.stdout)["findings"]] == ["a team named none"]
