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

The document is written in pieces (`chunks`): the suite's counts and time, which come first,
are summed in a first pass over the results as junit-xml sums them, then the test cases are
built with junit-xml a batch at a time and written as its whole tree would be, indented.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_UP, Decimal
from enum import Enum

from junit_xml import TestCase, TestSuite

from validator import __version__
from validator.checks import Checks
from validator.model import InputProblem, Resource, Result, Status
from validator.report import ScanReport, is_baselined

SUITE_NAME = "tdv"
INPUT_CLASSNAME = "tdv.input"
_MILLISECOND = Decimal("0.001")


BATCH = 256  # test cases per chunk


def render(report: ScanReport, options) -> str:
    return "".join(chunks(report, options))


def chunks(report: ScanReport, options) -> Iterator[str]:
    """The document `_report_xml` writes for the suite of every test case, in pieces: the
    head (whose counts and time come from a first pass over the results), the test cases a
    batch at a time, then the end. Only the batch being written is held."""
    totals = _Totals.of(report)
    head, tail = _frame(totals, _properties(report))
    yield head
    batch: list[TestCase] = []
    for case in _cases(report):
        batch.append(case)
        if len(batch) == BATCH:
            yield _cases_xml(batch)
            batch.clear()
    if batch:
        yield _cases_xml(batch)
    yield tail


def _properties(report: ScanReport) -> dict[str, str]:
    return {"tdv.version": __version__, "tdv.failOn": report.fail_on.label}


# Left out of the text: what to_xml_report_string leaves out (ASCII control characters but
# tab and newline; a carriage return in an attribute stays, written `&#13;`), and characters
# XML cannot hold at all, which it would write as references no parser accepts.
_NOT_XML = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def _report_xml(suite: TestSuite) -> str:
    """The document `to_xml_report_string([suite])` writes, indented and without `disabled`,
    an attribute the Surefire schema does not define (junit-xml always writes `disabled="0"`;
    tdv never disables a check). It is built on junit-xml's suite element, in the
    `testsuites` root that to_xml_report_string would add, rather than by parsing that text.

    `chunks` writes this text without building the whole suite: see `_frame` and `_cases_xml`."""
    return _document_xml(suite.build_xml_doc())


def _document_xml(element: ET.Element) -> str:
    """The text of the `testsuites` document around junit-xml's suite `element`."""
    del element.attrib["disabled"]
    root = ET.Element("testsuites", {key: str(int(element.get(key, 0))) for key in ("errors", "failures", "tests")})
    root.set("time", str(float(element.get("time", 0))))
    root.append(element)
    ET.indent(root, space="  ")
    return _NOT_XML.sub("", ET.tostring(root, encoding="unicode", xml_declaration=True)) + "\n"


@dataclass
class _Totals:
    """The suite's counts and time, as junit-xml's build_xml_doc sums them over the cases."""

    tests: int = 0
    errors: int = 0
    failures: int = 0
    skipped: int = 0
    time: Decimal | int = 0  # sum() of the cases' times: 0 when none has one

    @classmethod
    def of(cls, report: ScanReport) -> "_Totals":
        totals = cls()
        for result in report.results:
            totals.tests += 1
            outcome = _outcome(result)
            if outcome is _Outcome.ERROR:
                totals.errors += 1
            elif outcome is _Outcome.FAILURE:
                totals.failures += 1
            elif outcome is not _Outcome.PASSED:
                totals.skipped += 1
            seconds = _seconds(result.duration)
            if seconds:
                totals.time += seconds
        paths = len({error.path for error in report.errors})  # one error case per file
        totals.tests += paths
        totals.errors += paths
        return totals


def _frame(totals: _Totals, properties: dict[str, str]) -> tuple[str, str]:
    """The text before the first test case and after the last one, as `_report_xml` writes
    them: the suite element of junit-xml for no case, given the counts of all of them."""
    element = TestSuite(SUITE_NAME, [], properties=properties).build_xml_doc()
    for key in ("errors", "failures", "skipped", "tests"):  # attributes already there keep their place
        element.set(key, str(getattr(totals, key)))
    element.set("time", str(totals.time))
    text = _document_xml(element)
    end = text.rindex("</properties>") + len("</properties>")  # attribute values escape "<"
    return text[:end], text[end:]


