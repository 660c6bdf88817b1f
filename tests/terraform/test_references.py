"""Terraform references (validator.sources.terraform_refs): plan configuration and `.tf` files."""

from __future__ import annotations

import pytest

from validator.sources.terraform_hcl import Module, source_file
from validator.sources.terraform_hcl_refs import hcl_links
from validator.sources.terraform_refs import (
    DYNAMIC,
    SPLAT,
    Index,
    Link,
    config_address,
    instance_key,
    link_instances,
    module_steps,
    parse_traversal,
    plan_references,
)


def refs(*texts: str) -> dict:
    return {"references": list(texts)}


def const(value) -> dict:
    return {"constant_value": value}


def resource(type_: str, name: str, expressions: dict | None = None, **extra) -> dict:
    return {"address": f"{type_}.{name}", "mode": "managed", "type": type_, "name": name,
            "expressions": expressions or {}, **extra}


def plan(root: dict) -> dict:
    return {"format_version": "1.2", "terraform_version": "1.9.0", "configuration": {"root_module": root}}


def links(data: dict, addresses: list[str]) -> dict:
    return link_instances(addresses, plan_references(data))


# --- addresses -----------------------------------------------------------------------------


@pytest.mark.parametrize("address, expected", [
    ("aws_s3_bucket.b", "aws_s3_bucket.b"),
    ("aws_s3_bucket.b[0]", "aws_s3_bucket.b"),
    ('module.m["a.b"].module.n[2].aws_s3_bucket.b["k"]', "module.m.module.n.aws_s3_bucket.b"),
    ('aws_s3_bucket.b["with \\"quote\\" ]"]', "aws_s3_bucket.b"),
])
def test_config_address(address, expected):
    assert config_address(address) == expected


def test_instance_key_and_module_steps():
    assert instance_key("aws_s3_bucket.b") is None
    assert instance_key("aws_s3_bucket.b[3]") == 3
    assert instance_key('module.m[1].aws_s3_bucket.b["x"]') == "x"
    assert instance_key('module.m[1].aws_s3_bucket.b') is None
    assert module_steps('module.a["x"].module.b.aws_s3_bucket.c[0]') == [("a", '["x"]'), ("b", "")]
    assert module_steps("aws_s3_bucket.c") == []


def test_parse_traversal():
    assert parse_traversal("aws_s3_bucket.b[0].id") == ["aws_s3_bucket", "b", Index(0), "id"]
    assert parse_traversal('module.m["a"].out') == ["module", "m", Index("a"), "out"]
    assert parse_traversal("aws_s3_bucket.b[*].id") == ["aws_s3_bucket", "b", SPLAT, "id"]
    assert parse_traversal("aws_s3_bucket.b[each.key]") == ["aws_s3_bucket", "b", DYNAMIC]


# --- plan JSON -----------------------------------------------------------------------------


def test_plan_direct_reference_and_nested_block():
    data = plan({"resources": [
        resource("aws_s3_bucket", "b", {"bucket": const("acme")}),
        resource("aws_kms_key", "k"),
        resource("aws_s3_bucket_server_side_encryption_configuration", "e", {
            "bucket": refs("aws_s3_bucket.b.id", "aws_s3_bucket.b"),
            "rule": [{"apply_server_side_encryption_by_default": [
                {"kms_master_key_id": refs("aws_kms_key.k.arn", "aws_kms_key.k"), "sse_algorithm": const("aws:kms")}]}],
        }),
    ]})
    found = links(data, ["aws_s3_bucket.b", "aws_kms_key.k", "aws_s3_bucket_server_side_encryption_configuration.e"])
    assert found["aws_s3_bucket_server_side_encryption_configuration.e"].links == (
        Link(("bucket",), "aws_s3_bucket.b", via="id"),
        Link(("rule", "apply_server_side_encryption_by_default", "kms_master_key_id"), "aws_kms_key.k", via="arn"),
    )
    assert found["aws_s3_bucket.b"].links == ()
    assert not found["aws_s3_bucket_server_side_encryption_configuration.e"].opaque


def test_plan_constant_and_data_source_are_not_links_and_not_opaque():
    data = plan({"resources": [
        resource("aws_s3_bucket", "b"),
        resource("aws_s3_bucket_versioning", "v", {"bucket": const("acme")}),
        resource("aws_s3_bucket_policy", "p", {
            "bucket": const("acme"), "policy": refs("data.aws_iam_policy_document.p.json", "data.aws_iam_policy_document.p")}),
    ]})
    found = links(data, ["aws_s3_bucket.b", "aws_s3_bucket_versioning.v", "aws_s3_bucket_policy.p"])
    assert found["aws_s3_bucket_versioning.v"].links == () and not found["aws_s3_bucket_versioning.v"].opaque
    assert found["aws_s3_bucket_policy.p"].links == () and not found["aws_s3_bucket_policy.p"].opaque


