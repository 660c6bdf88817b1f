"""JUnit XML output: valid against the Jenkins junit-10 schema extended with testcase@file,
with unique classname+name pairs and the fields GitLab and CircleCI read."""

from __future__ import annotations

import re
from pathlib import Path
import xml.etree.ElementTree as ET
from collections import Counter

import pytest
import xmlschema
import junit_xml

from validator.reporters import FormatOptions, junit

from tests.helpers import load_report, tdv

XSD = Path(__file__).resolve().parent.parent / "schemas" / "junit-10-with-file.xsd"
LOCATION_LINE = re.compile(r"^(?P<file>[^:\s]+):(?P<line>\d+):(?P<column>\d+)  (?P<message>.+)$")


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(XSD)


def render(report) -> str:
    return junit.render(report, FormatOptions())


def cases(text: str) -> list[ET.Element]:
    return load_report(text, "junit").findall(".//testcase")


def case_for(text: str, classname: str, name_start: str) -> ET.Element:
    (found,) = [c for c in cases(text) if c.get("classname") == classname and c.get("name").startswith(name_start)]
    return found


# --- schema --------------------------------------------------------------------------------


def test_report_is_valid_against_the_extended_schema(schema, report_with_evaluation_error):
    schema.validate(render(report_with_evaluation_error))


def test_extended_schema_differs_only_by_testcase_file(schema):
    text = XSD.read_text(encoding="utf-8")
    assert text.index("Changed for tdv's tests") < text.index("<xs:schema")
    attributes = schema.elements["testcase"].attributes
    assert set(attributes) == {"name", "time", "classname", "group", "file"}
    assert not attributes["file"].is_required()


def test_schema_check_catches_a_broken_report(schema, report):
    root = load_report(render(report), "junit")
    root.find(".//testcase").set("unexpected", "x")
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        schema.validate(ET.tostring(root, encoding="unicode"))


def test_empty_scan_is_valid(schema, tmp_path, write_file, scan_tree):
    write_file(tmp_path / "ns.yaml", "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: shop}\n")  # no policy targets it
    text = render(scan_tree(tmp_path, tmp_path / "ns.yaml"))
    schema.validate(text)
    assert cases(text) == []


# --- layout --------------------------------------------------------------------------------


def test_one_suite_with_one_case_per_check_and_per_unreadable_file(report):
    root = load_report(render(report), "junit")
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "tdv"
    files_with_errors = {e.path for e in report.errors}
    assert int(suite.get("tests")) == len(report.results) + len(files_with_errors)
    assert int(suite.get("failures")) == len(report.failures)
    assert int(suite.get("errors")) == len(report.evaluation_errors) + len(files_with_errors)


def test_every_case_has_a_file_that_was_scanned(report, tmp_path):
    for case in cases(render(report)):
        path = case.get("file")
        assert path and not path.startswith("/") and "\\" not in path
        assert (tmp_path / path).is_file()
    files = Counter(case.get("file") for case in cases(render(report)))
    assert set(files) == {"manifests/app.yaml", "manifests/secret.yaml", "manifests/broken.yaml"}


def test_classname_and_name_are_unique_across_files_and_documents(schema, tmp_path, app_text, write_file, scan_tree):
    deployment = app_text.split("---")[0]
    write_file(tmp_path / "a" / "web.yaml", deployment)
    write_file(tmp_path / "b" / "web.yaml", deployment)
    write_file(tmp_path / "b" / "twice.yaml", deployment + "---\n" + deployment)
    report = scan_tree(tmp_path, tmp_path / "a", tmp_path / "b")
    text = render(report)
    schema.validate(text)
    keys = Counter((c.get("classname"), c.get("name")) for c in cases(text))
    assert len(keys) == len(report.results)
    assert max(keys.values()) == 1
    names = {c.get("name") for c in cases(text) if c.get("classname") == "tdv.TDV-K8S-001"}
    assert names == {
        "Deployment/shop/web in a/web.yaml",
        "Deployment/shop/web in b/web.yaml",
        "Deployment/shop/web in b/twice.yaml (document 1)",
        "Deployment/shop/web in b/twice.yaml (document 2)",
    }


def test_times_are_measured_and_in_surefire_format(report):
    root = load_report(render(report), "junit")
    check_cases = [c for c in root.iter("testcase") if c.get("classname") != "tdv.input"]
    assert check_cases and all(float(c.get("time")) >= 0.001 for c in check_cases)
    total = root.find("testsuite").get("time")
    assert re.fullmatch(r"\d+(\.\d{1,3})?", total)
    assert float(total) == pytest.approx(sum(float(c.get("time")) for c in check_cases))


