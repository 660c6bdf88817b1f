"""CEL policies, evaluated with cel-expr-python (the official CEL runtime).

Expressions see the same variables as in a Kubernetes ValidatingAdmissionPolicy: `object`
(the resource) and `params` (the policy's parameters), plus the `forEach` item variable.
An expression returns true when the object complies.

Each expression is compiled once per run. Parameters are bound as a constant with
`cel.bind`, so one activation per resource serves every policy: the resource is converted
to CEL values once. The activation also carries the pod spec, its metadata and its
containers (see scopes.pod_values), so that the 30-odd pod checks do not each find them.
For a kind with many resources, the verdicts of all its checks come from one program (see
CelBatch).

A cross-resource policy (one with `relations:`) also reads `related`, the related items of
the resource (see validator.inventory), which the engine puts in the resource's cache under
"related" before any policy is evaluated (and before the batch, which then holds them too).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from cel_expr_python import cel
from cel_expr_python.ext import ext_bindings, ext_math, ext_optional, ext_strings

from validator.engine import functions
from validator.engine.celtext import CelTextError, inline_binds, mentions, to_cel_literal
from validator.engine.policy import Policy, PolicyError, Validation
from validator.engine.scopes import POD_GIVEN, Scope, ScopeError, parse_scope, pod_values
from validator.model import FieldPath


class EvaluationError(Exception):
    """A policy could not be evaluated on a resource. Reported as an error result."""


@dataclass(frozen=True)
class RawViolation:
    field_path: FieldPath
    message: str
    reads: tuple[FieldPath, ...] = ()  # other fields the verdict depends on (see Validation.reads)
    validation: int | None = None  # the index of the failing validation in the policy
    related: tuple[tuple[str, int, int, str], ...] = ()  # (file, line, column, ref) of related objects


RELATED = "related"
RELATED_GIVEN = (*POD_GIVEN, RELATED)


def _extensions() -> list[Any]:
    return [ext_bindings.ExtBindings(), ext_strings.ExtStrings(), ext_optional.ExtOptional(), ext_math.ExtMath()]


class CelEvaluator:
    """Compiles CEL policies. One instance per run; environments are shared."""

    language = "cel"

    def __init__(self) -> None:
        self._envs: dict[tuple[str, ...], Any] = {}

    def env(self, extra_variables: tuple[str, ...] = ()) -> Any:
        key = tuple(sorted(set(extra_variables)))
        if key not in self._envs:
            variables = {name: cel.Type.DYN for name in ("object", "params", *key)}
            self._envs[key] = cel.NewEnv(variables=variables, extensions=_extensions(),
                                         functions=functions.declarations())
        return self._envs[key]

    def activation(self, document: dict[str, Any], cache: dict[str, Any]) -> tuple[Any, bool]:
        """The activation for one resource, and whether it holds the pod variables; made
        once per resource, in its `cache`, for every policy."""
        activation = cache.get("cel")
        if activation is None:
            activation = cache["cel"] = self._activation(document, cache.get(RELATED))
        return activation

    def _activation(self, document: dict[str, Any], related: dict[str, Any] | None = None) -> tuple[Any, bool]:
        # Documents hold no lone UTF-16 surrogate, which the runtime cannot take: YAML refuses
        # them, and the plan reader replaces them (validator/text_values.py).
        values: dict[str, Any] = {"object": document} if related is None else {"object": document, RELATED: related}
        pod = pod_values(document)
        if pod is None:
            return self.env(POD_GIVEN).Activation(values), False
        return self.env(POD_GIVEN).Activation({**values, **pod}), True

    def batch(self, policies: list["CompiledCelPolicy"]) -> "CelBatch | None":
        """One program giving the verdicts of all the checks of `policies`, in order. The
        engine passes cross-resource policies only for resources it gives `related`."""
        texts: list[str] = []
        offsets: dict[str, int] = {}
        for policy in policies:
            offsets[policy.policy.id] = len(texts)
            texts.extend(check.verdict.given_text for check in policy.checks)
        if len(texts) < 2:
            return None
        related = any(policy.policy.relations for policy in policies)
        try:
            program = self.env(RELATED_GIVEN if related else POD_GIVEN).compile("[" + ",\n".join(texts) + "]")
        except RuntimeError:  # beyond a limit of the parser: check by check, then
            return None
        return CelBatch(self, program, offsets, len(texts))

    def compile(self, policy: Policy, parameters: dict[str, Any]) -> "CompiledCelPolicy":
        params = to_cel_literal(parameters)
        checks = []
        for validation in policy.validations:
            scope = validation_scope(policy, validation)
            message = validation.message_expression
            related = validation.related_expression
            checks.append(_CompiledValidation(
                validation=validation,
                scope=scope,
                verdict=self._compile(policy, validation, params, scope, validation.expression),
                message=self._compile(policy, validation, params, scope, message) if message else None,
                # one item per forEach item: a map, so that flattening the items keeps each list
                related=(self._compile(policy, validation, params, scope, f"{{'items': ({related})}}")
                         if related else None),
            ))
        return CompiledCelPolicy(policy, tuple(checks), self)

    def _compile(self, policy: Policy, validation: Validation, params: str, scope: Scope | None,
                 expression: str) -> "_Program":
        """Compile the expression inside its scope and parameter bindings.

        On failure the expression is compiled again as written, so that the error points at
        the author's own line and column rather than at the generated wrapping.
        """
        env = self.env(RELATED_GIVEN if policy.relations else POD_GIVEN)
        try:
            text = inline_binds(expression)
            if scope is not None and scope.uses_pod:
                # Read the pod variables of the activation; find them in CEL only for a
                # resource whose shape keeps pod_values from computing them.
                given = _bound(params, scope, text, pod_given=True)
                return _Program(env.compile(given), given, lambda: env.compile(_bound(params, scope, text)))
            given = _bound(params, scope, text)
            program = env.compile(given)
            return _Program(program, given, lambda: program)
        except (RuntimeError, CelTextError):
            pass
        try:
            self.env((*(scope.variables if scope else ()), *((RELATED,) if policy.relations else ()))).compile(
                expression)
        except RuntimeError as error:
            raise PolicyError(policy.source, f"{policy.id}: CEL compile error {_cel_message(error)}",
                              validation.line) from None
        raise PolicyError(policy.source, f"{policy.id}: the expression compiles alone but not inside its"
                          " forEach scope and parameters", validation.line)


def validation_scope(policy: Policy, validation: Validation) -> Scope | None:
    """The validation's forEach scope; a bad pattern is a PolicyError on its line."""
    if not validation.for_each:
        return None
    try:
        return parse_scope(validation.for_each, validation.variable)
    except ScopeError as error:
        raise PolicyError(policy.source, f"{policy.id}: {error}", validation.line) from None