def test_plan_local_and_root_variable_are_opaque():
    data = plan({"resources": [
        resource("aws_s3_bucket", "b"),
        resource("aws_s3_bucket_versioning", "v", {"bucket": refs("local.bucket_id")}),
        resource("aws_s3_bucket_logging", "l", {"bucket": refs("var.bucket")}),
    ]})
    found = links(data, ["aws_s3_bucket.b", "aws_s3_bucket_versioning.v", "aws_s3_bucket_logging.l"])
    assert found["aws_s3_bucket_versioning.v"].opaque == {("bucket",)}
    assert found["aws_s3_bucket_logging.l"].opaque == {("bucket",)}
    assert found["aws_s3_bucket_versioning.v"].links == ()


def test_plan_attribute_with_a_link_and_a_condition_is_not_opaque():
    data = plan({"resources": [
        resource("aws_s3_bucket", "b", count_expression=refs("local.create")),
        resource("aws_s3_bucket_versioning", "v", {
            "bucket": refs("local.create", "aws_s3_bucket.b[0].id", "aws_s3_bucket.b[0]", "aws_s3_bucket.b")}),
    ]})
    found = links(data, ["aws_s3_bucket.b[0]", "aws_s3_bucket_versioning.v"])
    assert found["aws_s3_bucket_versioning.v"].links == (Link(("bucket",), "aws_s3_bucket.b[0]", via="id"),)
    assert not found["aws_s3_bucket_versioning.v"].opaque


def test_plan_module_resources_get_the_module_prefix():
    data = plan({"module_calls": {"store": {"source": "./store", "module": {"resources": [
        resource("aws_s3_bucket", "b"),
        resource("aws_s3_bucket_public_access_block", "p", {"bucket": refs("aws_s3_bucket.b.id", "aws_s3_bucket.b")}),
    ]}}}, "resources": [resource("aws_s3_bucket", "b")]})
    found = links(data, ["aws_s3_bucket.b", "module.store.aws_s3_bucket.b", "module.store.aws_s3_bucket_public_access_block.p"])
    assert found["module.store.aws_s3_bucket_public_access_block.p"].links == (
        Link(("bucket",), "module.store.aws_s3_bucket.b", via="id"),)


def test_plan_variable_of_a_child_module_follows_the_module_call():
    data = plan({"resources": [resource("aws_iam_role", "app")], "module_calls": {"perms": {
        "source": "./perms",
        "expressions": {"role_name": refs("aws_iam_role.app.name", "aws_iam_role.app"), "arn": const("arn:x")},
        "module": {"resources": [resource("aws_iam_role_policy_attachment", "a", {
            "role": refs("var.role_name"), "policy_arn": refs("var.arn")})]},
    }}})
    found = links(data, ["aws_iam_role.app", "module.perms.aws_iam_role_policy_attachment.a"])
    attachment = found["module.perms.aws_iam_role_policy_attachment.a"]
    assert attachment.links == (Link(("role",), "aws_iam_role.app", via="name"),)
    assert not attachment.opaque  # var.arn is a constant given by the call


def test_plan_module_output_leads_into_the_module():
    data = plan({"resources": [
        resource("aws_s3_bucket_public_access_block", "p", {"bucket": refs("module.store.id", "module.store")}),
    ], "module_calls": {"store": {"source": "registry/store", "module": {
        "resources": [resource("aws_s3_bucket", "this", count_expression=const(1))],
        "outputs": {"id": {"expression": refs("aws_s3_bucket.this[0].id", "aws_s3_bucket.this[0]", "aws_s3_bucket.this")}},
    }}}})
    found = links(data, ["module.store.aws_s3_bucket.this[0]", "aws_s3_bucket_public_access_block.p"])
    assert found["aws_s3_bucket_public_access_block.p"].links == (Link(("bucket",), "module.store.aws_s3_bucket.this[0]", via="id"),)


def test_plan_unknown_module_output_is_opaque():
    data = plan({"resources": [
        resource("aws_s3_bucket_public_access_block", "p", {"bucket": refs("module.store.nope", "module.store")}),
    ], "module_calls": {"store": {"source": "./s", "module": {"resources": [], "outputs": {}}}}})
    found = links(data, ["aws_s3_bucket_public_access_block.p"])
    assert found["aws_s3_bucket_public_access_block.p"].opaque == {("bucket",)}


