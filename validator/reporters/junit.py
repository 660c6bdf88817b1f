"""JUnit XML output, for the test tabs of GitLab, CircleCI and Jenkins.

Layout: one test suite, `tdv`, holding one test case per check (a policy on a resource):

- classname `tdv.<policy id>` and name `<resource ref> in <file>`, so the pair is unique
  even when two files hold the same resource (a resource repeated within one file also gets
  its document number);
- `file` is the manifest's path relative to the scan root, as GitLab and CircleCI read it;
- `time` is the measured evaluation time, rounded up to the millisecond (Surefire's format);
- a failed check carries `<failure>` whose message joins the violation messages and whose
  text lists them as `file:line:col  message`; a check that could not be evaluated carries
  `<error>`; a passed check is a plain test case;
- a suppressed check, and one whose findings are all in the baseline, is `<skipped>` with
  the reason: neither fails the build, so neither may fail the test report (Jenkins marks a
  build unstable for any failed test). A check with new findings fails with the new ones
  as its message; its text lists every finding, the known ones marked `(baselined)`.

Files that could not be read become error test cases with classname `tdv.input`, one per
file, named by the file's path.

Why a single suite: GitLab files every test case of a report under the job's suite and
CircleCI lists test cases by classname and name, so neither shows suites of a file. The
classname already groups the checks by policy, and Jenkins splits it at the dot into the
package `tdv` and the class (the policy id).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from collections.abc import Sequence
from decimal import ROUND_UP, Decimal

from junit_xml import TestCase, TestSuite

from validator import __version__
from validator.model import InputProblem, Result, Status
from validator.report import ScanReport, is_baselined

SUITE_NAME = "tdv"
INPUT_CLASSNAME = "tdv.input"
_MILLISECOND = Decimal("0.001")


def render(report: ScanReport, options) -> str:
    suite = TestSuite(
        SUITE_NAME,
        test_cases(report),
        properties={"tdv.version": __version__, "tdv.failOn": report.fail_on.label},
    )
    return _report_xml(suite)


# Left out of the text: what to_xml_report_string leaves out (ASCII control characters but
# tab and newline; a carriage return in an attribute stays, written `&#13;`), and characters
# XML cannot hold at all, which it would write as references no parser accepts.
_NOT_XML = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def _report_xml(suite: TestSuite) -> str:
    """The document `to_xml_report_string([suite])` writes, indented and without `disabled`,
    an attribute the Surefire schema does not define (junit-xml always writes `disabled="0"`;
    tdv never disables a check). It is built on junit-xml's suite element, in the
    `testsuites` root that to_xml_report_string would add, rather than by parsing that text."""
    element = suite.build_xml_doc()
    del element.attrib["disabled"]
    root = ET.Element("testsuites", {key: str(int(element.get(key, 0))) for key in ("errors", "failures", "tests")})
    root.set("time", str(float(element.get("time", 0))))
    root.append(element)
    ET.indent(root, space="  ")
    return _NOT_XML.sub("", ET.tostring(root, encoding="unicode", xml_declaration=True)) + "\n"


def classname(result: Result) -> str:
    return f"tdv.{result.policy.id}"


def test_cases(report: ScanReport) -> list[TestCase]:
    results = report.results
    classnames = [classname(result) for result in results]
    cases = [_check_case(result, cls, name, report)
             for result, cls, name in zip(results, classnames, _unique_names(results, classnames))]
    return cases + _input_error_cases(report.errors)


def _unique_names(results: Sequence[Result], classnames: list[str]) -> list[str]:
    where: dict[int, str] = {}  # `ref in path`, once per resource
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
        while (cls, unique) in taken:  # e.g. the same input given twice
            count += 1
            unique = f"{name} #{count}"
        taken.add((cls, unique))
        names.append(unique)
    return names


def _check_case(result: Result, cls: str, name: str, report: ScanReport) -> TestCase:
    resource, policy = result.resource, result.policy
    case = TestCase(name, cls, elapsed_sec=_seconds(result.duration), file=resource.path)
    if result.status is Status.FAIL:
        lines = [f"{policy.id} ({policy.severity.label}): {policy.title}"]
        lines += [
            f"{v.location.path}:{v.location.line}:{v.location.column}  {v.message}"
            + ("  (baselined)" if is_baselined(v) and result.suppression is None else "")
            for v in result.violations
        ]
        new = [v for v in result.violations if not is_baselined(v)]
        if result.suppression is not None:
            where = result.suppression.location
            lines.append(f"suppressed by {where.path}:{where.line}")
            case.add_skipped_info(message=f"suppressed: {result.suppression.reason}", output="\n".join(lines))
        elif not new:
            assert report.baseline is not None  # findings are baselined by a baseline only
            case.add_skipped_info(message=f"baselined: {_count(len(result.violations), 'known finding')}"
                                          f" recorded in {report.baseline.path}", output="\n".join(lines))
        else:
            case.add_failure_info(
                message="; ".join(v.message for v in new),
                output="\n".join(lines),
                failure_type=policy.severity.label,
            )
    elif result.status is Status.ERROR:
        where = resource.locate(())
        message = f"{policy.id} could not be evaluated on {resource.ref}: {result.error}"
        case.add_error_info(
            message=message,
            output=f"{where.path}:{where.line}:{where.column}  {message}",
            error_type="evaluation-error",
        )
    return case


def _input_error_cases(errors: list[InputProblem]) -> list[TestCase]:
    by_path: dict[str, list[InputProblem]] = defaultdict(list)
    for error in errors:
        by_path[error.path].append(error)
    cases = []
    for path, found in by_path.items():
        case = TestCase(path, INPUT_CLASSNAME, file=path)
        case.add_error_info(
            message="; ".join(str(error) for error in found),
            output="\n".join(f"{_where(error)}  {error.message}" for error in found),
            error_type="input-error",
        )
        cases.append(case)
    return cases


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'s' if number != 1 else ''}"


def _where(error: InputProblem) -> str:
    return f"{error.path}:{error.line}" if error.line else error.path


def _seconds(duration: float) -> Decimal | None:
    """Round up to whole milliseconds: Surefire times have at most three decimals."""
    if duration <= 0:
        return None
    return Decimal(repr(duration)).quantize(_MILLISECOND, rounding=ROUND_UP)