class _Program:
    """A compiled expression: the form for activations with the pod variables, and (compiled
    on first use) the form that finds them itself."""

    def __init__(self, given: Any, given_text: str, finding: Callable[[], Any]):
        self.given = given
        self.given_text = given_text
        self._finding = finding
        self._compiled_finding: Any = None

    def eval(self, activation: tuple[Any, bool]) -> Any:
        values, pod_given = activation
        return self.given.eval(values) if pod_given else self.finding().eval(values)

    def finding(self) -> Any:
        if self._compiled_finding is None:
            try:
                self._compiled_finding = self._finding()
            except RuntimeError as error:  # compiled in the other form: not expected
                raise EvaluationError(f"CEL compile error: {error}") from None
        return self._compiled_finding


def _bound(params: str, scope: Scope | None, expression: str, pod_given: bool = False) -> str:
    body = scope.wrap(f"({expression})", pod_given) if scope else f"({expression})"
    # Bind only what is used: CEL's parser allows 32 levels of nesting.
    return f"[{params}].map(params, {body})[0]" if mentions(body, "params") else body


def _cel_message(error: Exception) -> str:
    """The compiler's errors on one line, "at column 18: Syntax error: ...; at ...", without
    the copy of the expression and the caret it prints under each."""
    from validator.celcheck import parse_problems

    return "; ".join(f"at {problem.where()}: {problem.message}" for problem in parse_problems(str(error)))


@dataclass(frozen=True)
class _CompiledValidation:
    validation: Validation
    scope: Scope | None
    verdict: Any
    message: Any | None
    related: Any | None = None


class CelBatch:
    """The verdicts of many policies' checks on one resource, from one evaluation of a CEL
    list of their expressions: one call into the runtime instead of one per check.

    Used for a resource whose pod variables are given. When any expression errors, so
    does the list, and every check is then evaluated on its own (which names the error).
    """

    def __init__(self, evaluator: CelEvaluator, program: Any, offsets: dict[str, int], size: int):
        self.evaluator, self.program, self.offsets, self.size = evaluator, program, offsets, size

    def prepare(self, document: dict[str, Any], cache: dict[str, Any]) -> None:
        activation = self.evaluator.activation(document, cache)
        values, pod_given = activation
        if not pod_given:
            return
        try:
            verdicts = self.program.eval(values).plain_value()
        except Exception:  # as the engine allows for one check: each check then reports it
            return
        if verdicts.__class__ is list and len(verdicts) == self.size:  # an error's is its text
            cache["cel:batch"] = (self.offsets, verdicts)


_NO_BATCH: tuple[dict[str, int], tuple[Any, ...]] = ({}, ())  # a resource no batch evaluated