def test_plan_count_index_pairs_instances():
    data = plan({"resources": [
        resource("aws_s3_bucket", "b", count_expression=const(2)),
        resource("aws_s3_bucket_versioning", "v", {"bucket": refs("aws_s3_bucket.b", "count.index")},
                 count_expression=const(2)),
    ]})
    addresses = ["aws_s3_bucket.b[0]", "aws_s3_bucket.b[1]", "aws_s3_bucket_versioning.v[0]", "aws_s3_bucket_versioning.v[1]"]
    found = links(data, addresses)
    assert found["aws_s3_bucket_versioning.v[1]"].links == (Link(("bucket",), "aws_s3_bucket.b[1]"),)
    assert found["aws_s3_bucket_versioning.v[0]"].links == (Link(("bucket",), "aws_s3_bucket.b[0]"),)


def test_plan_for_each_over_the_buckets_pairs_by_key():
    data = plan({"resources": [
        resource("aws_s3_bucket", "b", for_each_expression=refs("var.names")),
        resource("aws_s3_bucket_versioning", "v", {"bucket": refs("each.value.id", "each.value")},
                 for_each_expression=refs("aws_s3_bucket.b")),
    ]})
    addresses = ['aws_s3_bucket.b["logs"]', 'aws_s3_bucket.b["data"]',
                 'aws_s3_bucket_versioning.v["logs"]', 'aws_s3_bucket_versioning.v["data"]']
    found = links(data, addresses)
    assert found['aws_s3_bucket_versioning.v["data"]'].links == (Link(("bucket",), 'aws_s3_bucket.b["data"]'),)


def test_plan_literal_key_picks_the_instance():
    data = plan({"resources": [
        resource("aws_s3_bucket", "b", for_each_expression=refs("var.names")),
        resource("aws_s3_bucket_logging", "l", {"bucket": refs('aws_s3_bucket.b["data"].id', 'aws_s3_bucket.b["data"]', "aws_s3_bucket.b")}),
    ]})
    found = links(data, ['aws_s3_bucket.b["logs"]', 'aws_s3_bucket.b["data"]', "aws_s3_bucket_logging.l"])
    assert found["aws_s3_bucket_logging.l"].links == (Link(("bucket",), 'aws_s3_bucket.b["data"]', via="id"),)


def test_plan_reference_to_several_instances_is_only_possible():
    data = plan({"resources": [
        resource("aws_iam_user", "u", count_expression=const(2)),
        resource("aws_iam_policy_attachment", "a", {"users": refs("aws_iam_user.u")}),
    ]})
    found = links(data, ["aws_iam_user.u[0]", "aws_iam_user.u[1]", "aws_iam_policy_attachment.a"])
    assert found["aws_iam_policy_attachment.a"].links == (
        Link(("users",), "aws_iam_user.u[0]", certain=False), Link(("users",), "aws_iam_user.u[1]", certain=False))
    assert found["aws_iam_policy_attachment.a"].targets(certain=True) == []


def test_plan_module_instances_stay_apart():
    module = {"resources": [
        resource("aws_s3_bucket", "b"),
        resource("aws_s3_bucket_versioning", "v", {"bucket": refs("aws_s3_bucket.b.id", "aws_s3_bucket.b")}),
    ]}
    data = plan({"module_calls": {"site": {"source": "./site", "for_each_expression": refs("var.sites"), "module": module}}})
    addresses = ['module.site["a"].aws_s3_bucket.b', 'module.site["b"].aws_s3_bucket.b',
                 'module.site["a"].aws_s3_bucket_versioning.v']
    found = links(data, addresses)
    assert found['module.site["a"].aws_s3_bucket_versioning.v'].links == (
        Link(("bucket",), 'module.site["a"].aws_s3_bucket.b', via="id"),)


def test_plan_target_missing_from_the_plan_gives_no_link():
    data = plan({"resources": [
        resource("aws_s3_bucket", "b"),
        resource("aws_s3_bucket_versioning", "v", {"bucket": refs("aws_s3_bucket.b.id", "aws_s3_bucket.b")}),
    ]})
    found = links(data, ["aws_s3_bucket_versioning.v"])  # the bucket is being deleted
    assert found["aws_s3_bucket_versioning.v"].links == ()


