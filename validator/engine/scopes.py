"""`forEach` scopes: evaluate a validation once per item and blame that item's field.

A scope pattern is a dotted path from the object with `[*]` wildcards, optionally starting
with a shortcut:

- `@podSpec`: the pod spec of any pod-bearing kind (`spec`, `spec.template.spec`,
  `spec.jobTemplate.spec.template.spec`, or below a configured kind's pod template);
- `@containers`: every container of that pod spec: `containers`, `initContainers` and
  `ephemeralContainers`.

Under either shortcut, expressions can also read `podSpec` and `podMeta` (the pod
template's metadata), e.g. to fall back on a pod-level securityContext.

Examples: `@containers`, `@containers.env[*]`, `@podSpec.volumes[*]`, `rules[*]`,
`spec.ports[*]`.

The same pattern is expanded twice, in the same order: into CEL (a `map` per wildcard,
evaluated in one pass) and into the concrete field paths of the items, so that the n-th
verdict belongs to the n-th path.

Two more CEL forms serve the ValidatingAdmissionPolicy export, where the API server has
no `cel.bind` (a one-item comprehension binds instead): `holds` (true when every item
complies) and `collect` (the messages of the items, joined).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterator

from validator.model import FieldPath
from validator.pod_templates import (  # the two `as` names are re-exported for the engine's callers
    DEFAULT_POD_TEMPLATE,
    configure_pod_templates as configure_pod_templates,
    configured_pod_kinds as configured_pod_kinds,
    pod_spec_path,
    special_pod_templates,
)

CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")
_SEGMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ScopeError(ValueError):
    pass


def _pod_cel(leaf: str) -> str:
    """CEL finding the pod template's `leaf` (spec or metadata) of the object, by its kind."""
    special = special_pod_templates()
    branches = "".join(f"object.kind == '{kind}' ? {_optional_chain('object', path + (leaf,))} : "
                       for kind, path in special.items())
    return f"({branches}{_optional_chain('object', DEFAULT_POD_TEMPLATE + (leaf,))})"


POD_VARIABLES = ("podSpec", "podMeta")
POD_SPEC_FOUND = "_podSpecFound"  # internal: not for policies (the VAP export lacks them)
POD_CONTAINERS = "_podContainers"
POD_GIVEN = (*POD_VARIABLES, POD_SPEC_FOUND, POD_CONTAINERS)


def pod_values(document: dict[str, Any]) -> dict[str, Any] | None:
    """The variables of POD_GIVEN, as the CEL above would find them; None when that CEL
    would stop with an error (a field on the way that is not a mapping, containers that
    are not a list), which it is then left to report."""
    kind = document.get("kind")
    spec_path = pod_spec_path(kind if isinstance(kind, str) else "")
    spec, found = _optional(document, spec_path)
    meta, meta_found = _optional(document, spec_path[:-1] + ("metadata",))
    if spec is _ERROR or meta is _ERROR:
        return None
    spec = spec if found else {}
    containers: list[Any] = []
    for name in CONTAINER_LISTS:
        items = spec.get(name, []) if isinstance(spec, dict) else None
        if not isinstance(items, list):
            return None
        containers += items
    return {"podSpec": spec, "podMeta": meta if meta_found else {}, POD_SPEC_FOUND: found,
            POD_CONTAINERS: containers}


_ERROR = object()


def _optional(value: Any, path: FieldPath) -> tuple[Any, bool]:
    """CEL's `value.?a.?b`: (the value, True), (None, False) when a field is absent, or
    (_ERROR, False) when a field is read from something that is not a mapping."""
    for segment in path:
        if not isinstance(value, dict):
            return _ERROR, False
        if segment not in value:
            return None, False
        value = value[segment]
    return value, True


@dataclass(frozen=True)
class _Step:
    segments: tuple[str, ...]  # relative to the previous step's item
    is_list: bool
    variable: str
    shortcut: str | None = None  # "@podSpec" or "@containers"


@dataclass(frozen=True)
class Scope:
    pattern: str
    steps: tuple[_Step, ...]

    @property
    def variables(self) -> tuple[str, ...]:
        names = tuple(step.variable for step in self.steps)
        if self.steps[0].shortcut:
            names += POD_VARIABLES
        return names

    @property
    def uses_pod(self) -> bool:
        return self.steps[0].shortcut is not None

    def wrap(self, body: str, pod_given: bool = False) -> str:
        """CEL that evaluates `body` once per item, giving a (nested) list of results.

        With `pod_given`, a shortcut reads the variables of POD_GIVEN (see `pod_values`)
        instead of finding the pod spec and its containers itself.
        """
        return _wrap(self.steps, "object", body, _MAP, pod_given)

    def holds(self, body: str) -> str:
        """CEL that is true when the boolean `body` holds for every item; no `cel.bind`."""
        return _wrap(self.steps, "object", body, _ALL)

    def collect(self, body: str) -> str:
        """CEL joining the non-empty strings `body` gives per item with '; '; no `cel.bind`."""
        return _wrap(self.steps, "object", body, _JOIN)

    def item_paths(self, document: dict[str, Any]) -> list[FieldPath]:
        return list(_paths(self.steps, document, (), document))