class CompiledCelPolicy:
    def __init__(self, policy: Policy, checks: tuple[_CompiledValidation, ...], evaluator: CelEvaluator):
        self.policy, self.checks, self.evaluator = policy, checks, evaluator

    def evaluate(self, document: dict[str, Any], cache: dict[str, Any]) -> list[RawViolation]:
        activation = self.evaluator.activation(document, cache)
        values, pod_given = activation
        offsets, batched = cache.get("cel:batch") or _NO_BATCH
        offset = offsets.get(self.policy.id)
        violations: list[RawViolation] = []
        for number, check in enumerate(self.checks):
            if offset is not None:  # evaluated already, without error (see CelBatch)
                result, verdict = None, batched[offset + number]
            else:
                result = (check.verdict.given if pod_given else check.verdict.finding()).eval(values)
                # An error is never True: its plain value is its text.
                verdict = result.plain_value()
            # The common case first: the object or every item complies.
            if check.scope is None:
                if verdict is True:
                    continue
                if _verdict(verdict if result is None else _value(result)):
                    continue
                violations.append(RawViolation(check.validation.field_path, self._message(check, activation, None),
                                               check.validation.reads, number, self._related(check, activation, None)))
                continue
            if verdict.__class__ is list and all(ok is True for ok in verdict):
                continue
            violations += self._item_violations(check, number, verdict if result is None else _value(result),
                                                activation, document, cache)
        return violations

    def _item_violations(self, check: _CompiledValidation, number: int, verdict: Any, activation: Any,
                         document: dict[str, Any], cache: dict[str, Any]) -> list[RawViolation]:
        """The findings of a forEach check: one per item whose verdict is not true."""
        assert check.scope is not None
        verdicts = _flatten(verdict)
        if all(ok is True for ok in verdicts):
            return []
        paths = _item_paths(check.scope, document, cache)
        if len(verdicts) != len(paths):
            raise EvaluationError(f"forEach {check.scope.pattern!r} matched items that are not objects")
        violations = []
        for index, (path, ok) in enumerate(zip(paths, verdicts)):
            if not _verdict(ok):
                message = self._message(check, activation, index)
                reads = tuple(path + read for read in check.validation.reads)
                violations.append(RawViolation(path + check.validation.field_path, message, reads, number,
                                               self._related(check, activation, index)))
        return violations

    def _related(self, check: _CompiledValidation, activation: Any,
                 index: int | None) -> tuple[tuple[str, int, int, str], ...]:
        """The related objects a finding names: the items its relatedExpression gives (a list,
        or a list of lists) that are in the scan, in the order given, each once. An expression
        that errors or gives something else than a list of items is an evaluation error: a
        policy author's bug."""
        if check.related is None:
            return ()
        value = _value(check.related.eval(activation))
        if index is not None:
            value = _flatten(value)[index]
        items = value.get("items") if isinstance(value, dict) else None
        if not isinstance(items, list):
            raise EvaluationError("relatedExpression must give a list of related items")
        found: dict[tuple[str, int, int, str], None] = {}
        for item in _flatten(items):  # lists of lists too: CEL has no flatten()
            if not isinstance(item, dict) or not isinstance(item.get("ref"), str):
                raise EvaluationError("relatedExpression must give a list of related items (maps with a ref)")
            if item.get("inScan") is True and isinstance(item.get("file"), str) and isinstance(item.get("line"), int):
                column = item.get("column")
                found[(item["file"], item["line"], column if isinstance(column, int) else 1, item["ref"])] = None
        return tuple(found)

    def _message(self, check: _CompiledValidation, activation: Any, index: int | None) -> str:
        if check.message is None:
            return check.validation.message
        try:
            value = _value(check.message.eval(activation))
            if index is not None:
                value = _flatten(value)[index]
        except (EvaluationError, IndexError):
            return check.validation.message
        return value if isinstance(value, str) and value.strip() else check.validation.message


def _item_paths(scope: Scope, document: dict[str, Any], cache: dict[str, Any]) -> list[FieldPath]:
    key = "paths:" + scope.pattern
    if key not in cache:
        cache[key] = scope.item_paths(document)
    return cache[key]


_ERROR = cel.Type.ERROR


def _value(result: Any) -> Any:
    if result.type() == _ERROR:
        raise EvaluationError(str(result.value()).replace("\n", " "))
    return result.plain_value()


def _verdict(value: Any) -> bool:
    if not isinstance(value, bool):
        raise EvaluationError(f"expression returned {type(value).__name__}, not a boolean")
    return value


def _flatten(value: Any) -> list[Any]:
    if not isinstance(value, list):
        return [value]
    flat: list[Any] = []
    for item in value:
        if isinstance(item, list):
            flat.extend(_flatten(item))
        else:
            flat.append(item)
    return flat