def test_plan_reference_to_an_undeclared_resource_is_opaque():
    data = plan({"resources": [
        resource("aws_s3_bucket_versioning", "v", {"bucket": refs("aws_s3_bucket.gone.id", "aws_s3_bucket.gone")}),
    ]})
    assert links(data, ["aws_s3_bucket_versioning.v"])["aws_s3_bucket_versioning.v"].opaque == {("bucket",)}


def test_plan_without_configuration_or_malformed_has_no_references():
    assert plan_references({"format_version": "1.2"}) == {}
    assert plan_references({"configuration": {"root_module": {"resources": ["x", {"type": 3}],
                                                              "module_calls": {"m": "x"}}}}) == {}


def test_plan_meta_arguments_are_not_attributes():
    data = plan({"resources": [
        resource("aws_s3_bucket", "b"),
        resource("aws_s3_bucket_versioning", "v", {"bucket": const("x"), "depends_on": refs("aws_s3_bucket.b")}),
    ]})
    assert links(data, ["aws_s3_bucket.b", "aws_s3_bucket_versioning.v"])["aws_s3_bucket_versioning.v"].links == ()


def test_plan_cycle_through_module_variables_ends():
    data = plan({"module_calls": {"a": {"source": "./a", "expressions": {"x": refs("module.a.y")}, "module": {
        "resources": [resource("aws_s3_bucket_versioning", "v", {"bucket": refs("var.x")})],
        "outputs": {"y": {"expression": refs("var.x")}}}}}})
    found = links(data, ["module.a.aws_s3_bucket_versioning.v"])
    assert found["module.a.aws_s3_bucket_versioning.v"].opaque == {("bucket",)}


# --- .tf files -----------------------------------------------------------------------------


def tf_links(text: str) -> dict:
    return hcl_links(Module([source_file("main.tf", text)]))


def test_tf_references_in_every_form():
    found = tf_links('''
locals {
  logs_id = aws_s3_bucket.logs.id
}
resource "aws_s3_bucket" "logs" {
  bucket = "acme-logs"
}
resource "aws_s3_bucket" "many" {
  count  = 2
  bucket = "acme-${count.index}"
}
resource "aws_thing" "t" {
  direct    = aws_s3_bucket.logs.id
  indexed   = aws_s3_bucket.many[0].id
  template  = "${aws_s3_bucket.logs.arn}/*"
  splat     = aws_s3_bucket.many[*].arn
  listed    = [for b in aws_s3_bucket.many : b.arn]
  local     = local.logs_id
  called    = element(concat(aws_s3_bucket.many.*.id, [""]), 0)
  rule {
    inner {
      key = aws_s3_bucket.logs.bucket
    }
  }
}
''')["aws_thing.t"]
    targets = {link.attribute: link.target for link in found.links}
    assert targets == {
        ("direct",): "aws_s3_bucket.logs", ("indexed",): "aws_s3_bucket.many", ("template",): "aws_s3_bucket.logs",
        ("splat",): "aws_s3_bucket.many", ("listed",): "aws_s3_bucket.many", ("local",): "aws_s3_bucket.logs",
        ("called",): "aws_s3_bucket.many", ("rule", "inner", "key"): "aws_s3_bucket.logs",
    }
    assert all(link.certain for link in found.links)
    assert not found.opaque


def test_tf_what_cannot_be_followed_is_opaque():
    found = tf_links('''
resource "aws_thing" "t" {
  from_variable = var.bucket
  from_module   = module.store.id
  missing       = aws_s3_bucket.nowhere.id
  unknown_local = local.nope
  heredoc       = <<EOT
${aws_s3_bucket.logs.arn}
EOT
  from_data     = data.aws_s3_bucket.existing.id
  literal       = "acme"
}
''')["aws_thing.t"]
    assert found.links == ()
    assert found.opaque == {("from_variable",), ("from_module",), ("missing",), ("unknown_local",), ("heredoc",)}


def test_tf_for_and_dynamic_iterators_are_not_resources():
    found = tf_links('''
resource "ingress" "value" {
}
resource "b" "x" {
}
resource "aws_security_group" "sg" {
  tags = { for b in ["x"] : b => b.x }
  dynamic "ingress" {
    for_each = var.rules
    content {
      from_port = ingress.value.port
    }
  }
}
''')["aws_security_group.sg"]
    assert found.links == ()
    assert found.opaque == {("ingress",)}  # built from var.rules


