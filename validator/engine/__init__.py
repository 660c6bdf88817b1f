"""The engine: policies applied to resources give results (pass, fail or error)."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from typing import Any, Callable, Iterable, Protocol

from validator.engine.cel import CelEvaluator, EvaluationError, RawViolation
from validator.engine.policy import Policy, PolicyError, Targets
from validator.engine.scopes import configured_pod_kinds
from validator.engine.targets import matches
from validator.model import FieldPath, Location, RelatedLocation, Resource, Result, Status, Violation


class CompiledPolicy(Protocol):
    @property
    def policy(self) -> Policy: ...

    @property
    def evaluator(self) -> "Evaluator": ...

    def evaluate(self, document: dict[str, Any], cache: dict[str, Any]) -> list[RawViolation]: ...


class Batch(Protocol):
    def prepare(self, document: dict[str, Any], cache: dict[str, Any]) -> None:
        """Evaluate ahead, into `cache`, what the batched policies' `evaluate` will read."""


class Evaluator(Protocol):
    """A policy language. CEL is built in; others plug in by `Policy.language`.

    A language may also offer `batch(compiled) -> Batch | None`: one evaluation per
    resource for many of its policies, where that is cheaper than one each.
    """

    language: str

    def compile(self, policy: Policy, parameters: dict[str, Any]) -> CompiledPolicy: ...


# A kind needs this many resources in a run before its policies are batched: compiling the
# Deployment batch (43 checks) takes about 20 ms, and saves about 0.15 ms per Deployment.
BATCH_MIN_RESOURCES = 100


class Engine:
    """Policies ready to run. Each policy is compiled once per run: up front, or (with
    `eager=False`) when the first resource of a kind it targets is seen, so a scan of
    Kubernetes manifests never pays for compiling Terraform policies."""

    def __init__(self, entries: list[tuple[Policy, Evaluator, dict[str, Any]]]):
        self._entries = entries
        self._compiled: dict[str, CompiledPolicy] = {}
        # What findings repeat, kept once for the whole scan: the same few field paths fail
        # on thousands of objects, mostly with the same messages (and, see pipeline.work,
        # the same stable paths and fix texts).
        self.interned: dict[Any, Any] = {}
        self._batches: dict[tuple[str, bool], list[Batch]] = {}  # by kind, and whether with an inventory

    @classmethod
    def build(cls, policies: Iterable[Policy], overrides: dict[str, dict[str, Any]] | None = None,
              eager: bool = True) -> "Engine":
        """Raises PolicyError for a policy that does not compile (when eager: here)."""
        evaluators: dict[str, Evaluator] = {"cel": CelEvaluator()}
        entries = []
        for policy in policies:
            if policy.language == "rego" and "rego" not in evaluators:
                from validator.rego.evaluator import RegoEvaluator  # the engine itself loads on compile
                evaluators["rego"] = RegoEvaluator()
            evaluator = evaluators.get(policy.language)
            if evaluator is None:
                raise PolicyError(policy.source, f"{policy.id}: unsupported policy language {policy.language!r}")
            entries.append((policy, evaluator, policy.defaults() | (overrides or {}).get(policy.id, {})))
        engine = cls(entries)
        if eager:
            engine._compile(entries)
        return engine

    @property
    def relations(self) -> tuple[str, ...]:
        """The relations its policies read (see validator.inventory); none: no policy reads
        other objects of the scan."""
        return tuple(sorted({name for policy, _, _ in self._entries for name in policy.relations}))

    @property
    def policies(self) -> list[Policy]:
        return [policy for policy, _, _ in self._entries]

    @property
    def compiled(self) -> list[CompiledPolicy]:
        return self._compile(self._entries)

    def compile_where(self, chosen: Callable[[Policy], bool]) -> None:
        """Compile now the policies `chosen` keeps. Raises PolicyError."""
        self._compile(entry for entry in self._entries if chosen(entry[0]))

    def _compile(self, entries: Iterable[tuple[Policy, Evaluator, dict[str, Any]]]) -> list[CompiledPolicy]:
        compiled = []
        for policy, evaluator, parameters in entries:
            if policy.id not in self._compiled:
                self._compiled[policy.id] = evaluator.compile(policy, parameters)
            compiled.append(self._compiled[policy.id])
        return compiled

    def run(self, resources: Iterable[Resource], inventory: Any = None) -> list[Result]:
        """Raises PolicyError when a policy compiled on demand does not compile.

        `inventory` (validator.inventory.Inventory) is the index of the whole scan, which
        cross-resource policies (those with `relations:`) read. Without one they are not
        evaluated at all (no result): a run that does not know the other objects cannot
        judge them, and must not guess that they are absent.
        """
        resources = list(resources)
        by_kind = self._by_kind({resource.kind for resource in resources}, inventory is not None)
        relations = _relations(by_kind) if inventory is not None else {}
        per_kind = Counter(resource.kind for resource in resources)
        results: list[Result] = []
        # Results come out sorted: by file, document, then policy id.
        for resource in sorted(resources, key=lambda r: (r.path, r.doc_index)):
            cache: dict[str, Any] = {}
            wildcard = by_kind.get("*", [])
            applicable = by_kind.get(resource.kind, [])
            if wildcard:
                applicable = sorted(applicable + wildcard, key=lambda item: item.policy.id)
            names = relations.get(resource.kind) or relations.get("*")
            if names:
                cache["related"] = inventory.related(resource, names)
            shared = 0.0
            if per_kind[resource.kind] >= BATCH_MIN_RESOURCES:
                started = time.perf_counter()
                for batch in self._batches_for((resource.kind, bool(names)), applicable):
                    batch.prepare(resource.document, cache)
                shared = time.perf_counter() - started
            first = len(results)
            for item in applicable:
                if matches(item.policy.targets, resource):
                    results.append(evaluate(item, resource, cache, self.interned))
            if shared and len(results) > first:  # the batches' time, shared by the resource's results
                share = shared / (len(results) - first)
                for result in results[first:]:
                    result.duration += share
        return results

    def _by_kind(self, kinds: set[str], with_inventory: bool) -> dict[str, list[CompiledPolicy]]:
        """The compiled policies that apply to each kind (`*`: every kind), by policy id;
        cross-resource ones only `with_inventory`."""
        needed = [e for e in self._entries if (with_inventory or not e[0].relations)
                  and ("*" in e[0].targets.kinds or kinds & set(target_kinds(e[0].targets)))]
        by_kind: dict[str, list[CompiledPolicy]] = defaultdict(list)
        for item in self._compile(needed):
            for kind in target_kinds(item.policy.targets):
                by_kind[kind].append(item)
        for items in by_kind.values():
            items.sort(key=lambda item: item.policy.id)
        return by_kind

    def _batches_for(self, kind: tuple[str, bool], applicable: list[CompiledPolicy]) -> list[Batch]:
        """The batches of a kind; with `related` given (kind[1]), cross-resource policies are
        batched too."""
        if kind not in self._batches:
            by_language: dict[Any, list[CompiledPolicy]] = defaultdict(list)
            for item in applicable:
                by_language[item.evaluator].append(item)
            batches = (getattr(evaluator, "batch", lambda items: None)(items)
                       for evaluator, items in by_language.items())
            self._batches[kind] = [batch for batch in batches if batch is not None]
        return self._batches[kind]


