"""ConstraintTemplates whose code is `K8sNativeValidation` (CEL), run on tdv's CEL engine.

Gatekeeper evaluates this code as a ValidatingAdmissionPolicy whose params are the
Constraint: `variables.params` is the Constraint's `spec.parameters` and `variables.anyObject`
the object under review (on a CREATE, `object`). tdv turns each validation into a
self-contained tdv CEL expression, as its ValidatingAdmissionPolicy importer does: the
template's `variables` (with those two) are inlined where used, its `matchCondition` list
guards every validation, `oldObject` is null and `request` holds what an offline CREATE
review carries (`operation`, `userInfo`, `dryRun`). tdv's own `params` are the Constraint's
parameters, so a config file's overrides reach `variables.params` as they reach the Rego.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any, Callable

from validator.celcheck import compile_problems
from validator.engine.cel import CelEvaluator
from validator.engine.celtext import mentions, substitute_members, to_cel_literal
from validator.engine.policy import PolicyError, Validation
from validator.model import FieldPath

ENGINE = "K8sNativeValidation"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_REQUEST = to_cel_literal({"operation": "CREATE", "dryRun": False,
                           "userInfo": {"username": "tdv", "uid": "", "groups": ["system:authenticated"]}})
# What Gatekeeper binds before the template's own variables.
_BUILT_IN = (("params", "dyn(params)"), ("anyObject", "object"))

Fail = Callable[[FieldPath, str], PolicyError]


@dataclass(frozen=True)
class CelSource:
    source: dict[str, Any]
    path: FieldPath  # of the source mapping in the template


def cel_source(target: dict[str, Any], path: FieldPath) -> CelSource | None:
    """The last K8sNativeValidation code entry of an admission target."""
    found = None
    for number, code in enumerate(target.get("code") or []):
        if isinstance(code, dict) and code.get("engine") == ENGINE and isinstance(code.get("source"), dict):
            found = CelSource(code["source"], path + ("code", number, "source"))
    return found


def validations(source: CelSource, fail: Fail, line: Callable[[FieldPath], int]) -> tuple[Validation, ...]:
    """The template's validations as tdv CEL validations. Raises PolicyError (through `fail`)
    for a malformed source or an expression that does not compile."""
    inlined = _variables(source, fail)
    conditions = []
    for index, item in enumerate(_list(source, "matchCondition", fail)):
        expression = item.get("expression") if isinstance(item, dict) else None
        if not isinstance(expression, str) or not expression.strip():
            raise fail(source.path + ("matchCondition", index), "a matchCondition needs an expression")
        conditions.append(_group(str(expression)))
    found = []
    for index, item in enumerate(_list(source, "validations", fail)):
        path = source.path + ("validations", index)
        expression = item.get("expression") if isinstance(item, dict) else None
        if not isinstance(expression, str) or not expression.strip():
            raise fail(path, "a validation needs an expression")
        body = _group(expression)
        if conditions:
            body = f"(!({' && '.join(conditions)}) || {body})"
        message_expression = item.get("messageExpression")
        if message_expression is not None and not isinstance(message_expression, str):
            raise fail(path + ("messageExpression",), "messageExpression must be a string")
        message = item.get("message") or "failed expression: " + " ".join(expression.split())
        validation = Validation(
            expression=_bind(body, inlined),
            message=" ".join(str(message).split()),
            message_expression=_bind(_group(message_expression), inlined) if message_expression else None,
            line=line(path + ("expression",)),
        )
        _check(validation.expression, path + ("expression",), fail)
        if validation.message_expression:
            _check(validation.message_expression, path + ("messageExpression",), fail)
        found.append(validation)
    if not found:
        raise fail(source.path, "the K8sNativeValidation code has no validations")
    return tuple(found)


def _list(source: CelSource, key: str, fail: Fail) -> list[Any]:
    value = source.source.get(key) or []
    if not isinstance(value, list):
        raise fail(source.path + (key,), f"{key} must be a list")
    return value


def _variables(source: CelSource, fail: Fail) -> dict[str, str]:
    inlined: dict[str, str] = {}
    for built_in, text in _BUILT_IN:
        inlined[built_in] = _group(text)
    for index, item in enumerate(_list(source, "variables", fail)):
        path = source.path + ("variables", index)
        name = item.get("name") if isinstance(item, dict) else None
        expression = item.get("expression") if isinstance(item, dict) else None
        if not isinstance(name, str) or not _IDENTIFIER.match(name) or not isinstance(expression, str):
            raise fail(path, "a variable needs a name (a CEL identifier) and an expression")
        if name in dict(_BUILT_IN):
            raise fail(path + ("name",), f"{name!r} is reserved: Gatekeeper binds it")
        inlined[name] = _substitute(_group(expression), inlined)
    return inlined


# `x in variables.y`: substitute_members takes a member after the word `in` for a member of
# another (it follows an identifier), so the variable is put in parentheses first.
_AFTER_IN = re.compile(r"(?<![A-Za-z0-9_.])in(\s+)variables\.([A-Za-z_][A-Za-z0-9_]*)")


# `has(variables.y)`: whether the variable has a value; once inlined, has() would not take it.
_HAS_VARIABLE = re.compile(r"(?<![A-Za-z0-9_.])has\(\s*variables\.([A-Za-z_][A-Za-z0-9_]*)\s*\)")


def _substitute(text: str, inlined: dict[str, str]) -> str:
    text = _HAS_VARIABLE.sub(r"(dyn(variables.\1) != null)", text)
    return substitute_members(_AFTER_IN.sub(r"in\1(variables.\2)", text), "variables", inlined)


def _bind(body: str, inlined: dict[str, str]) -> str:
    body = _substitute(body, inlined)
    if mentions(body, "oldObject"):
        body = f"[dyn(null)].map(oldObject, {body})[0]"
    if mentions(body, "request"):
        body = f"[dyn({_REQUEST})].map(request, {body})[0]"
    return body


def _group(expression: str) -> str:
    """The expression in parentheses; the line break ends a trailing `//` comment."""
    return f"({expression}\n)"


@functools.cache
def _evaluator() -> CelEvaluator:
    return CelEvaluator()


def _check(expression: str, path: FieldPath, fail: Fail) -> None:
    problems = compile_problems(_evaluator().env(()), expression)
    if problems:
        raise fail(path, f"CEL does not compile: {problems[0].message} (offline, expressions see object,"
                         " oldObject, request, variables.params and variables.anyObject)")
