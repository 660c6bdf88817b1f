"""Which fix steps apply to which findings, with their values computed.

A finding is fixed by the `fix` steps of the validation that produced it, applied to the
item it blames (the forEach item, or the object). The finding's blamed field and the
validation's verdict on that item identify the validation. `valueExpression` and `when`
are CEL, evaluated with the validation's own variables (`object`, `params`, the item, and
`podSpec` and `podMeta` under the pod shortcuts).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from validator.engine.cel import CelEvaluator, validation_scope
from validator.engine.fix_spec import is_plain
from validator.engine.policy import Policy, PolicyError, Validation
from validator.engine.scopes import Scope
from validator.model import FieldPath, Result, Status, Violation
from validator.pod_templates import pod_spec_path


@dataclass(frozen=True)
class Assignment:
    """One change to a resource: `operation` ("set" or "append") at `path` (from the object)."""

    operation: str
    path: FieldPath
    value: Any
    if_absent: bool = False


@dataclass(frozen=True)
class Outcome:
    """What an editor did with one assignment: changed the text, found it already done
    (`changed` false, no problem), or refused it (`problem` says why)."""

    assignment: Assignment
    changed: bool
    problem: str | None = None


@dataclass
class PlannedFix:
    """How to fix one finding: the assignments, or why they cannot be computed."""

    result: Result
    violation: Violation
    assignments: tuple[Assignment, ...]
    problem: str | None = None


def has_fix(policy: Policy) -> bool:
    return any(validation.fix for validation in policy.validations)


class Planner:
    """Plans fixes; `overrides` are the parameter values set in the config, by policy id."""

    def __init__(self, overrides: dict[str, dict[str, Any]] | None = None):
        self.overrides = overrides or {}
        self.evaluator = CelEvaluator()
        self._programs: dict[tuple[str, str, tuple[str, ...]], Any] = {}

    def plan(self, result: Result) -> list[PlannedFix]:
        """A PlannedFix for each finding of a failed result that a `fix` covers."""
        if result.status is not Status.FAIL or not has_fix(result.policy):
            return []
        policy = result.policy
        params = policy.defaults() | self.overrides.get(policy.id, {})
        document = result.resource.document
        by_field = {violation.field_path: violation for violation in result.violations}
        # Which validation failed where, when the engine recorded it; else it is evaluated again.
        failed = {(v.validation, v.field_path) for v in result.violations}
        known = all(v.validation is not None for v in result.violations)
        found: dict[FieldPath, list[Assignment]] = {}
        problems: dict[FieldPath, str] = {}
        for index, validation in enumerate(policy.validations):
            if not validation.fix:
                continue
            scope = validation_scope(policy, validation)
            for item in scope.item_paths(document) if scope else [()]:
                blamed = item + validation.field_path
                if blamed not in by_field or known and (index, blamed) not in failed:
                    continue  # this validation holds here (another may blame the same field)
                variables = _variables(scope, document, item) | {"object": document, "params": params}
                try:
                    if not known and self._eval(policy, validation.expression, variables) is True:
                        continue
                    assignments = self._assignments(policy, validation, item, variables)
                    if assignments:  # every step may be skipped by its `when`
                        found.setdefault(blamed, []).extend(assignments)
                except _ValueError as error:
                    problems[blamed] = str(error)
        ordered = dict.fromkeys([*found, *problems])  # in the order of the validations
        return [PlannedFix(result, by_field[path], tuple(found.get(path, ())), problems.get(path))
                for path in ordered]

    def _assignments(self, policy: Policy, validation: Validation, item: FieldPath,
                     variables: dict[str, Any]) -> list[Assignment]:
        assignments = []
        for step in validation.fix:
            if step.when is not None and self._eval(policy, step.when, variables) is not True:
                continue
            value = step.value if step.expression is None else self._eval(policy, step.expression, variables)
            if not is_plain(value):
                raise _ValueError(f"the value to {step.describe()} is not a string, number, boolean, list or map")
            assignments.append(Assignment(step.operation, item + step.path, value, step.if_absent))
        return assignments

    def _eval(self, policy: Policy, expression: str, variables: dict[str, Any]) -> Any:
        from cel_expr_python import cel

        names = tuple(sorted(set(variables) - {"object", "params"}))
        key = (policy.id, expression, names)
        program = self._programs.get(key)
        if program is None:
            try:
                program = self._programs[key] = self.evaluator.env(names).compile(expression)
            except RuntimeError as error:
                detail = " ".join(str(error).split())
                raise PolicyError(policy.source, f"{policy.id}: CEL compile error in fix: {detail}") from None
        try:
            outcome = program.eval(self.evaluator.env(names).Activation(variables))
            failed = outcome.type() == cel.Type.ERROR
        except Exception:  # a value the CEL runtime cannot convert, as the engine allows for
            failed = True
        if failed:  # the error's message may quote values: it is not shown
            raise _ValueError("an expression of the fix cannot be evaluated on this object")
        return outcome.plain_value()

    def check(self, policy: Policy) -> None:
        """Compile the expressions a policy's fixes use (with the validation's own); raises
        PolicyError on the first that fails."""
        for validation in policy.validations:
            if not validation.fix:
                continue
            scope = validation_scope(policy, validation)
            names = tuple(sorted(set(scope.variables))) if scope else ()
            expressions = [validation.expression]
            expressions += [e for step in validation.fix for e in (step.when, step.expression) if e is not None]
            for expression in expressions:
                try:
                    self.evaluator.env(names).compile(expression)
                except RuntimeError as error:
                    detail = " ".join(str(error).split())
                    raise PolicyError(policy.source, f"{policy.id}: CEL compile error in fix: {detail}",
                                      validation.line) from None


class _ValueError(Exception):
    """A fix value or condition that could not be computed for one item."""


def _variables(scope: Scope | None, document: dict[str, Any], item: FieldPath) -> dict[str, Any]:
    """The forEach variables for one item, as the scope's CEL binds them."""
    if scope is None:
        return {}
    values: dict[str, Any] = {}
    used = 0
    steps = scope.steps
    if steps[0].shortcut:
        spec_path = pod_spec_path(str(document.get("kind")))
        values["podSpec"] = _get(document, spec_path) or {}
        values["podMeta"] = _get(document, spec_path[:-1] + ("metadata",)) or {}
        used = len(spec_path) + (2 if steps[0].shortcut == "@containers" else 0)
        values[steps[0].variable] = _get(document, item[:used])
        steps = steps[1:]
    for step in steps:
        used += len(step.segments) + (1 if step.is_list else 0)
        values[step.variable] = _get(document, item[:used])
    return values


def _get(value: Any, path: FieldPath) -> Any:
    for segment in path:
        if isinstance(value, dict) and isinstance(segment, str):
            value = value.get(segment)
        elif isinstance(value, list) and isinstance(segment, int) and 0 <= segment < len(value):
            value = value[segment]
        else:
            return None
    return value