def _relations(by_kind: dict[str, list[CompiledPolicy]]) -> dict[str, tuple[str, ...]]:
    """The relations the policies of each kind read: one `related` value per resource
    serves them all."""
    wildcard = by_kind.get("*", [])
    return {kind: tuple(sorted({name for item in items + wildcard for name in item.policy.relations}))
            for kind, items in by_kind.items()}


def target_kinds(targets: Targets) -> tuple[str, ...]:
    """The kinds a policy targets, with the custom kinds that have a configured pod template
    when it targets `@pod-bearing`."""
    return targets.kinds + configured_pod_kinds() if targets.pod_bearing else targets.kinds


def evaluate(item: CompiledPolicy, resource: Resource, cache: dict[str, Any],
             shared: dict[Any, Any] | None = None) -> Result:
    """`shared`: where to keep each blamed field path and message once (Engine.interned)."""
    started = time.perf_counter()
    result = _outcome(item, resource, cache, {} if shared is None else shared)
    result.duration = time.perf_counter() - started
    return result


def _outcome(item: CompiledPolicy, resource: Resource, cache: dict[str, Any],
             shared: dict[Any, Any]) -> Result:
    try:
        raw = item.evaluate(resource.document, cache)
    except EvaluationError as error:
        return Result(item.policy, resource, Status.ERROR, error=str(error))
    except Exception as error:  # a conversion failure inside the CEL runtime
        return Result(item.policy, resource, Status.ERROR, error=f"{type(error).__name__}: {error}")
    if resource.unknown_paths:
        unknown = resource.unknown_paths
        raw = [v for v in raw
               if not any(touches_unknown(path, unknown) for path in (v.field_path, *v.reads))]
    if not raw:
        return Result(item.policy, resource, Status.PASS)
    violations = [Violation(shared.setdefault(v.message, v.message), shared.setdefault(v.field_path, v.field_path),
                            resource.locate(v.field_path), validation=v.validation,
                            related=tuple(RelatedLocation(Location(*where[:3]), where[3]) for where in v.related))
                  for v in raw]
    violations.sort(key=lambda v: (v.location.line, v.location.column, v.message))
    return Result(item.policy, resource, Status.FAIL, violations)


def touches_unknown(path: FieldPath, unknown: Iterable[FieldPath]) -> bool:
    """True when the blamed field is an unknown value, contains one or is inside one: a
    policy never fails merely because a value is not known yet."""
    for other in unknown:
        shorter = min(len(path), len(other))
        if path[:shorter] == other[:shorter]:
            return True
    return False


