"""The engine: policies applied to resources give results (pass, fail or error)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Iterable, Protocol

from validator.engine.cel import CelEvaluator, EvaluationError, RawViolation
from validator.engine.policy import Policy, PolicyError
from validator.engine.targets import matches
from validator.model import Resource, Result, Status, Violation


class CompiledPolicy(Protocol):
    policy: Policy

    def evaluate(self, document: dict[str, Any], cache: dict[str, Any]) -> list[RawViolation]: ...


class Evaluator(Protocol):
    """A policy language. CEL is built in; others plug in by `Policy.language`."""

    language: str

    def compile(self, policy: Policy, parameters: dict[str, Any]) -> CompiledPolicy: ...


@dataclass
class Engine:
    compiled: list[CompiledPolicy]

    @classmethod
    def build(cls, policies: Iterable[Policy], overrides: dict[str, dict[str, Any]] | None = None) -> "Engine":
        """Compile every policy once. Raises PolicyError for a policy that does not compile."""
        evaluators: dict[str, Evaluator] = {"cel": CelEvaluator()}
        compiled = []
        for policy in policies:
            evaluator = evaluators.get(policy.language)
            if evaluator is None:
                raise PolicyError(policy.source, f"{policy.id}: unsupported policy language {policy.language!r}")
            parameters = policy.defaults() | (overrides or {}).get(policy.id, {})
            compiled.append(evaluator.compile(policy, parameters))
        return cls(compiled)

    @property
    def policies(self) -> list[Policy]:
        return [c.policy for c in self.compiled]

    def run(self, resources: Iterable[Resource]) -> list[Result]:
        by_kind: dict[str, list[CompiledPolicy]] = defaultdict(list)
        for item in self.compiled:
            for kind in item.policy.targets.kinds:
                by_kind[kind].append(item)
        results = []
        for resource in resources:
            cache: dict[str, Any] = {}
            for item in by_kind.get(resource.kind, []) + by_kind.get("*", []):
                if matches(item.policy.targets, resource):
                    results.append(evaluate(item, resource, cache))
        results.sort(key=_order)
        return results


def evaluate(item: CompiledPolicy, resource: Resource, cache: dict[str, Any]) -> Result:
    try:
        raw = item.evaluate(resource.document, cache)
    except EvaluationError as error:
        return Result(item.policy, resource, Status.ERROR, error=str(error))
    except Exception as error:  # a conversion failure inside the CEL runtime
        return Result(item.policy, resource, Status.ERROR, error=f"{type(error).__name__}: {error}")
    if not raw:
        return Result(item.policy, resource, Status.PASS)
    violations = [Violation(v.message, v.field_path, resource.locate(v.field_path)) for v in raw]
    violations.sort(key=lambda v: (v.location.line, v.location.column, v.message))
    return Result(item.policy, resource, Status.FAIL, violations)


def _order(result: Result) -> tuple[Any, ...]:
    r = result.resource
    return (r.path, r.doc_index, result.policy.id)
