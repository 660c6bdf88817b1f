"""Rego unit tests, as `opa test` and `conftest verify` run them: every rule named `test_*`
of a `.rego` file passes when it evaluates to true (undefined or false fails; an error
fails with the error).

A test file runs with the Rego of its unit, the directory that holds it (or the directory
above, for a `tests/` or `test/` directory, the Weave policy library's layout): every `.rego`
file below that directory, the `spec.code` of the Weave Policies in it whose package no
`.rego` policy file (one without test rules) declares, and, from anywhere below the directory `tdv test` was given, the
modules of the packages those read (`data.lib.k8s`, say).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from validator.rego.evaluator import _regorus, compile_problem, first_line

_PACKAGE = re.compile(r"^[ \t]*package[ \t]+([A-Za-z_][A-Za-z0-9_.]*)", re.MULTILINE)
_TEST_RULE = re.compile(r"^(test_[A-Za-z0-9_]*)\b", re.MULTILINE)
_DATA_REF = re.compile(r"\bdata\.([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)")
UNIT_DIRS = ("tests", "test")
# OPA's deprecated names of built-ins, which OPA 0.x (the Weave agent's) still runs and
# regorus does not have, defined as the built-ins they name.
_DEPRECATED = {"re_match": "re_match(pattern, value) = regex.match(pattern, value)"}


def with_deprecated_builtins(text: str, defined: set[str] | None = None) -> str:
    """The module with a definition of each deprecated built-in it calls (see _DEPRECATED)
    that neither it nor `defined` (names its package defines elsewhere) defines, added at its
    end so that its line numbers stay. `defined` gets the names the module now defines."""
    defined = set() if defined is None else defined
    defined.update(name for name in _DEPRECATED if _defines(text, name))
    for name, definition in _DEPRECATED.items():
        if name not in defined and re.search(rf"\b{name}\s*\(", text):
            text = text.rstrip("\n") + "\n\n" + definition + "\n"
            defined.add(name)
    return text


def _defines(text: str, name: str) -> bool:
    return re.search(rf"^[ \t]*{name}\s*\([^)]*\)\s*(:?=(?!=)|\{{|if\b)", text, re.MULTILINE) is not None


@dataclass(frozen=True)
class Module:
    name: str  # for messages: the file (and, for a Weave Policy, its id)
    text: str
    package: str
    directory: Path


@dataclass(frozen=True)
class RegoTestOutcome:
    file: str
    rule: str
    passed: bool
    detail: str


def test_rules(text: str) -> list[str]:
    """The test rules a module defines, each once, in order."""
    return list(dict.fromkeys(_TEST_RULE.findall(text)))


def read_module(path: Path, name: str) -> Module | None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return module_of(name, text, path.parent)


def module_of(name: str, text: str, directory: Path) -> Module | None:
    """The module of a Rego text, or None when it declares no package."""
    package = _PACKAGE.search(text)
    return Module(name, text, package.group(1), directory) if package else None


def run_tests(root_modules: list[Module], embedded: Iterable[Module] = ()) -> list[RegoTestOutcome]:
    """Run the test rules of `root_modules` (the `.rego` files below the directory given to
    `tdv test`); `embedded` are the modules of Weave Policies found there."""
    embedded = list(embedded)
    outcomes: list[RegoTestOutcome] = []
    for module in root_modules:
        rules = test_rules(module.text)
        if rules:
            outcomes.extend(_run_file(module, rules, root_modules, embedded))
    return outcomes


def _unit_dir(module: Module) -> Path:
    return module.directory.parent if module.directory.name in UNIT_DIRS else module.directory


def _within(directory: Path, parent: Path) -> bool:
    return directory == parent or parent in directory.parents


def _unit(module: Module, root_modules: list[Module], embedded: list[Module]) -> list[Module]:
    """The modules a test file runs with (see the module docstring)."""
    unit = _unit_dir(module)
    chosen = [m for m in root_modules if _within(m.directory, unit)]
    declared = {m.package for m in chosen if not test_rules(m.text)}  # by a policy file, not a test file
    chosen += [m for m in embedded if _within(m.directory, unit) and m.package not in declared]
    wanted = list(chosen)
    while wanted:  # the packages read from elsewhere below the root, transitively
        current = wanted.pop()
        for reference in _DATA_REF.findall(current.text):
            for other in root_modules:
                if other not in chosen and (reference == other.package or reference.startswith(other.package + ".")):
                    chosen.append(other)
                    wanted.append(other)
    return chosen


def _run_file(module: Module, rules: list[str], root_modules: list[Module],
              embedded: list[Module]) -> list[RegoTestOutcome]:
    modules = _unit(module, root_modules, embedded)
    try:
        engine = _engine(modules)
    except ValueError as error:
        return [RegoTestOutcome(module.name, rule, False, str(error)) for rule in rules]
    outcomes = []
    for rule in rules:
        query = f"data.{module.package}.{rule}"
        try:
            answer = json.loads(engine.eval_query_as_json(query))
        except Exception as error:  # regorus raises RuntimeError with the evaluation error
            outcomes.append(RegoTestOutcome(module.name, rule, False, f"error: {first_line(error)}"))
            continue
        results = answer.get("result") or []
        value = results[0]["expressions"][0]["value"] if results else None
        if value is True:
            outcomes.append(RegoTestOutcome(module.name, rule, True, "passed"))
        else:
            got = "undefined" if not results else json.dumps(value)
            outcomes.append(RegoTestOutcome(module.name, rule, False, f"{query} is {got}, not true"))
    return outcomes


def _engine(modules: list[Module]):  # -> regorus.Engine
    """An engine holding the modules: in Rego v1 syntax when all parse so, else in v0 with
    `import rego.v1` added to the v1 ones (as tdv reads conftest files). Raises ValueError
    naming a module that does not compile."""
    regorus = _regorus()
    as_v1 = [compile_problem(m.name, m.text, rego_v0=False) is None for m in modules]
    v0 = not all(as_v1)
    engine = regorus.Engine()
    engine.set_rego_v0(v0)
    defined: dict[str, set[str]] = {}  # the deprecated built-ins each package defines
    for module in modules:
        defined.setdefault(module.package, set()).update(n for n in _DEPRECATED if _defines(module.text, n))
    for module, parses_v1 in zip(modules, as_v1):
        text = _with_v1_import(module.text) if v0 and parses_v1 else module.text
        text = with_deprecated_builtins(text, defined[module.package])
        try:
            engine.add_policy(module.name, text)
        except Exception as error:  # regorus raises RuntimeError with the parser's message
            raise ValueError(f"Rego does not compile: {first_line(error)}") from None
    return engine


def _with_v1_import(text: str) -> str:
    if re.search(r"^[ \t]*import[ \t]+rego\.v1\b", text, re.MULTILINE):
        return text
    package = _PACKAGE.search(text)
    assert package is not None  # every module has its package line
    return text[:package.end()] + "\nimport rego.v1" + text[package.end():]
