"""gator `Suite` files (`kind: Suite`, `test.gatekeeper.sh/v1alpha1`), as in the Gatekeeper
library's `suite.yaml`: each test names a template and a constraint file, and each case an
object file whose object is reviewed against them, with assertions on the violations.

An assertion's `violations` is `yes` (at least one; the default), `no` (none) or a number;
its `message`, a regular expression, first keeps the violations whose message it matches.
A case's `inventory` files are the other objects of the cluster (for templates that read
`data.inventory`); the object is reviewed only when the constraint's `match` selects it, as
gator does. Paths are relative to the suite file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from validator.engine.policy import PolicyError
from validator.model import Resource, Status
from validator.sources.kubernetes import is_kubernetes_object
from validator.sources.yaml_loader import YamlDocument, YamlError, load_documents

SUITE_GROUP = "test.gatekeeper.sh/"


def is_suite(data: Any) -> bool:
    return isinstance(data, dict) and data.get("kind") == "Suite" and str(data.get("apiVersion") or "").startswith(
        SUITE_GROUP)


@dataclass(frozen=True)
class AssertionOutcome:
    text: str  # e.g. "violations: 1, message: missing"
    passed: bool
    detail: str


@dataclass(frozen=True)
class SuiteCase:
    suite: str  # display path of the suite file
    test: str
    case: str
    assertions: tuple[AssertionOutcome, ...]
    error: str = ""  # the case could not be run (a file missing, the template in error)

    @property
    def passed(self) -> bool:
        return not self.error and all(a.passed for a in self.assertions)

    @property
    def detail(self) -> str:
        if self.error:
            return self.error
        failed = [f"{a.text}: {a.detail}" for a in self.assertions if not a.passed]
        return "; ".join(failed) or "passed"


class _CaseError(Exception):
    pass


def read_suite(path: Path) -> dict[str, Any] | None:
    """The Suite of a YAML file, or None when the file holds no Suite."""
    try:
        documents = list(load_documents(path.read_text(encoding="utf-8"), drop_nulls=True))
    except (OSError, UnicodeDecodeError):
        return None
    return next((d.data for d in documents if isinstance(d, YamlDocument) and is_suite(d.data)), None)


def named_files(path: Path) -> list[str]:
    """The files a Suite names (templates, constraints, objects, inventories), relative to it."""
    suite = read_suite(path) or {}
    names = []
    for test in suite.get("tests") or []:
        if isinstance(test, dict):
            names += [test.get("template"), test.get("constraint")]
            for case in test.get("cases") or []:
                if isinstance(case, dict):
                    names += [case.get("object"), *(case.get("inventory") or [])]
    return [name for name in names if isinstance(name, str) and name]


def run_suite(path: Path, display: str) -> list[SuiteCase]:
    suite = read_suite(path)
    if suite is None:
        return []
    outcomes = []
    for index, test in enumerate(suite.get("tests") or []):
        if not isinstance(test, dict):
            continue
        name = str(test.get("name") or f"tests[{index}]")
        if test.get("skip"):
            continue
        try:
            policy = _policy(path.parent, test)
        except _CaseError as error:
            outcomes += [SuiteCase(display, name, _case_name(case, n), (), str(error))
                         for n, case in enumerate(test.get("cases") or [])]
            continue
        for number, case in enumerate(test.get("cases") or []):
            if isinstance(case, dict) and not case.get("skip"):
                outcomes.append(_run_case(path.parent, display, name, policy, case, number))
    return outcomes


def _case_name(case: Any, number: int) -> str:
    return str(case.get("name") or f"cases[{number}]") if isinstance(case, dict) else f"cases[{number}]"


def _documents(base: Path, relative: Any) -> tuple[str, list[YamlDocument | YamlError]]:
    if not isinstance(relative, str) or not relative:
        raise _CaseError("a file path is missing")
    path = base / relative
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise _CaseError(f"cannot read {relative}: {error}") from None
    return str(path), list(load_documents(text, drop_nulls=True))


def _objects(base: Path, relative: Any) -> list[dict[str, Any]]:
    _, documents = _documents(base, relative)
    objects = []
    for document in documents:
        if isinstance(document, YamlError):
            raise _CaseError(f"{relative}: {document.message}")
        data = document.data
        if is_kubernetes_object(data) and str(data["kind"]).endswith("List") and isinstance(data.get("items"), list):
            objects += [item for item in data["items"] if is_kubernetes_object(item)]
        elif is_kubernetes_object(data):
            objects.append(data)
    return objects


def _policy(base: Path, test: dict[str, Any]) -> Any:
    """The policy of a test's template and constraint (a RegoPolicy)."""
    from validator.gatekeeper.loader import policies_from_manifests

    files = [_documents(base, test.get("template")), _documents(base, test.get("constraint"))]
    loaded = policies_from_manifests(files)
    errors = [entry for entry in loaded if isinstance(entry, PolicyError)]
    if errors:
        raise _CaseError(f"cannot load the template and constraint: {errors[0]}")
    if len(loaded) != 1:
        raise _CaseError(f"expected one constraint in {test.get('constraint')}, found {len(loaded)}")
    return loaded[0]


