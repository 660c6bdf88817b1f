"""Plan JSON: detection, formats, which resources, unknown and sensitive values, source lines."""

from __future__ import annotations

import json

import pytest

from validator.model import InputProblem
from validator.sources import terraform_plan
from validator.sources.terraform_values import SENSITIVE, UNKNOWN_ITEM

from tests.terraform.common import CORPUS, DATA, PROJECT, SECRET, by_address, collect

REAL_PLANS = {  # file -> (format_version, resources that will exist after apply)
    "checkov__py_graph_check_tf_plan/py_graph_check_paln.json": ("0.1", 11),
    "checkov__runner_plan/tfplan.json": ("0.1", 55),
    "checkov__plan_with_iam_policies/tfplan.json": ("1.0", 7),
    "checkov__plan_with_deleted_resources/tfplan.json": ("1.1", 1),
    "checkov__plan_change_keys/tfplan.json": ("1.1", 2),
    "checkov__plan_nested_child_modules_with_connections/tfplan.json": ("1.1", 9),
    "checkov__plan_encodings/tfplan_win_utf16.json": ("1.1", 1),
    "checkov__plan_with_for_each/tf_plan.json": ("1.2", 5),
}


@pytest.mark.parametrize("name", REAL_PLANS)
def test_real_plans_of_every_format_are_read(name):
    version, count = REAL_PLANS[name]
    inputs = collect(CORPUS / name)
    assert not inputs.errors
    assert len(inputs.resources) == count
    assert all(r.identity and r.metadata[terraform_plan.PLAN_METADATA] for r in inputs.resources)
    assert f'"format_version": "{version}"' in (CORPUS / name).read_bytes().decode("utf-16" if "utf16" in name else "utf-8")


def test_a_plan_is_recognised_by_content_not_by_name(tmp_tree):
    plan = (CORPUS / "checkov__plan_with_deleted_resources/tfplan.json").read_text()
    directory = tmp_tree({"anything.json": plan, "not-a-plan.json": '{"format_version": "1.0", "kind": "x"}'})
    inputs = collect(directory, root=directory)
    assert [r.ref for r in inputs.resources] == ["aws_secretsmanager_secret.default"]
    assert not inputs.errors  # the second file is neither a plan nor a Kubernetes object
    assert not terraform_plan.accepts(".yaml", plan)
    assert terraform_plan.accepts("", plan)  # standard input


def test_utf16_plan_with_bom():
    resource, = collect(CORPUS / "checkov__plan_encodings/tfplan_win_utf16.json").resources
    assert resource.ref == "aws_s3_bucket.data"
    assert resource.document["bucket"] == "mike-abcd123data"


def test_delete_only_changes_are_left_out_and_replacements_kept():
    resources = by_address(collect(PROJECT / "plan.json"))
    assert "terraform_data.legacy" not in resources  # actions ["delete"]
    assert "terraform_data.firewall" in resources  # actions ["update"]
    replaced = collect(CORPUS / "checkov__plan_with_deleted_resources/tfplan.json").resources
    assert [r.ref for r in replaced] == ["aws_secretsmanager_secret.default"]  # ["create", "delete"]


def test_child_modules_for_each_and_count_give_full_addresses():
    resources = by_address(collect(PROJECT / "plan.json"))
    assert set(resources) == {
        "terraform_data.firewall", 'terraform_data.zones["internal"]', 'terraform_data.zones["public"]',
        'module.net["blue"].terraform_data.rule[0]', 'module.net["green"].terraform_data.rule[0]',
        'module.net["blue"].module.inner.terraform_data.deep', 'module.net["green"].module.inner.terraform_data.deep',
    }
    deep = resources['module.net["blue"].module.inner.terraform_data.deep']
    assert deep.kind == "terraform_data" and deep.name == deep.ref


def test_planned_values_are_the_fallback(tmp_tree):
    plan = json.loads((PROJECT / "plan.json").read_text())
    del plan["resource_changes"]
    directory = tmp_tree({"plan.json": json.dumps(plan)})
    resources = by_address(collect(directory / "plan.json", root=directory))
    assert len(resources) == 7 and "terraform_data.legacy" not in resources
    assert resources["terraform_data.firewall"].document["input"]["password"] == SENSITIVE


def test_unknown_values_are_removed_and_recorded():
    firewall = by_address(collect(PROJECT / "plan.json"))["terraform_data.firewall"]
    assert "created" not in firewall.document["input"]  # timestamp(): known after apply
    assert "output" not in firewall.document
    assert {("input", "created"), ("output",)} <= firewall.unknown_paths


def test_unknown_list_items_close_up_the_list():
    plan = _plan({"cidr_blocks": ["10.0.0.0/8", None, "0.0.0.0/0"], "name": None},
                 after_unknown={"cidr_blocks": [False, True, False], "id": True})
    resource, = terraform_plan.parse(plan, _stdin(), _context())
    assert resource.document == {"cidr_blocks": ["10.0.0.0/8", "0.0.0.0/0"]}
    assert resource.unknown_paths == {("cidr_blocks", UNKNOWN_ITEM), ("id",)}


