"""Terraform values no policy value can hold are input errors naming the file; the scan goes on.

Huge numbers (beyond a 64-bit float, or beyond Python's 4,300-digit conversion limit),
values nested deeper than the limits, and odd text (lone UTF-16 surrogates) in plans and
`.tf` files.
"""

from __future__ import annotations

import json

from validator.model import InputProblem
from validator.sources import terraform_plan
from validator.sources.context import SourceContext
from validator.sources.files import InputFile
from validator.sources.terraform_hcl import scan_texts

from tests.terraform.common import scan_json

HUGE = "9" * 401  # beyond a 64-bit float
ENORMOUS = "9" * 5000  # beyond Python's int conversion limit


def tf(text: str) -> tuple[dict, list[InputProblem]]:
    items = list(scan_texts([("main.tf", text)]))
    return ({r.ref: r for r in items if not isinstance(r, InputProblem)},
            [e for e in items if isinstance(e, InputProblem)])


def plan(*resources: tuple[str, dict], **change_extra) -> str:
    changes = [{"address": f"x_thing.{name}", "mode": "managed", "type": "x_thing", "name": name,
                "change": {"actions": ["create"], "after": after, **change_extra}} for name, after in resources]
    return json.dumps({"format_version": "1.2", "terraform_version": "1.9.0", "resource_changes": changes})


def read_plan(text: str, context: SourceContext | None = None) -> tuple[dict, list[InputProblem]]:
    items = list(terraform_plan.parse(text, InputFile(None, "plan.json"), context or SourceContext(".")))
    return ({r.ref: r for r in items if not isinstance(r, InputProblem)},
            [e for e in items if isinstance(e, InputProblem)])


def test_huge_numbers_in_tf_are_an_error_for_their_resource_only():
    resources, errors = tf(
        'resource "x_thing" "literal" {\n  a = ' + HUGE + "\n}\n"
        'resource "x_thing" "product" {\n  a = ' + " * ".join(["99999999999"] * 40) + "\n}\n"
        'resource "x_thing" "enormous" {\n  a = ' + ENORMOUS + "\n}\n"
        'resource "x_thing" "float" {\n  a = 1e999\n}\n'
        'resource "x_thing" "fine" {\n  a = 9223372036854775808\n  b = 1.5e300\n}\n'
    )
    assert [(e.path, e.line, e.message) for e in errors] == [
        ("main.tf", 1, "x_thing.literal: a number in its values is too large"),
        ("main.tf", 4, "x_thing.product: a number in its values is too large"),
        ("main.tf", 7, "x_thing.enormous: a number in its values is too large"),
        ("main.tf", 10, "x_thing.float: a number in its values is too large"),
    ]
    assert resources["x_thing.fine"].document == {"a": 9.223372036854775808e18, "b": 1.5e300}


def test_a_huge_variable_default_is_an_error_for_every_resource_that_uses_it():
    _, errors = tf('variable "big" {\n  default = ' + HUGE + "\n}\n"
                   'resource "x_thing" "a" {\n  n = var.big\n}\n'
                   'resource "x_thing" "b" {\n  n = "${var.big}"\n}\n')
    assert [(e.line, e.message) for e in errors] == [(4, "x_thing.a: a number in its values is too large"),
                                                     (7, "x_thing.b: a number in its values is too large")]


def test_huge_numbers_in_a_plan_are_an_error_for_their_resource_only():
    text = plan(("big", {"n": 1}), ("ok", {"n": 2}), ("float", {"n": 1}))
    text = text.replace('"n": 1}', '"n": ' + HUGE + "}", 1).replace('"n": 1}', '"n": 1e999}', 1)
    resources, errors = read_plan(text)
    assert [e.message for e in errors] == ["x_thing.big: a number in its values is too large",
                                           "x_thing.float: a number in its values is too large"]
    assert resources["x_thing.ok"].document == {"n": 2}


def test_a_plan_number_beyond_the_conversion_limit_is_one_short_line():
    _, (error,) = read_plan(plan(("a", {"n": 1})).replace('"n": 1', '"n": ' + ENORMOUS))
    assert error.message == "invalid plan JSON: a number has more than 4300 digits"


def test_deep_plan_values_with_marks_are_an_error_not_a_crash():
    deep = '{"a": ' * 600 + "1" + "}" * 600  # within the JSON decoder's limit, beyond the masking's recursion
    text = plan(("deep", {"n": 1}), ("ok", {"n": 1}), after_sensitive=True)
    resources, errors = read_plan(text.replace('{"n": 1}', deep, 1))
    assert [e.message for e in errors] == ["x_thing.deep: values are nested too deeply"]
    assert "x_thing.ok" in resources


def test_a_plan_mapped_to_a_deeply_nested_tf_block_is_still_read(tmp_path):
    nested = "[" * 199 + "]" * 199  # within the reader's budget, beyond the evaluator's recursion
    (tmp_path / "main.tf").write_text('resource "x_thing" "a" {\n  n = ' + nested + "\n}\n"
                                      'resource "x_thing" "b" {\n  n = ' + HUGE + "\n}\n")
    text = plan(("a", {"n": 1}), ("b", {"n": 2}))
    resources, errors = read_plan(text, SourceContext(tmp_path, tf_root=tmp_path))
    assert not errors
    assert (resources["x_thing.a"].path, resources["x_thing.a"].locate(("n",)).line) == ("main.tf", 2)
    assert (resources["x_thing.b"].path, resources["x_thing.b"].locate(("n",)).line) == ("main.tf", 5)


def test_the_scan_reports_each_and_goes_on(tmp_tree):
    directory = tmp_tree({
        "big/main.tf": 'resource "x_thing" "a" {\n  n = ' + HUGE + "\n}\n",
        "plan.json": plan(("big", {"n": 1})).replace('"n": 1', '"n": ' + HUGE),
        "s3/main.tf": 'resource "aws_s3_bucket_acl" "a" {\n  acl = "public-read"\n}\n',
    })
    code, report = scan_json(str(directory), root=directory)
    assert code == 2
    assert sorted((e["path"], e["message"]) for e in report["errors"]) == [
        ("big/main.tf", "x_thing.a: a number in its values is too large"),
        ("plan.json", "x_thing.big: a number in its values is too large"),
    ]
    assert [f["policyId"] for f in report["findings"]] == ["TDV-AWS-001"]


def test_malformed_planned_values_entries_and_too_deep_modules_are_reported():
    module: dict = {"resources": [{"address": "x_thing.deep", "mode": "managed", "type": "x_thing", "name": "deep",
                                   "values": {"n": 1}}]}
    for _ in range(120):
        module = {"child_modules": [module]}
    text = json.dumps({"format_version": "1.2", "terraform_version": "1.9.0", "planned_values": {"root_module": {
        "resources": [7, {"mode": "managed"}, {"address": "x_thing.ok", "mode": "managed", "type": "x_thing",
                                               "name": "ok", "values": {"n": 1}}],
        "child_modules": [module]}}})
    resources, errors = read_plan(text)
    assert list(resources) == ["x_thing.ok"]
    assert [e.message for e in errors] == [
        "malformed plan: a planned_values resource is not an object",
        "malformed plan: a planned_values resource has no address",
        "malformed plan: child_modules are nested deeper than 100 levels",
    ]
