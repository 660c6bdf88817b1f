"""conftest policies: `.rego` files whose `deny`, `violation` and `warn` rules (and their
`deny_<name>`-style variants) judge each document, which is the rule's input as is.

The files of a policy directory are loaded together, as conftest does (other packages serve
as libraries). The rules of the namespace packages (`main` unless `--conftest-namespace` is given) become two
policies per namespace: CONFTEST-<NAMESPACE>-DENY (deny and violation rules, severity high) and
CONFTEST-<NAMESPACE>-WARN (warn rules, severity info, which never fails the build).
Files ending in `_test.rego` are conftest's unit tests and are not loaded. Files are read
in Rego v1 syntax (conftest's default since OPA 1.0); when some need v0 syntax, the whole
set is run in v0 mode and the files that parse as v1 get `import rego.v1`.
"""

from __future__ import annotations

import re
from pathlib import Path

from validator.engine.policy import PolicyError, Targets
from validator.gatekeeper.match import is_kubernetes
from validator.model import Severity
from validator.rego import CONFTEST, INSTALL_HINT, ImportedPolicyError, RegoPolicy, RegoRule, available
from validator.rego.evaluator import compile_problem

DEFAULT_NAMESPACE = "main"
_PACKAGE = re.compile(r"^[ \t]*package[ \t]+([A-Za-z_][A-Za-z0-9_.]*)", re.MULTILINE)
_RULE = re.compile(r"^(deny|violation|warn)(_[A-Za-z0-9_]+)?\b", re.MULTILINE)


def is_rego_file(path: Path) -> bool:
    return path.suffix == ".rego" and not path.name.endswith("_test.rego")


def policies_from_rego(files: list[tuple[str, Path]],
                       namespaces: tuple[str, ...] = (DEFAULT_NAMESPACE,)) -> list[RegoPolicy | PolicyError]:
    """The policies of one directory's `.rego` files (display name, path): those of the
    rules of each package in `namespaces` (conftest's `--namespace`)."""
    if not files:
        return []
    if not available():
        return [ImportedPolicyError(files[0][0], INSTALL_HINT)]
    modules: list[tuple[str, str]] = []
    errors: list[RegoPolicy | PolicyError] = []
    rules: dict[tuple[str, str], list[str]] = {}  # (namespace, "deny" or "warn") -> rule paths
    sources: dict[str, list[str]] = {}
    for display, path in files:
        module = _module(display, path)
        if isinstance(module, PolicyError):
            errors.append(module)
            continue
        text, namespace = module
        modules.append((display, text))
        if namespace in namespaces:
            sources.setdefault(namespace, []).append(display)
            _add_rules(text, namespace, rules)
    if not modules or not rules:
        return errors
    rego_v0 = not all(_compiles(name, text, v0=False) is True for name, text in modules)
    if rego_v0:  # v0 and v1 files together: the v1 ones say so, as OPA lets a file do
        modules = [(name, _as_v1(text) if _compiles(name, text, v0=False) is True else text)
                   for name, text in modules]
    policies: list[RegoPolicy | PolicyError] = []
    for (namespace, group), queries in sorted(rules.items()):
        policies.append(RegoPolicy(
            id=f"CONFTEST-{re.sub(r'[^A-Z0-9]+', '-', namespace.upper())}-{group.upper()}",
            title=f"conftest {group} rules of package {namespace}",
            severity=Severity.INFO if group == "warn" else Severity.HIGH,
            category="best-practice",
            description=f"The conftest `{group}` rules of package `{namespace}` ({', '.join(sources[namespace])}).",
            remediation="Change the document so that the rule's message no longer applies.",
            standards={},
            targets=Targets(kinds=("*",), applies=is_kubernetes),
            validations=(),
            tags=("conftest",),
            language="rego",
            source=sources[namespace][0],
            modules=tuple(modules),
            rules=tuple(RegoRule(q) for q in queries),
            style=CONFTEST,
            rego_v0=rego_v0,
        ))
    return errors + policies


def _module(display: str, path: Path) -> tuple[str, str] | PolicyError:
    """A Rego file's text and package, or why it cannot be used."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return ImportedPolicyError(display, f"cannot read Rego file: {error}")
    package = _PACKAGE.search(text)
    if package is None:
        return ImportedPolicyError(display, "a Rego file needs a package declaration")
    compiled = _compiles(display, text)
    if isinstance(compiled, PolicyError):
        return compiled
    return text, package.group(1)


def _add_rules(text: str, namespace: str, rules: dict[tuple[str, str], list[str]]) -> None:
    """Add the queries of the module's deny and warn rules, each once, under (namespace, group)."""
    for found in _RULE.finditer(text):
        name = found.group(1) + (found.group(2) or "")
        group = "warn" if found.group(1) == "warn" else "deny"
        query = f"data.{namespace}.{name}"
        if query not in rules.setdefault((namespace, group), []):
            rules[(namespace, group)].append(query)


def _as_v1(text: str) -> str:
    """The text with `import rego.v1` after its package line (its later lines move down one)."""
    package = _PACKAGE.search(text)
    if re.search(r"^[ \t]*import[ \t]+rego\.v1\b", text, re.MULTILINE):
        return text
    assert package is not None  # the module compiled, so it has its package line
    return text[:package.end()] + "\nimport rego.v1" + text[package.end():]


def _compiles(display: str, text: str, v0: bool | None = None) -> PolicyError | bool:
    """True when the file parses (in v1 syntax, else v0 syntax unless `v0` is given), or the error."""
    problems = [compile_problem(display, text, flag) for flag in ((False, True) if v0 is None else (v0,))]
    return True if None in problems else ImportedPolicyError(display, f"Rego does not compile: {problems[0]}")
