"""The .tf editor sets one attribute at a time and never reformats the file."""

from __future__ import annotations

import pytest

from validator.fix.hcl_edit import edit
from validator.fix.plan import Assignment
from validator.sources.terraform_hcl import scan_texts

DB = """\
resource "aws_db_instance" "orders" {
  identifier          = "orders"
  engine              = "postgres" # pinned major
  publicly_accessible = true # the reporting tool

  tags = {
    team = "orders"
  }

  lifecycle {
    prevent_destroy = true
  }
}
"""


def fixed(text, address, *assignments):
    new, outcomes = edit(text, address, list(assignments))
    problems = [o.problem for o in outcomes if o.problem]
    assert not problems, problems
    return new


def set_(*path, value, if_absent=False):
    return Assignment("set", tuple(path), value, if_absent)


def document(text, address):
    return next(r.document for r in scan_texts([("main.tf", text)]) if r.identity == address)


def test_an_attribute_is_replaced_in_place_keeping_its_comment():
    new = fixed(DB, ("aws_db_instance", "orders"), set_("publicly_accessible", value=False))
    assert new == DB.replace("publicly_accessible = true #", "publicly_accessible = false #")


def test_a_missing_attribute_follows_the_last_one_line_attribute_aligned_when_it_fits():
    new = fixed(DB, ("aws_db_instance", "orders"), set_("storage_encrypted", value=True))
    assert new == DB.replace("# the reporting tool\n", "# the reporting tool\n  storage_encrypted   = true\n")
    longer = fixed(DB, ("aws_db_instance", "orders"), set_("iam_database_authentication_enabled", value=True))
    assert "tool\n  iam_database_authentication_enabled = true\n\n  tags" in longer


def test_an_expression_is_replaced_by_the_literal_value():
    text = DB.replace("publicly_accessible = true", "publicly_accessible = var.public")
    new = fixed(text, ("aws_db_instance", "orders"), set_("publicly_accessible", value=False))
    assert document(new, "aws_db_instance.orders")["publicly_accessible"] is False


def test_values_already_set_and_if_absent_change_nothing():
    assert fixed(DB, ("aws_db_instance", "orders"), set_("engine", value="postgres"),
                 set_("identifier", value="x", if_absent=True)) == DB


def test_a_missing_nested_block_is_created_at_the_end_of_the_resource():
    text = 'resource "aws_instance" "web" {\n  ami = "ami-1"\n\n  # the disk\n  root_block_device {\n    encrypted = true\n  }\n}\n'
    new = fixed(text, ("aws_instance", "web"), set_("metadata_options", 0, "http_tokens", value="required"))
    assert new == text.replace("  }\n}\n", '  }\n\n  metadata_options {\n    http_tokens = "required"\n  }\n}\n')
    assert document(new, "aws_instance.web")["metadata_options"] == [{"http_tokens": "required"}]


def test_an_attribute_in_an_existing_nested_block():
    text = ('resource "aws_instance" "web" {\n  metadata_options {\n    http_endpoint = "enabled"\n'
            '    http_tokens   = "optional" // legacy agent\n  }\n}\n')
    new = fixed(text, ("aws_instance", "web"), set_("metadata_options", 0, "http_tokens", value="required"))
    assert new == text.replace('"optional"', '"required"')


def test_one_line_blocks_are_written_out_when_an_attribute_is_added():
    text = 'resource "aws_instance" "web" {\n  metadata_options { http_endpoint = "enabled" }\n}\nresource "aws_kms_key" "k" {}\n'
    new = fixed(text, ("aws_instance", "web"), set_("metadata_options", 0, "http_tokens", value="required"))
    new = fixed(new, ("aws_kms_key", "k"), set_("enable_key_rotation", value=True))
    assert new == ('resource "aws_instance" "web" {\n  metadata_options {\n    http_endpoint = "enabled"\n'
                   '    http_tokens = "required"\n  }\n}\nresource "aws_kms_key" "k" {\n  enable_key_rotation = true\n}\n')


def test_the_resource_is_found_by_type_and_name_among_others():
    text = DB + '\nresource "aws_db_instance" "replica" {\n\tidentifier = "replica"\n}\n'
    new = fixed(text, ("aws_db_instance", "replica"), set_("publicly_accessible", value=False))
    # The `=` of the attribute above moves right, as `terraform fmt` aligns the run.
    assert new == text.replace('\tidentifier = "replica"\n}',
                               '\tidentifier          = "replica"\n\tpublicly_accessible = false\n}')


def test_an_attribute_after_a_heredoc_and_before_depends_on():
    text = ('resource "aws_instance" "web" {\n  user_data = <<-EOT\n    echo hi\n  EOT\n'
            '  depends_on = [aws_iam_role.web]\n}\n')
    new = fixed(text, ("aws_instance", "web"), set_("monitoring", value=True))
    assert new == text.replace("  EOT\n", "  EOT\n  monitoring = true\n")


def test_strings_are_escaped_so_they_are_never_templates():
    text = 'resource "aws_ssm_parameter" "p" {\n  name = "p"\n}\n'
    new = fixed(text, ("aws_ssm_parameter", "p"), set_("value", value='say "${hi}" %{if}'))
    assert document(new, "aws_ssm_parameter.p")["value"] == 'say "${hi}" %{if}'


def test_append_to_a_written_list():
    text = 'resource "aws_x" "a" {\n  names = ["a"]\n  empty = []\n}\n'
    new = fixed(text, ("aws_x", "a"), Assignment("append", ("names",), "b"), Assignment("append", ("empty",), "c"),
                Assignment("append", ("names",), "a"), Assignment("append", ("other",), "d"))
    assert document(new, "aws_x.a") == {"names": ["a", "b"], "empty": ["c"], "other": ["d"]}


def test_crlf_files_keep_crlf():
    text = DB.replace("\n", "\r\n")
    new = fixed(text, ("aws_db_instance", "orders"), set_("storage_encrypted", value=True))
    assert "\n" not in new.replace("\r\n", "")
    assert new.count("\r\n") == text.count("\r\n") + 1


@pytest.mark.parametrize("text,assignment,problem", [
    ('resource "aws_instance" "w" {\n  dynamic "metadata_options" {\n    for_each = []\n    content {}\n  }\n}\n',
     set_("metadata_options", 0, "http_tokens", value="required"), "dynamic block"),
    (DB, set_("tags", "team", value="x"), "attributes and nested blocks only"),
    (DB, Assignment("append", ("engine",), "x"), "not a list written out"),
    ('resource "aws_instance" "w" {\n  ebs_block_device {\n  }\n}\n',
     set_("ebs_block_device", 1, "encrypted", value=True), "does not exist"),
    (DB, set_("publicly_accessible", value=False), "not in the file"),
])
def test_refusals(text, assignment, problem):
    address = ("aws_instance", "w") if "aws_instance" in text else ("aws_db_instance", "elsewhere")
    if "tags" in str(assignment.path) or assignment.operation == "append":
        address = ("aws_db_instance", "orders")
    new, outcomes = edit(text, address, [assignment])
    assert new == text
    assert problem in outcomes[0].problem