_HOLDER = "tdv-cases"


def _cases_xml(cases: list[TestCase]) -> str:
    """The text of `cases` as `_report_xml` writes them in the suite: each on a line of its
    own, indented at depth 2, after the properties or the case before."""
    holder = ET.Element(_HOLDER)
    holder.extend(TestSuite(SUITE_NAME, cases).build_xml_doc())  # the testcase elements junit-xml builds
    ET.indent(holder, space="  ", level=1)
    holder[-1].tail = None
    text = ET.tostring(holder, encoding="unicode")
    return _NOT_XML.sub("", text[len(f"<{_HOLDER}>"):-len(f"</{_HOLDER}>")])


def classname(result: Result) -> str:
    return _classname(result.policy)


def _classname(policy) -> str:
    return f"tdv.{policy.id}"


def test_cases(report: ScanReport) -> list[TestCase]:
    return list(_cases(report))


def _cases(report: ScanReport) -> Iterator[TestCase]:
    names = _Names(report.results)
    for result in report.results:
        cls = classname(result)
        yield _check_case(result, cls, names.name(result, cls), report)
    yield from _input_error_cases(report.errors)


_DECORATED = re.compile(r"( \(document \d+\)| #\d+)\Z")


class _Names:
    """Test case names, unique per classname: `ref in path`; with the document number when
    two checks of one policy share it (two objects of one file with the same ref); and
    with ` #2`, ` #3`... when that is still taken (the same input given twice).

    What is kept is per resource, not per check. A policy is checked once on a resource, so
    a `ref in path` that no other resource has is the name of its checks, unless it ends
    like a decorated name (` (document N)`, ` #N`) and could be taken by another's: only
    the checks of such "ambiguous" resources go through the bookkeeping above (and a name
    of theirs cannot be the plain `ref in path` of another resource)."""

    def __init__(self, checks: Checks) -> None:
        owners: dict[str, int] = {}  # `ref in path` -> id of the first resource seen with it
        ambiguous: set[str] = set()
        for resource in checks.resources():
            base = _base(resource)
            owner = owners.get(base)
            if owner is None:
                owners[base] = id(resource)
                if _DECORATED.search(base):
                    ambiguous.add(base)
            elif owner != id(resource):
                ambiguous.add(base)
        self.ambiguous = ambiguous
        self.repeated: Counter[tuple[str, str]] = Counter(
            (_classname(policy), base) for policy, resource in (checks.pairs() if ambiguous else ())
            if (base := _base(resource)) in ambiguous)
        self.taken: set[tuple[str, str]] = set()

    def name(self, result: Result, cls: str) -> str:
        base = _base(result.resource)
        if base not in self.ambiguous:
            return base
        name = base
        if self.repeated[(cls, base)] > 1:
            name = f"{base} (document {result.resource.doc_index + 1})"
        unique, count = name, 1
        while (cls, unique) in self.taken:  # e.g. the same input given twice
            count += 1
            unique = f"{name} #{count}"
        self.taken.add((cls, unique))
        return unique


def _base(resource: Resource) -> str:
    return f"{resource.ref} in {resource.path}"


class _Outcome(Enum):
    PASSED = "passed"
    FAILURE = "failure"
    ERROR = "error"
    SUPPRESSED = "suppressed"
    BASELINED = "baselined"


def _outcome(result: Result) -> _Outcome:
    if result.status is Status.FAIL:
        if result.suppression is not None:
            return _Outcome.SUPPRESSED
        if all(is_baselined(v) for v in result.violations):
            return _Outcome.BASELINED
        return _Outcome.FAILURE
    if result.status is Status.ERROR:
        return _Outcome.ERROR
    return _Outcome.PASSED


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