def _resource(obj: dict[str, Any], name: str, index: int = 0) -> Resource:
    found = obj.get("metadata")
    metadata: dict[str, Any] = found if isinstance(found, dict) else {}
    return Resource(kind=str(obj.get("kind", "")), api_version=str(obj.get("apiVersion", "")),
                    name=str(metadata.get("name", "")), namespace=metadata.get("namespace"), document=obj,
                    path=name, doc_index=index)


def _violations(policy: Any, obj: dict[str, Any], inventory: list[dict[str, Any]], name: str) -> list[str]:
    """The messages of the violations the constraint gives on the object."""
    from validator.engine import Engine, evaluate
    from validator.engine.targets import matches

    subject = _resource(obj, name)
    if not ("*" in policy.targets.kinds or subject.kind in policy.targets.kinds) or not matches(policy.targets,
                                                                                               subject):
        return []
    engine = Engine.build([policy])
    if policy.relations:
        from validator import inventory as index

        others = [_resource(item, f"{name}#inventory", n + 1) for n, item in enumerate(inventory)]
        results = engine.run([subject], index.build_from([subject, *others]))
    else:
        results = [evaluate(engine.compiled[0], subject, {})]
    errors = [r.error for r in results if r.status is Status.ERROR]
    if errors:
        raise _CaseError(f"evaluation error: {errors[0]}")
    return [v.message for r in results for v in r.violations]


def _run_case(base: Path, display: str, test: str, policy: Any, case: dict[str, Any], number: int) -> SuiteCase:
    name = _case_name(case, number)
    try:
        objects = _objects(base, case.get("object"))
        if len(objects) != 1:
            raise _CaseError(f"{case.get('object')} must hold one object, it holds {len(objects)}")
        inventory = [item for relative in case.get("inventory") or [] for item in _objects(base, relative)]
        messages = _violations(policy, objects[0], inventory, str(case.get("object")))
    except (_CaseError, PolicyError) as error:
        return SuiteCase(display, test, name, (), str(error))
    assertions = tuple(_assert(assertion, messages) for assertion in case.get("assertions") or [])
    return SuiteCase(display, test, name, assertions)


def _assert(assertion: Any, messages: list[str]) -> AssertionOutcome:
    if not isinstance(assertion, dict):
        return AssertionOutcome(str(assertion), False, "an assertion must be a mapping")
    wanted = assertion.get("violations", "yes")
    pattern = assertion.get("message")
    text = f"violations: {_yaml_word(wanted)}" + (f", message: {pattern}" if pattern is not None else "")
    try:
        matching = [m for m in messages if pattern is None or re.search(str(pattern), m)]
    except re.error as error:
        return AssertionOutcome(text, False, f"message is not a regular expression: {error}")
    got = f"got {len(matching)}" + (f" matching of {len(messages)}" if pattern is not None else "")
    shown = f" ({'; '.join(messages)})" if messages else ""
    if wanted is True or wanted == "yes":
        return AssertionOutcome(text, bool(matching), got + shown)
    if wanted is False or wanted == "no":
        return AssertionOutcome(text, not matching, got + shown)
    if isinstance(wanted, int) or (isinstance(wanted, str) and wanted.isdigit()):
        return AssertionOutcome(text, len(matching) == int(wanted), got + shown)
    return AssertionOutcome(text, False, "violations must be yes, no or a number")


def _yaml_word(value: Any) -> str:
    """YAML 1.1 reads `yes`/`no` as booleans; gator reads them as words."""
    return {True: "yes", False: "no"}.get(value, str(value)) if isinstance(value, bool) else str(value)
