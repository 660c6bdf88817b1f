"""Reports written in pieces (`chunks`) are byte for byte the documents the reporters wrote
whole: JSON and SARIF against their data serialized at once (`build` and `dumps_indented`,
what `render` returned before), JUnit against junit-xml's suite of every test case with the
names given as before (`unique_names_whole` below, the previous implementation, which held
a set entry per check). Each report is cut in batches of several sizes, so that pieces
start and end between entries of every kind. Then the writing: a report that fails while
it is written leaves the file it would replace as it was, and no temporary file."""

from __future__ import annotations

import dataclasses
import os
import textwrap
from collections import Counter
from pathlib import Path

import junit_xml
import pytest

from validator.cli.options import write_chunks
from validator.errors import UserError
from validator.report import ScanReport
from validator.reporters import FormatOptions, indented_json, json_report, junit, reporter, reporter_chunks, sarif
from validator.reporters.attrs_json import to_json_data

REPOSITORY = Path(__file__).resolve().parent.parent.parent
OPTIONS = FormatOptions()

# Two objects with the same ref in one file (document numbers), a suppression in source.
TWINS = textwrap.dedent("""\
    apiVersion: v1
    kind: Pod
    metadata: {name: twin, namespace: shop}
    spec:
      containers:
        - {name: app, image: "nginx:latest", securityContext: {privileged: true}}
    ---
    apiVersion: v1
    kind: Pod
    metadata:
      name: twin
      namespace: shop
      annotations: {tdv.dev/skip: "TDV-K8S-001: a node agent"}
    spec:
      containers:
        - {name: app, image: "nginx:1.27", securityContext: {privileged: true}}
    """)
CLEAN = textwrap.dedent("""\
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: settings
      namespace: shop
      labels: {app.kubernetes.io/name: shop, app.kubernetes.io/instance: shop-prod}
    data: {mode: production}
    """)


# --- the documents as the reporters wrote them whole ------------------------------------------


def json_whole(report: ScanReport) -> str:
    return json_report.dumps_one_entry_per_line(json_report.build(report), json_report.ONE_LINE_ENTRIES) + "\n"


def sarif_whole(report: ScanReport) -> str:
    data = to_json_data(sarif.build(report), sarif.ALWAYS_WRITTEN)
    return indented_json.dumps_indented(data, frozenset({"results"})) + "\n"


def unique_names_whole(results, classnames: list[str]) -> list[str]:
    """The names of the checks' test cases as junit.py gave them before it wrote in pieces."""
    where: dict[int, str] = {}
    for r in results:
        if id(r.resource) not in where:
            where[id(r.resource)] = f"{r.resource.ref} in {r.resource.path}"
    bases = [where[id(r.resource)] for r in results]
    repeated = Counter(zip(classnames, bases))
    names: list[str] = []
    taken: set[tuple[str, str]] = set()
    for result, cls, base in zip(results, classnames, bases):
        name = base
        if repeated[(cls, base)] > 1:
            name = f"{base} (document {result.resource.doc_index + 1})"
        unique, count = name, 1
        while (cls, unique) in taken:
            count += 1
            unique = f"{name} #{count}"
        taken.add((cls, unique))
        names.append(unique)
    return names


def junit_whole(report: ScanReport) -> str:
    results = list(report.results)
    classnames = [junit.classname(result) for result in results]
    cases = [junit._check_case(result, cls, name, report)
             for result, cls, name in zip(results, classnames, unique_names_whole(results, classnames))]
    suite = junit_xml.TestSuite(junit.SUITE_NAME, cases + junit._input_error_cases(report.errors),
                                properties={"tdv.version": junit.__version__, "tdv.failOn": report.fail_on.label})
    return junit._report_xml(suite)


WHOLE = {"json": json_whole, "sarif": sarif_whole, "junit": junit_whole}


# --- the reports ------------------------------------------------------------------------------


@pytest.fixture
def reports(tmp_path, report, report_with_evaluation_error, input_tree, scan_tree, write_file):
    """Reports with input errors, evaluation errors, findings with fixes and related objects,
    suppressed and baselined findings, document numbers and `#2` names, and none at all."""
    twins = write_file(tmp_path / "twins" / "pods.yaml", TWINS)
    clean = write_file(tmp_path / "clean" / "settings.yaml", CLEAN)
    baseline = tmp_path / "baseline.json"
    scan_tree(tmp_path, twins, write_baseline=baseline)
    write_file(twins, TWINS.replace("nginx:1.27", "nginx:1.27\n          ports: [{containerPort: 80}]"))
    return {
        "inputs": report,
        "evaluation error": report_with_evaluation_error,
        "examples, with fixes": scan_tree(REPOSITORY, REPOSITORY / "examples", plan_fixes=True),
        "cross-resource": scan_tree(REPOSITORY, REPOSITORY / "tests" / "data" / "cross-resource"),
        "given twice": scan_tree(tmp_path, twins, twins, tmp_path / "manifests", tmp_path / "manifests"),
        "baselined and suppressed": scan_tree(tmp_path, twins, baseline=baseline),
        "clean": scan_tree(tmp_path, clean),
        "nothing": ScanReport(results=[], errors=[], policies=[]),
    }