def test_tf_dynamic_block_over_resources_links_the_block():
    found = tf_links('''
resource "aws_security_group" "peer" {
}
resource "aws_security_group" "sg" {
  dynamic "ingress" {
    for_each = [aws_security_group.peer.id]
    iterator = peer
    content {
      security_groups = [peer.value]
    }
  }
}
''')["aws_security_group.sg"]
    assert found.links == (Link(("ingress",), "aws_security_group.peer", via="id"),)


def test_tf_each_and_count_follow_the_meta_argument():
    found = tf_links('''
resource "aws_s3_bucket" "b" {
  for_each = toset(["a", "b"])
  bucket   = each.key
}
resource "aws_s3_bucket_versioning" "v" {
  for_each = aws_s3_bucket.b
  bucket   = each.value.id
  depends_on = [aws_s3_bucket.other]
}
''')
    assert found["aws_s3_bucket_versioning.v"].links == (Link(("bucket",), "aws_s3_bucket.b"),)
    assert found["aws_s3_bucket.b"].links == () and not found["aws_s3_bucket.b"].opaque


def test_tf_self_reference_and_cycles():
    found = tf_links('''
locals {
  a = local.b
  b = local.a
}
resource "aws_s3_bucket" "b" {
  bucket = local.a
  tags   = { self = aws_s3_bucket.b.id }
}
''')["aws_s3_bucket.b"]
    assert found.links == ()
    assert found.opaque == {("bucket",)}  # the cycle of locals ends, unresolved


def test_tf_exports_are_outputs_and_module_arguments():
    module = Module([source_file("main.tf", '''
resource "aws_s3_bucket" "out" {}
resource "aws_s3_bucket" "passed" {}
resource "aws_s3_bucket" "kept" {}
resource "aws_s3_bucket_versioning" "v" {
  bucket = aws_s3_bucket.kept.id
}
locals {
  ids = [aws_s3_bucket.passed.id]
}
output "bucket" {
  value = aws_s3_bucket.out.arn
}
module "extra" {
  source  = "./extra"
  buckets = local.ids
  depends_on = [aws_s3_bucket.kept]
}
''')])
    from validator.sources.terraform_hcl_refs import hcl_exports
    assert hcl_exports(module) == {"aws_s3_bucket.out", "aws_s3_bucket.passed"}


def test_via_names_the_attribute_read():
    found = tf_links('''
resource "aws_vpc" "main" {}
resource "aws_vpc_security_group_ingress_rule" "r" {
  security_group_id = aws_vpc.main.default_security_group_id
}
resource "aws_flow_log" "f" {
  vpc_id = aws_vpc.main[*].id[0]
}
''')
    assert found["aws_vpc_security_group_ingress_rule.r"].links == (
        Link(("security_group_id",), "aws_vpc.main", via="default_security_group_id"),)
    assert found["aws_flow_log.f"].links == (Link(("vpc_id",), "aws_vpc.main", via=None),)


def test_plan_lone_instance_of_another_module_instance_is_not_linked():
    module = {"resources": [
        resource("aws_s3_bucket", "b"),
        resource("aws_s3_bucket_versioning", "v", {"bucket": refs("aws_s3_bucket.b.id", "aws_s3_bucket.b")}),
    ]}
    data = plan({"module_calls": {"site": {"source": "./site", "for_each_expression": refs("var.sites"), "module": module}}})
    found = links(data, ['module.site["b"].aws_s3_bucket.b', 'module.site["a"].aws_s3_bucket_versioning.v'])
    assert found['module.site["a"].aws_s3_bucket_versioning.v'].links == ()


def test_hostile_configuration_gives_opaque_attributes_not_errors():
    weird = plan({"resources": [{"type": "a", "name": "b", "expressions": {
        "x": {"references": [1, None, "", "a.", "module.", "var", "each", "count.index", "aws_s3_bucket.b[", 'aws_s3_bucket.b["x']},
        "y": [1, "s", {"z": {"references": "notalist"}}]}}],
        "module_calls": {"m": {"module": {"outputs": {"o": "x"}, "resources": None}, "expressions": []}, "n": None}})
    found = links(weird, ["a.b", "a.b[0]", 'module.m["x"].a.b'])
    assert found["a.b"].links == () and found["a.b"].opaque == {("x",)}


def test_deeply_nested_tf_expression_is_followed():
    deep = "x = " + "[" * 190 + "aws_s3_bucket.b.id" + "]" * 190
    found = tf_links('resource "aws_s3_bucket" "b" {}\nresource "t" "n" {\n' + deep + "\n}\n")
    assert found["t.n"].links == (Link(("x",), "aws_s3_bucket.b", via="id"),)
