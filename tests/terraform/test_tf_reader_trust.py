"""`.tf` files are read as Terraform reads them, and never lose a block without an error.

Heredoc closing markers with trailing spaces, blocks the parser would swallow, files over
the reader's budgets, and numbers Terraform accepts but no policy value can hold.
"""

from __future__ import annotations

import time

import pytest

from validator.model import InputProblem
from validator.sources import terraform_scan
from validator.sources.terraform_hcl import parse_text, scan_texts

# The closing `POLICY  ` has two trailing spaces: valid Terraform (the marker line is trimmed).
TRAILING_SPACE_HEREDOC = (
    'resource "aws_iam_policy" "a" {\n'          # 1
    "  policy = <<POLICY\n"                       # 2
    '{"Version": "2012-10-17"}\n'                # 3
    "POLICY  \n"                                  # 4
    "}\n"                                         # 5
    "\n"
    'resource "aws_s3_bucket" "b" {\n'           # 7
    '  bucket = "b"\n'
    "}\n"
    "\n"
    'resource "aws_s3_bucket" "c" {\n'           # 11
    '  bucket = "c"\n'
    "}\n"
    "\n"
    'resource "aws_iam_policy" "d" {\n'          # 15
    "  policy = <<-POLICY\n"
    '    {"Version": "2012-10-17"}\n'
    "    POLICY\t \n"
    "}\n"
    "\n"
    'resource "aws_s3_bucket" "e" {\n'           # 21
    '  bucket = "e"  # resource "x" "y" {\n'
    "}\n"
)


def build(text: str) -> tuple[dict, list[InputProblem]]:
    items = list(scan_texts([("main.tf", text)]))
    return ({r.ref: r for r in items if not isinstance(r, InputProblem)},
            [e for e in items if isinstance(e, InputProblem)])


def test_a_heredoc_closing_marker_with_trailing_spaces_is_read_as_terraform_reads_it():
    resources, errors = build(TRAILING_SPACE_HEREDOC)
    assert not errors
    assert list(resources) == ["aws_iam_policy.a", "aws_s3_bucket.b", "aws_s3_bucket.c",
                               "aws_iam_policy.d", "aws_s3_bucket.e"]
    assert resources["aws_iam_policy.a"].document["policy"] == '{"Version": "2012-10-17"}\n'
    assert resources["aws_iam_policy.d"].document["policy"] == '{"Version": "2012-10-17"}\n'
    # locations stay exact after the normalised lines
    assert [r.locate(()).line for r in resources.values()] == [1, 7, 11, 15, 21]
    assert resources["aws_s3_bucket.e"].locate(("bucket",)).line == 22
    assert resources["aws_s3_bucket.e"].locate(("bucket",)).column == 3


def test_normalising_keeps_every_offset():
    layout = terraform_scan.scan(TRAILING_SPACE_HEREDOC)
    assert len(layout.text) == len(TRAILING_SPACE_HEREDOC)
    assert layout.text.splitlines()[3] == "  POLICY"
    assert [len(line) for line in layout.text.splitlines()] == [len(line) for line in TRAILING_SPACE_HEREDOC.splitlines()]


def test_crlf_heredoc_with_trailing_spaces():
    resources, errors = build(TRAILING_SPACE_HEREDOC.replace("\n", "\r\n"))
    assert not errors and len(resources) == 5
    assert resources["aws_iam_policy.a"].document["policy"] == '{"Version": "2012-10-17"}\n'


def test_headers_in_heredocs_strings_and_comments_are_not_counted():
    text = (
        "/* resource \"x\" \"in_comment\" {\n"
        "resource \"x\" \"also_in_comment\" { */\n"
        'resource "aws_iam_policy" "p" {\n'     # 3
        "  policy = <<EOT\n"
        'resource "x" "in_heredoc" {\n'
        "EOT\n"
        '  name = "${"resource"} { x }"\n'
        "}\n"
        "# resource \"x\" \"hashed\" {\n"
        "locals {\n"                           # 10
        "  a = 1\n"
        "}\n"
    )
    assert terraform_scan.scan(text).headers == {3: "resource", 10: "locals"}
    resources, errors = build(text)
    assert not errors and list(resources) == ["aws_iam_policy.p"]