@pytest.mark.parametrize("batch", [1, 3, 256])
@pytest.mark.parametrize("fmt", ["json", "sarif", "junit"])
def test_chunks_are_the_whole_document(reports, fmt, batch, monkeypatch):
    monkeypatch.setattr(indented_json, "BATCH", batch)
    monkeypatch.setattr(junit, "BATCH", batch)
    for name, report in reports.items():
        text = "".join(reporter_chunks(fmt, report, OPTIONS))
        assert text == WHOLE[fmt](report), name
        assert text == reporter(fmt).render(report, OPTIONS), name


def test_the_reports_have_what_the_comparison_needs(reports):
    every = [result for report in reports.values() for result in report.results]
    assert any(result.suppression for result in every)
    assert any(v.baseline is not None and v.baseline.value == "unchanged" for r in every for v in r.violations)
    assert any(v.related for r in every for v in r.violations)
    assert any(r.fixes for r in every)
    assert any(report.errors for report in reports.values())
    assert any(report.evaluation_errors for report in reports.values())
    text = junit.render(reports["given twice"], OPTIONS)
    assert "(document 2)" in text and ' #2"' in text
    assert not reports["clean"].failures and list(reports["clean"].results)


def test_a_pieces_holds_a_batch_of_entries(reports, monkeypatch):
    monkeypatch.setattr(indented_json, "BATCH", 2)
    monkeypatch.setattr(junit, "BATCH", 2)
    report = reports["examples, with fixes"]
    findings = sum(len(r.violations) for r in report.failures)
    checks = len(list(report.results))
    assert len(list(json_report.chunks(report, OPTIONS))) >= findings / 2
    assert len(list(sarif.chunks(report, OPTIONS))) >= findings / 2
    assert len(list(junit.chunks(report, OPTIONS))) >= checks / 2
    assert max(len(piece) for piece in junit.chunks(report, OPTIONS)) < len(junit.render(report, OPTIONS)) / 10


def test_names_decorated_like_a_clash_stay_as_they_were(reports):
    """Files whose names end like a decorated test case name (` (document 1)`, ` #2`), before
    and after the objects given twice whose test cases get such names."""
    report = reports["given twice"]
    results = list(report.results)
    firsts: dict[tuple[str, int], int] = {}
    for result in results:
        firsts.setdefault((result.resource.path, result.resource.doc_index), id(result.resource))

    def renamed(suffixes: tuple[str, ...]) -> list:
        found = []
        for suffix in suffixes:
            copies: dict[int, object] = {}
            for result in results:
                resource = result.resource
                if id(resource) in firsts.values():
                    copy = copies.setdefault(id(resource), dataclasses.replace(resource, path=resource.path + suffix))
                    found.append(dataclasses.replace(result, resource=copy))
        return found

    odd_results = renamed((" (document 1)", " #2")) + results + renamed((" (document 2)", " (document 1) #2", " #3"))
    odd = ScanReport(results=odd_results, errors=[], policies=report.policies)
    classnames = [junit.classname(result) for result in odd_results]
    names = junit._Names(odd.results)
    expected = unique_names_whole(odd_results, classnames)
    assert [names.name(r, cls) for r, cls in zip(odd_results, classnames)] == expected
    assert any(name.endswith(" (document 1) #3") for name in expected)
    assert any(name.endswith(" (document 1) #2 #2") for name in expected)
    assert junit.render(odd, OPTIONS) == junit_whole(odd)


# --- writing ----------------------------------------------------------------------------------


def failing(error: BaseException):
    yield "{\n"
    raise error


@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), RuntimeError("reporter bug")])
def test_a_failed_write_leaves_the_previous_file_and_no_temporary_one(tmp_path, error):
    target = tmp_path / "out" / "report.json"
    target.parent.mkdir()
    target.write_text("previous\n", encoding="utf-8")
    if isinstance(error, OSError):
        with pytest.raises(UserError, match=f"^cannot write {target}: No space left on device$"):
            write_chunks(failing(error), target)
    else:
        with pytest.raises(RuntimeError):
            write_chunks(failing(error), target)
    assert target.read_text(encoding="utf-8") == "previous\n"
    assert os.listdir(target.parent) == ["report.json"]


def test_a_file_is_replaced_whole_with_its_permissions_and_links_kept(tmp_path):
    target = tmp_path / "report.json"
    target.write_text("previous\n", encoding="utf-8")
    target.chmod(0o640)
    link = tmp_path / "latest.json"
    link.symlink_to(target.name)
    write_chunks(iter(["a", "é", "\n"]), link)
    assert link.is_symlink() and target.read_text(encoding="utf-8") == "aé\n"
    assert target.stat().st_mode & 0o777 == 0o640
    new = tmp_path / "new" / "report.xml"
    write_chunks(iter(["<x/>\n"]), new)
    mask = os.umask(0)
    os.umask(mask)
    assert new.read_text(encoding="utf-8") == "<x/>\n" and new.stat().st_mode & 0o777 == 0o666 & ~mask
    assert sorted(os.listdir(tmp_path)) == ["latest.json", "new", "report.json"]
