"""Check policy files without running them: the format, and every CEL expression compiled
with the variables it will see. Used by `tdv policies validate` and `tdv test`."""

from __future__ import annotations

from dataclasses import dataclass

from validator.celcheck import compile_problems, pointer
from validator.engine import Engine
from validator.engine.cel import CelEvaluator
from validator.engine.policy import Policy, PolicyError, Validation
from validator.engine.scopes import ScopeError, parse_scope


@dataclass(frozen=True)
class Problem:
    path: str
    line: int | None
    message: str
    detail: tuple[str, ...] = ()  # e.g. the expression line and a caret under the column

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}" if self.line else f"{self.path}: {self.message}"


def problems_of(entry: Policy | PolicyError, evaluator: CelEvaluator | None = None) -> list[Problem]:
    """The problems of a loaded policy, or the one that kept a file from loading."""
    if isinstance(entry, PolicyError):
        return [Problem(entry.path, entry.line, _one_line(entry.message))]
    return check_policy(entry, evaluator or CelEvaluator())


def check_policy(policy: Policy, evaluator: CelEvaluator) -> list[Problem]:
    if policy.language == "rego":  # Gatekeeper or conftest: the Rego compiles in the engine
        try:
            Engine.build([policy])
        except PolicyError as error:
            return [Problem(error.path, error.line, _one_line(error.message))]
        return []
    if policy.language != "cel":
        return [Problem(policy.source, None, f"{policy.id}: unsupported policy language {policy.language!r}")]
    problems = []
    for index, validation in enumerate(policy.validations):
        problems += _validation_problems(policy, f"{policy.id}: validations[{index}]", validation, evaluator)
    if not problems:
        try:  # what the engine itself builds from the expressions must compile too
            Engine.build([policy])
        except PolicyError as error:
            problems.append(Problem(error.path, error.line, _one_line(error.message)))
    return problems


def _validation_problems(policy: Policy, where: str, validation: Validation, evaluator: CelEvaluator
                         ) -> list[Problem]:
    try:
        scope = parse_scope(validation.for_each, validation.variable) if validation.for_each else None
    except ScopeError as error:
        return [Problem(policy.source, validation.line, f"{where}.forEach: {error}")]
    env = evaluator.env((*(scope.variables if scope else ()), *(("related",) if policy.relations else ())))
    problems = []
    for key, text in (("expression", validation.expression), ("messageExpression", validation.message_expression),
                      ("relatedExpression", validation.related_expression)):
        if not text:
            continue
        for problem in compile_problems(env, text):
            problems.append(Problem(policy.source, validation.line,
                                    f"{where}.{key}: CEL compile error at {problem.where()}: {problem.message}",
                                    tuple(pointer(text, problem))))
    return problems


def _one_line(text: str) -> str:
    return " ".join(text.split("\n", 1)[0].split())