def test_sensitive_values_are_masked_wherever_they_are_marked():
    plan = _plan({"password": "s3cr3t", "nested": [{"token": "abc", "keep": 1}], "whole": {"a": "b"}},
                 after_sensitive={"password": True, "nested": [{"token": True}], "whole": True})
    resource, = terraform_plan.parse(plan, _stdin(), _context())
    # A whole map marked sensitive keeps its shape, so policies iterating over it still work.
    assert resource.document == {"password": SENSITIVE, "nested": [{"token": SENSITIVE, "keep": 1}],
                                 "whole": {"a": SENSITIVE}}
    firewall = by_address(collect(PROJECT / "plan.json"))["terraform_data.firewall"]
    assert firewall.document["input"]["password"] == SENSITIVE
    assert SECRET not in repr(firewall.document)


def test_findings_point_at_tf_lines_of_the_plans_modules():
    resources = by_address(collect(PROJECT / "plan.json"))
    firewall = resources["terraform_data.firewall"]
    assert firewall.path == "project/main.tf"
    assert firewall.locate(()).line == 8  # the resource block
    assert firewall.locate(("input", "cidr")).line == 10  # the attribute inside the object
    assert firewall.locate(("input", "missing")).line == 9  # nearest written parent
    deep = resources['module.net["green"].module.inner.terraform_data.deep']
    assert (deep.path, deep.locate(("input", "port")).line) == ("project/modules/net/modules/inner/main.tf", 3)
    rule = resources['module.net["blue"].terraform_data.rule[0]']
    assert (rule.path, rule.locate(()).line) == ("project/modules/net/main.tf", 5)


def test_tf_root_points_elsewhere(tmp_tree):
    directory = tmp_tree({"build/plan.json": (PROJECT / "plan.json").read_text()})
    alone = by_address(collect(directory / "build/plan.json", root=directory))
    assert alone["terraform_data.firewall"].path == "build/plan.json"
    mapped = by_address(collect(directory / "build/plan.json", root=DATA, tf_root=PROJECT))
    assert mapped["terraform_data.firewall"].path == "project/main.tf"


def test_without_tf_files_findings_point_at_the_address_in_the_plan():
    resources = by_address(collect(CORPUS / "checkov__runner_plan/tfplan.json"))
    bucket = resources["aws_s3_bucket.data"]
    assert bucket.path == "corpus/checkov__runner_plan/tfplan.json"
    text = (CORPUS / "checkov__runner_plan/tfplan.json").read_text().splitlines()
    location = bucket.locate(("acl",))
    assert text[location.line - 1][location.column - 1:].startswith('"address": "aws_s3_bucket.data"')
    assert text[location.line - 2].strip() == "{"  # the entry in resource_changes
    assert "resource_changes" in "\n".join(text[:location.line]).rsplit('"planned_values"', 1)[-1]


def test_registry_modules_fall_back_to_the_plan():
    resources = by_address(collect(CORPUS / "checkov__plan_nested_child_modules_with_connections/tfplan.json"))
    acl = resources["module.s3_bucket.aws_s3_bucket_acl.this[0]"]  # source: terraform-aws-modules/s3-bucket/aws
    assert acl.path.endswith("tfplan.json") and acl.locate(("acl",)).line > 1


def test_plan_and_its_tf_files_scanned_together_are_not_counted_twice():
    inputs = collect(PROJECT)
    assert len(inputs.resources) == 7  # from the plan only
    assert {r.metadata.get(terraform_plan.PLAN_METADATA) for r in inputs.resources} == {"project/plan.json"}
    assert inputs.files == 5


def test_iam_plan_maps_to_its_main_tf():
    resources = by_address(collect(CORPUS / "checkov__plan_with_iam_policies/tfplan.json"))
    policy = resources["aws_iam_policy.policy_pass"]
    assert (policy.path, policy.locate(()).line, policy.locate(("policy",)).line) == (
        "corpus/checkov__plan_with_iam_policies/main.tf", 8, 12)
    assert json.loads(policy.document["policy"])["Statement"][0]["Action"] == "s3:*"


def _plan(after: dict, after_unknown: dict | None = None, after_sensitive: dict | None = None) -> str:
    change = {"actions": ["create"], "after": after, "after_unknown": after_unknown or {},
              "after_sensitive": after_sensitive or {}}
    resource = {"address": "x_thing.a", "mode": "managed", "type": "x_thing", "name": "a", "change": change}
    return json.dumps({"format_version": "1.2", "terraform_version": "1.9.0", "resource_changes": [resource]})


def _stdin():
    from validator.sources.files import InputFile
    return InputFile(None, "<stdin>")


def _context():
    from validator.sources.context import SourceContext
    return SourceContext(DATA)


def test_parse_never_raises_on_odd_structures():
    odd = [
        {"format_version": "1.0", "terraform_version": "1", "resource_changes": [{"address": "a.b", "type": "a", "name": "b",
                                                                                  "change": "oops"}]},
        {"format_version": "1.0", "terraform_version": "1", "planned_values": {"root_module": {"child_modules": "x"}}},
        {"format_version": "1.0", "terraform_version": "1", "planned_values": {"root_module": {"resources": [None, 3]}}},
        {"format_version": "1.0", "terraform_version": "1", "resource_changes": {}},
        {"format_version": 1, "terraform_version": "1", "resource_changes": []},
    ]
    for document in odd:
        items = list(terraform_plan.parse(json.dumps(document), _stdin(), _context()))
        assert all(isinstance(i, InputProblem) for i in items)
