"""JSON output layout: the data of `build()`, indented, with one line per finding,
suppressed finding and error."""

from __future__ import annotations

import json

import pytest

from validator.reporters import FormatOptions, json_report

SKIPPED_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: débogage
  namespace: shop
  annotations:
    tdv.dev/skip: "TDV-K8S-001: privilège requis, voir le ticket « 42 »"
spec:
  containers:
    - name: app
      image: nginx:1.27
      securityContext: {privileged: true}
"""


@pytest.fixture
def report(manifests, write_file, request):
    """Findings, a suppressed one, input errors and an evaluation error, some of it not ASCII."""
    write_file(manifests / "skipped.yaml", SKIPPED_POD)
    return request.getfixturevalue("report_with_evaluation_error")


def test_the_report_has_every_kind_of_entry(report):
    data = json_report.build(report)
    assert all(data[key] for key in json_report.ONE_LINE_ENTRIES)
    assert {e["kind"] for e in data["errors"]} == {"input", "evaluation"}
    assert "débogage" in data["suppressed"][0]["resource"]["name"]


def test_the_output_is_the_data_of_build(report):
    assert json.loads(json_report.render(report, FormatOptions())) == json_report.build(report)


def test_each_entry_is_one_line(report):
    data = json_report.build(report)
    lines = json_report.render(report, FormatOptions()).splitlines()
    for key in json_report.ONE_LINE_ENTRIES:
        start = lines.index(f'  "{key}": [') + 1
        end = start + len(data[key])
        assert [json.loads(line.strip().removesuffix(",")) for line in lines[start:end]] == data[key]
        assert lines[end] in ("  ],", "  ]")
    assert "« 42 »" in "\n".join(lines)  # not escaped


def test_everything_else_is_indented_as_before(report):
    data = json_report.build(report)
    rest = {key: value for key, value in data.items() if key not in json_report.ONE_LINE_ENTRIES}
    assert json_report.dumps_one_entry_per_line(rest, json_report.ONE_LINE_ENTRIES) == json.dumps(
        rest, indent=2, ensure_ascii=False)
    empty = {**data, **{key: [] for key in json_report.ONE_LINE_ENTRIES}}
    assert json_report.dumps_one_entry_per_line(empty, json_report.ONE_LINE_ENTRIES) == json.dumps(
        empty, indent=2, ensure_ascii=False)


def test_an_entry_with_a_newline_in_a_message_stays_on_one_line():
    data = {"errors": [{"message": "line one\nline two"}, {}], "warnings": [{"message": "a\nb"}]}
    text = json_report.dumps_one_entry_per_line(data, ("errors",))
    assert json.loads(text) == data
    assert text.splitlines()[2:5] == ['    {"message": "line one\\nline two"},', "    {}", "  ],"]
