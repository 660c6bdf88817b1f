"""docs/coverage/ is generated from the policies and the benchmark catalogues, and kept fresh."""

import textwrap
from pathlib import Path

import pytest

from validator.coverage import (COVERAGE_COMMAND, BenchmarkError, coverage, coverage_documents,
                                load_benchmark, load_benchmarks)
from validator.engine.library import load_policies
from validator.engine.policy import parse_policy
from validator.sources.yaml_loader import load_documents

DOCS = Path(__file__).resolve().parent.parent / "docs" / "coverage"


def test_the_coverage_tables_are_up_to_date():
    expected = coverage_documents(load_policies([]))
    committed = {p.name: p.read_text(encoding="utf-8") for p in DOCS.glob("*.md")} if DOCS.is_dir() else {}
    stale = sorted(name for name in expected.keys() | committed.keys() if expected.get(name) != committed.get(name))
    assert not stale, f"docs/coverage is stale ({', '.join(stale)}); regenerate it with `{COVERAGE_COMMAND}`"


def test_every_control_a_policy_names_is_in_its_benchmark_catalogue():
    policies = load_policies([])
    for bench in load_benchmarks():
        assert not coverage(bench, policies).unknown, bench.standard


def _policy(standards: str) -> object:
    text = textwrap.dedent("""
        id: TDV-T-001
        title: t
        severity: low
        category: best-practice
        description: d
        remediation: r
        targets: {kinds: [Pod]}
        validations: [{expression: "true", message: m}]
        """) + textwrap.dedent(standards)
    return parse_policy(next(iter(load_documents(text))), "t.yaml")


def test_full_partial_and_missing_are_counted_against_checkable_controls(tmp_path):
    path = tmp_path / "bench.yaml"
    path.write_text(textwrap.dedent("""
        standard: demo
        title: Demo benchmark
        controls:
          - {id: "1", title: one, checkable: true}
          - {id: "2", title: two, checkable: true}
          - {id: "3", title: three, checkable: true}
          - {id: "4", title: four, checkable: false, reason: runtime only}
        """))
    bench = load_benchmark(path)
    result = coverage(bench, [_policy('standards: {demo: ["1"]}\npartial: {demo: ["2", "9"]}')])
    assert [row.status for row in result.rows] == ["covered", "partial", "missing", "not checkable"]
    assert result.checkable == 3 and round(result.percent) == 33
    assert result.unknown == (("TDV-T-001", "9"),)


def test_a_control_that_is_not_checkable_must_say_why(tmp_path):
    path = tmp_path / "bench.yaml"
    path.write_text('standard: demo\ntitle: D\ncontrols: [{id: "1", title: one, checkable: false}]\n')
    with pytest.raises(BenchmarkError, match="gives no reason"):
        load_benchmark(path)


def test_a_policy_needs_no_standard():
    policy = _policy("")
    assert policy.standards == {} and policy.partial == {}


def test_policies_named_together_cover_a_control_only_when_each_checks_its_part(tmp_path):
    path = tmp_path / "bench.yaml"
    path.write_text('standard: demo\ntitle: D\ncontrols:\n'
                    '  - {id: "1", title: one, checkable: true, together: [TDV-T-001, TDV-T-002]}\n')
    bench = load_benchmark(path)
    one = _policy('partial: {demo: ["1"]}')
    assert coverage(bench, [one]).rows[0].status == "partial"
    two = type(one)(**{**one.__dict__, "id": "TDV-T-002"})
    assert coverage(bench, [one, two]).rows[0].status == "covered"
    path.write_text('standard: demo\ntitle: D\ncontrols:\n  - {id: "1", title: one, checkable: true, together: [A]}\n')
    with pytest.raises(BenchmarkError, match="two or more"):
        load_benchmark(path)