def test_a_file_whose_blocks_the_parser_loses_is_an_error_naming_the_first_lost_line(monkeypatch):
    """Without the normalisation, python-hcl2 reads the first heredoc up to the next `POLICY`
    line and swallows the three blocks in between: the cross-check names the first one."""
    text = (
        'resource "aws_iam_policy" "a" {\n'
        "  policy = <<POLICY\n"
        "{}\n"
        "POLICY  \n"
        "}\n"
        'resource "aws_s3_bucket" "b" {\n'      # 6
        '  bucket = "b"\n'
        "}\n"
        'output "c" {\n'                        # 9
        "  value = 1\n"
        "}\n"
        'resource "aws_iam_policy" "d" {\n'      # 12
        "  policy = <<POLICY\n"
        "{}\n"
        "POLICY\n"
        "}\n"
    )
    scan = terraform_scan.scan

    def without_normalising(source: str) -> terraform_scan.Layout:
        layout = scan(source)
        layout.text = source
        return layout

    monkeypatch.setattr(terraform_scan, "scan", without_normalising)
    error = parse_text(text, "main.tf")
    assert isinstance(error, InputProblem)
    assert error.line == 6
    assert error.message == ("the resource block on this line was not read by the HCL parser"
                             " (3 block(s) lost); the file is not scanned")


def test_lost_blocks_compares_lines_and_types():
    layout = terraform_scan.Layout("", {1: "resource", 5: "variable", 9: "output"})
    assert terraform_scan.lost_blocks(layout, {1: "resource", 5: "variable", 9: "output"}) == []
    assert terraform_scan.lost_blocks(layout, {1: "resource", 9: "locals"}) == [(5, "variable"), (9, "output")]


@pytest.mark.parametrize("text, message, line", [
    ('resource "a" "b" {\n  x = [' + "1,\n" * 10_001 + "]\n}\n",
     "not scanned: more than 10,000 items in one list, object or block", 2),
    ('resource "a" "b" {\n  x = [' + "1," * 1_000_000 + "]\n}\n",
     "not scanned: more than 10,000 items in one list, object or block", 2),
    ('resource "a" "b" {\n  x = ' + "(" * 300 + "1" + ")" * 300 + "\n}\n",
     "not scanned: nested deeper than 200 levels", 2),
    ('resource "a" "b" {\n  x = "' + '${"' * 300 + "x" + '"}' * 300 + '"\n}\n',
     "not scanned: nested deeper than 200 levels", 2),
    ('resource "a" "b" {\n  x = ' + " + ".join(["1"] * 1_000_000) + "\n}\n",
     "not scanned: more than 500 operators in one expression", 2),
    ('resource "a" "b" {\n  x = ' + "true ? 1 : " * 100_000 + "2\n}\n",
     "not scanned: more than 500 operators in one expression", 2),
])
def test_a_file_over_a_budget_is_one_error_and_quick(text, message, line):
    started = time.monotonic()
    error = parse_text(text, "big.tf")
    assert time.monotonic() - started < 5
    assert isinstance(error, InputProblem) and (error.message, error.line) == (message, line)


def test_operators_in_comments_and_heredocs_are_not_counted():
    text = ('locals {\n  a = 1 // ' + "-" * 600 + "\n  b =<<EOF\n" + "+" * 600 + "\nEOF\n"
            "  c = 1 /* " + "*" * 600 + " */\n}\n")
    assert not isinstance(parse_text(text, "main.tf"), InputProblem)


def test_the_token_and_time_budgets(monkeypatch):
    text = 'resource "a" "b%d" {\n  x = 1\n}\n'
    monkeypatch.setattr(terraform_scan, "MAX_TOKENS", 5000)
    error = parse_text("".join(text % i for i in range(2000)), "many.tf")
    assert isinstance(error, InputProblem) and error.message == "not scanned: more than 5,000 tokens"
    monkeypatch.setattr(terraform_scan, "MAX_PARSE_SECONDS", 0.0)
    error = parse_text("".join(text % i for i in range(2000)), "many.tf")
    assert isinstance(error, InputProblem) and error.message == "not scanned: parsing took more than 0 s"


def test_a_resource_or_data_block_without_type_and_name_is_an_error_not_dropped():
    resources, errors = build('resource "x_r4" {\n}\ndata "a" "b" "c" {\n}\nresource "x" "" {\n}\n'
                              'resource "x" "ok" {\n}\n')
    assert list(resources) == ["x.ok"]
    assert [(e.line, e.message) for e in errors] == [
        (1, "a resource block needs a type and a name (two labels)"),
        (3, "a data block needs a type and a name (two labels)"),
        (5, "a resource block needs a type and a name (two labels)"),
    ]


def test_nothing_in_a_tf_file_is_executed_or_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("file-content-never-read")
    marker = tmp_path / "marker"
    resources, errors = build(
        'resource "x_thing" "a" {\n'
        f'  content  = file("{secret}")\n'
        f'  template = templatefile("{secret}", {{}})\n'
        '  command  = "${timestamp()}"\n'
        '  provisioner "local-exec" {\n'
        f'    command = "touch {marker}"\n'
        "  }\n"
        "}\n")
    assert not errors
    assert resources["x_thing.a"].document == {}  # all unknown: no function outside the list is evaluated
    assert {("content",), ("template",), ("command",)} <= resources["x_thing.a"].unknown_paths
    assert not marker.exists()
