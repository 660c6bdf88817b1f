"""`.tf` files: what is resolved, what stays unknown, and where findings point."""

from __future__ import annotations

from validator.model import InputProblem
from validator.sources.terraform_hcl import scan_texts
from validator.sources.terraform_values import SENSITIVE, UNKNOWN_ITEM

from tests.terraform.common import AWS, DATA, PROJECT, by_address, collect

MODULE = '''\
variable "env" {
  default = "prod"
}
variable "token" {
  default   = "abc123"
  sensitive = true
}
variable "unset" {}
locals {
  prefix = "acme-${var.env}"
  tags   = { Env = var.env, "Team" = "web" }
  first  = local.tags["Env"]
  loop   = local.loop
}
resource "aws_thing" "example" {
  name        = "${local.prefix}-thing"
  same        = "${var.env}"
  numbers     = [1, -2, 3.5, 2 * 3 + 1]
  choice      = var.env == "prod" ? "big" : "small"
  tags        = local.tags
  first       = local.first
  token       = var.token
  unset       = var.unset
  reference   = aws_vpc.main.id
  function    = lower("ABC")
  templated   = "%{ if true }x%{ endif }"
  escaped     = "a\\"b\\n$${literal}"
  cycle       = local.loop
  policy      = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = ["s3:*"] }] })
  partial     = jsonencode({ Resource = aws_s3_bucket.b.arn })
  converted   = toset(["b", "a", "b"])
  nothing     = null
  text        = <<-EOT
    line one
      line two
    EOT
  count       = 2
  provider    = aws.west
  depends_on  = [aws_vpc.main]
  lifecycle {
    prevent_destroy = true
  }
  block {
    inner = 1
  }
  block {
    inner = 2
  }
  dynamic "block" {
    for_each = var.unset
    content {
      inner = block.value
    }
  }
}
'''


def build(text: str, name: str = "main.tf"):
    items = list(scan_texts([(name, text)]))
    errors = [i for i in items if isinstance(i, InputProblem)]
    return [i for i in items if not isinstance(i, InputProblem)], errors


def test_values_are_read_as_written_and_simple_references_resolved():
    (resource,), errors = build(MODULE)
    assert not errors
    assert (resource.kind, resource.name, resource.ref) == ("aws_thing", "aws_thing.example", "aws_thing.example")
    assert resource.document == {
        "name": "acme-prod-thing",
        "same": "prod",
        "numbers": [1, -2, 3.5, 7],
        "choice": "big",
        "tags": {"Env": "prod", "Team": "web"},
        "first": "prod",
        "token": SENSITIVE,
        "escaped": 'a"b\n${literal}',
        "policy": '{"Statement":[{"Action":["s3:*"],"Effect":"Allow"}],"Version":"2012-10-17"}',
        "converted": ["a", "b"],
        "text": "line one\n  line two\n",
        "block": [{"inner": 1}, {"inner": 2}],
    }


def test_what_cannot_be_known_statically_is_unknown():
    (resource,), _ = build(MODULE)
    assert resource.unknown_paths == {
        ("unset",), ("reference",), ("function",), ("templated",), ("cycle",), ("partial",), ("block", UNKNOWN_ITEM),
    }


def test_positions_of_blocks_attributes_and_items():
    (resource,), _ = build(MODULE)
    assert resource.locate(()).line == 15
    assert resource.locate(("name",)).line == 16
    assert resource.locate(("numbers", 2)).line == 18
    assert resource.locate(("tags", "Team")).line == 20  # written in a local: the attribute's line
    assert resource.locate(("block", 1, "inner")).line == 47
    assert resource.locate(("block", 0)).line == 43
    assert resource.locate(("policy", "anything")).line == 29
    assert resource.locate(("not", "there")).line == 15


def test_literal_count_zero_and_empty_for_each_remove_a_resource():
    resources, _ = build('resource "a" "gone" {\n  count = 0\n}\nresource "a" "none" {\n  for_each = {}\n}\n'
                         'resource "a" "kept" {\n  count = var.n\n}\n')
    assert [r.ref for r in resources] == ["a.kept"]


def test_a_directory_is_one_module_with_tfvars():
    resources = by_address(collect(AWS))
    admin = resources["aws_security_group.admin"]
    assert admin.document["ingress"][0]["cidr_blocks"] == ["0.0.0.0/0"]  # terraform.tfvars overrides the default
    assert resources["aws_db_instance.orders"].document["password"] == SENSITIVE
    assert resources["aws_s3_bucket.logs"].document["tags"] == {"Environment": "prod", "Team": "platform"}


def test_a_file_scanned_alone_still_sees_its_modules_variables():
    resources = by_address(collect(AWS / "compute.tf"))
    assert set(resources) == {"aws_db_instance.orders", "aws_iam_policy.ci", "aws_instance.web"}
    assert resources["aws_db_instance.orders"].document["identifier"] == "orders-prod"  # var from variables.tf


def test_syntax_errors_name_file_and_line_and_quote_nothing():
    resources, errors = build('resource "a" "b" {\n  password = "hunter2\n}\n', "broken.tf")
    assert not resources
    error, = errors
    assert (error.path, error.line) == ("broken.tf", 2)
    assert str(error).startswith("broken.tf:2: invalid HCL: unexpected")
    assert "hunter2" not in str(error)
    _, (error,) = build('locals {\n  a = 1\n}\n}\n', "extra.tf")
    assert (error.line, error.message) == (4, "invalid HCL: unexpected '}' (column 1)")


def test_deeply_nested_values_are_an_input_error():
    resources, (error,) = build('resource "a" "b" {\n  x = ' + "[" * 150 + "]" * 150 + "\n}\n")
    assert not resources and "nested too deeply" in error.message and error.line == 1


def test_a_file_nested_beyond_the_budget_is_not_parsed():
    resources, (error,) = build('resource "a" "b" {\n  x = ' + "[" * 2000 + "]" * 2000 + "\n}\n")
    assert not resources and error.message == "not scanned: nested deeper than 200 levels" and error.line == 2


def test_project_tf_files_alone():
    resources = by_address(collect(PROJECT / "main.tf", PROJECT / "variables.tf", root=DATA))
    firewall = resources["terraform_data.firewall"]
    assert firewall.document["input"] == {"cidr": "0.0.0.0/0", "port": 22, "password": SENSITIVE}
    assert ("input", "created") in firewall.unknown_paths  # timestamp()
    zones = resources["terraform_data.zones"]  # for_each: one resource, each.key unknown
    assert zones.document["input"] == {"port": 443}