def parse_scope(pattern: str, variable: str | None = None) -> Scope:
    tokens = pattern.split(".")
    steps: list[_Step] = []
    pending: list[str] = []
    shortcut = None
    if tokens[0] in ("@podSpec", "@containers"):
        shortcut = tokens.pop(0)
        if shortcut == "@podSpec":
            steps.append(_Step((), False, "podSpec", shortcut))
        else:
            steps.append(_Step((), True, "container", shortcut))
    elif tokens[0].startswith("@"):
        raise ScopeError(f"unknown forEach shortcut {tokens[0]!r} (expected @podSpec or @containers)")
    for token in tokens:
        is_list = token.endswith("[*]")
        name = token[:-3] if is_list else token
        if not _SEGMENT.match(name):
            raise ScopeError(f"forEach segment {token!r} must be a field name, optionally followed by [*]")
        pending.append(name)
        if is_list:
            steps.append(_Step(tuple(pending), True, "item"))
            pending = []
    if pending:
        steps.append(_Step(tuple(pending), False, "item"))
    if not steps:
        raise ScopeError("forEach needs a pattern")
    steps = [_Step(s.segments, s.is_list, f"_item{i}" if s.variable == "item" else s.variable, s.shortcut)
             for i, s in enumerate(steps)]
    innermost = steps[-1]
    name = variable or ("item" if innermost.variable.startswith("_item") else innermost.variable)
    steps[-1] = _Step(innermost.segments, innermost.is_list, name, innermost.shortcut)
    return Scope(pattern, tuple(steps))


def _optional_chain(base: str, segments: FieldPath) -> str:
    return base + "".join(f".?{s}" for s in segments)


@dataclass(frozen=True)
class _Form:
    """How one expansion combines items: `each` over a list, `when` a value is present,
    `bind` a name to a value."""

    each: str  # format fields: items, var, inner
    when: str  # format fields: cond, inner
    bind: str  # format fields: var, value, inner


_MAP = _Form("{items}.map({var}, {inner})", "({cond} ? [{inner}] : [])", "[{value}].map({var}, {inner})[0]")
_ALL = _Form("{items}.all({var}, {inner})", "(!{cond} || {inner})", "[{value}].all({var}, {inner})")
_JOIN = _Form("{items}.map({var}, {inner}).filter(m, m != '').join('; ')", "({cond} ? {inner} : '')",
              "[{value}].map({var}, {inner})[0]")


def _wrap(steps: tuple[_Step, ...], base: str, body: str, form: _Form, pod_given: bool = False) -> str:
    step, rest = steps[0], steps[1:]
    inner = _wrap(rest, step.variable, body, form) if rest else body
    if step.shortcut:
        # Bind the pod spec and pod metadata once, for the shortcut and for expressions.
        if step.shortcut == "@containers":
            lists = POD_CONTAINERS if pod_given else " + ".join(f"podSpec.?{name}.orValue([])"
                                                                 for name in CONTAINER_LISTS)
            mapped = form.each.format(items=f"({lists})", var=step.variable, inner=inner)
        else:
            item = (inner if step.variable == "podSpec"
                    else form.bind.format(var=step.variable, value="podSpec", inner=inner))
            found = POD_SPEC_FOUND if pod_given else f"{_pod_cel('spec')}.hasValue()"
            mapped = form.when.format(cond=found, inner=item)
        if pod_given:
            return mapped
        pod_meta = form.bind.format(var="podMeta", value=f"{_pod_cel('metadata')}.orValue({{}})", inner=mapped)
        return form.bind.format(var="podSpec", value=f"{_pod_cel('spec')}.orValue({{}})", inner=pod_meta)
    source = _optional_chain(base, step.segments)
    if step.is_list:
        return form.each.format(items=f"{source}.orValue([])", var=step.variable, inner=inner)
    bound = form.bind.format(var=step.variable, value=f"{source}.value()", inner=inner)
    return form.when.format(cond=f"{source}.hasValue()", inner=bound)


def _get(value: Any, segments: FieldPath) -> Any:
    for segment in segments:
        if not isinstance(value, dict) or segment not in value:
            return None
        value = value[segment]
    return value


def _paths(steps: tuple[_Step, ...], value: Any, prefix: FieldPath, document: dict[str, Any]) -> Iterator[FieldPath]:
    step, rest = steps[0], steps[1:]
    if step.shortcut:
        spec_path = pod_spec_path(str(document.get("kind")))
        spec = _get(document, spec_path)
        if step.shortcut == "@podSpec":
            found = [(spec_path, spec)] if spec is not None else []
        else:
            found = [
                (spec_path + (name, index), item)
                for name in CONTAINER_LISTS
                for index, item in enumerate(_list(_get(spec, (name,))))
            ]
    else:
        target = _get(value, step.segments)
        path = prefix + step.segments
        if step.is_list:
            found = [(path + (index,), item) for index, item in enumerate(_list(target))]
        else:
            found = [(path, target)] if target is not None else []
    for path, item in found:
        if rest:
            yield from _paths(rest, item, path, document)
        else:
            yield path


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