def test_document_is_junit_xmls_reindented_without_disabled(report_with_evaluation_error):
    # tdv builds on junit-xml's element tree; the text is what its string would give.
    awkward = junit_xml.TestCase("ctl\x01 \x7f cr\r lf\n tab\t é \x85 \ufdd0 <&>\"'", "tdv.X", file="a\x02.yaml")
    awkward.add_failure_info(message="m\r\n\x0b\x1f", output="o\r\n\x0c\x80 ]]> \U0001fffe", failure_type="high")
    suite = junit_xml.TestSuite("tdv", junit.test_cases(report_with_evaluation_error) + [awkward],
                      properties={"tdv.version": "1", "tdv.failOn": "low"})
    root = ET.fromstring(junit_xml.to_xml_report_string([suite], prettyprint=False))
    for element in root.iter():
        element.attrib.pop("disabled", None)
    ET.indent(root, space="  ")
    assert junit._report_xml(suite) == ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def test_characters_xml_cannot_hold_are_left_out():
    case = junit_xml.TestCase("name \ufffe \ud800 end", "tdv.X")
    text = junit._report_xml(junit_xml.TestSuite("tdv", [case]))
    assert ET.fromstring(text.encode("utf-8")).find(".//testcase").get("name") == "name   end"


# --- outcomes ------------------------------------------------------------------------------


def test_privileged_container_fails_with_locations(report, app_text):
    case = case_for(render(report), "tdv.TDV-K8S-001", "Deployment/shop/web")
    assert case.get("name") == "Deployment/shop/web in manifests/app.yaml"
    assert case.get("file") == "manifests/app.yaml"
    (failure,) = case.findall("failure")
    assert failure.get("message") == "container app runs privileged"
    assert failure.get("type") == "critical"
    matches = [LOCATION_LINE.match(line) for line in failure.text.splitlines()]
    (location,) = [m for m in matches if m]
    line = next(n for n, text in enumerate(app_text.splitlines(), 1) if "privileged: true" in text)
    assert location["file"] == "manifests/app.yaml"
    assert int(location["line"]) == line
    assert location["message"] == "container app runs privileged"


def test_configmap_without_labels_fails(report):
    case = case_for(render(report), "tdv.TDV-K8S-030", "ConfigMap/shop/settings")
    (failure,) = case.findall("failure")
    assert failure.get("message").startswith("missing recommended labels")
    assert failure.get("type") == "info"


def test_passed_check_is_a_plain_case(report):
    case = case_for(render(report), "tdv.TDV-K8S-030", "Secret/shop/creds")
    assert case.get("file") == "manifests/secret.yaml"
    assert list(case) == []


def test_input_error_is_an_error_case_naming_file_and_line(report):
    (error,) = report.errors
    case = case_for(render(report), "tdv.input", "manifests/broken.yaml")
    assert case.get("name") == "manifests/broken.yaml"
    assert case.get("file") == "manifests/broken.yaml"
    (element,) = case.findall("error")
    assert element.get("message").startswith(f"manifests/broken.yaml:{error.line}: ")
    assert element.get("type") == "input-error"
    assert case.findall("failure") == []


def test_two_errors_in_one_file_share_one_case(schema, tmp_path, write_file, scan_tree):
    write_file(tmp_path / "bad.yaml", "a: 1\na: 2\n---\nb: 1\nb: 2\n")  # a duplicate key in each document
    report = scan_tree(tmp_path, tmp_path / "bad.yaml")
    text = render(report)
    schema.validate(text)
    (case,) = [c for c in cases(text) if c.get("classname") == "tdv.input"]
    (element,) = case.findall("error")
    assert len(report.errors) == 2
    for error in report.errors:
        assert f"bad.yaml:{error.line}" in element.get("message")
        assert f"bad.yaml:{error.line}  {error.message}" in element.text


def test_evaluation_error_is_an_error_case(report_with_evaluation_error):
    case = case_for(render(report_with_evaluation_error), "tdv.TDV-TEST-900", "Deployment/shop/web")
    (element,) = case.findall("error")
    assert element.get("type") == "evaluation-error"
    assert "TDV-TEST-900 could not be evaluated on Deployment/shop/web" in element.get("message")
    assert element.text.startswith("manifests/app.yaml:")


def test_no_secret_values_in_output(report_with_evaluation_error, secrets):
    text = render(report_with_evaluation_error)
    for secret in secrets:
        assert secret not in text


# --- command line --------------------------------------------------------------------------


def test_cli_writes_junit(schema, tmp_path, manifests, secrets):
    out = tmp_path / "reports" / "tdv.xml"
    result = tdv("scan", str(manifests), "--root", str(tmp_path), "-o", f"junit={out}", "-o", f"sarif={out}.sarif")
    assert result.exit_code == 2, result.output
    text = out.read_text(encoding="utf-8")
    schema.validate(text)
    classnames = {c.get("classname") for c in cases(text)}
    assert {"tdv.TDV-K8S-001", "tdv.TDV-K8S-030", "tdv.input"} <= classnames
    for secret in secrets:
        assert secret not in text
