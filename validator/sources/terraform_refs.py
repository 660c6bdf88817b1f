"""Terraform references: for each resource, the resources its attributes refer to.

Two readers give the same answer for the two Terraform forms:

- `plan_references(data)`, from a plan's `configuration` (`expressions.*.references`, nested
  blocks included, in the root module and in every module call). A reference is followed
  through the places the plan records: `var.x` of a child module to the argument of its
  module call, `module.m.out` to the output's expression in module `m`, `each.*` and
  `count.index` to the resource's own `for_each` / `count` expression.
- `hcl_links(module)` (in terraform_hcl_refs, which needs the HCL parser), from the `.tf`
  resource blocks of a module: every traversal written in their expressions, followed through
  `local.x`, `each.*` and `count.index`.

A reference names a *configuration* address (`module.m.aws_s3_bucket.b`, no instance keys).
`link_instances` then turns the references of each planned resource instance into the
instances they point at (`module.m["a"].aws_s3_bucket.b[0]`):

- only instances in the same module instance as the referring one, as far as the two module
  paths are shared (a resource in `module.m["a"]` refers to buckets of `module.m["a"]`);
- a literal key (`aws_s3_bucket.b[0]`) picks that instance; a key taken from `each` or
  `count.index` picks the instance with the referring instance's own key (the usual
  `for_each = var.buckets` on both sides);
- one instance left is a *certain* link; several are *possible* links, which no policy may
  use to assert a relation (they only keep a policy from saying that none exists).

What cannot be followed makes the attribute *opaque*: `local.x` in a plan (plans do not
record locals), a root module `var.x`, a `module.m.out` whose module is not in the file
(`.tf`), a reference to a resource that is not there. An attribute that also refers to
resources of the scan is taken to point at them (`local.create ? aws_s3_bucket.b[0].id :
null`, where the local is a condition); only an attribute with no link at all stays opaque.
References to data sources point outside the configuration: they are neither links nor
opaque. What relations make of this is in terraform_relations.

Attribute paths name the blocks without indexes: `("bucket",)`,
`("rule", "apply_server_side_encryption_by_default", "kms_master_key_id")`. Only resource
arguments count: the meta-arguments (`count`, `for_each`, `depends_on`, `provider`,
`lifecycle`...) are not attributes, though `each` and `count.index` are followed into them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Iterator

AttributePath = tuple[str, ...]
Key = int | str | None  # an instance key; None when not written literally

MAX_HOPS = 32  # references followed through variables, outputs and locals, at most
_NOT_RESOURCES = frozenset({"var", "local", "module", "data", "each", "count", "self", "path", "terraform", "resource"})
_META = frozenset({"count", "for_each", "provider", "depends_on", "lifecycle", "provisioner", "connection"})
_STEP = re.compile(r'\.?([A-Za-z_][A-Za-z0-9_-]*)|\[(?:"((?:[^"\\]|\\.)*)"|(\d+)|([^\]]*))\]|\.?(\*)')
_INSTANCE = re.compile(r'\[(?:"(?:[^"\\]|\\.)*"|[0-9]+)\]')
_MODULE_STEP = re.compile(r'module\.([A-Za-z_][A-Za-z0-9_-]*)((?:\[(?:"(?:[^"\\]|\\.)*"|[0-9]+)\])?)\.')
_KEY_AT_END = re.compile(r'\[(?:"((?:[^"\\]|\\.)*)"|([0-9]+))\]$')


class _Dynamic:
    """An index that is not a literal (`[each.key]`, `[count.index]`, `[var.i]`)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "DYNAMIC"


DYNAMIC: Any = _Dynamic()


@dataclass(frozen=True)
class Index:
    """A literal index step of a traversal (`[0]`, `["k"]`), as opposed to an attribute name."""

    value: int | str
SPLAT = "*"
OPAQUE = "<opaque>"


@dataclass(frozen=True)
class Target:
    """A resource a reference points at, as written: its configuration address and key."""

    address: str  # configuration address, e.g. `module.m.aws_s3_bucket.b`
    key: Key = None  # the literal instance key written, if any
    paired: bool = False  # the key comes from the referring resource's `each` or `count.index`
    via: str | None = None  # the target's attribute read (`id`, `arn`, `default_security_group_id`)


@dataclass
class References:
    """What one resource (one block, all its instances) refers to."""

    targets: dict[AttributePath, set[Target]] = field(default_factory=dict)
    opaque: set[AttributePath] = field(default_factory=set)  # attributes using something not followed
    written: set[str] = field(default_factory=set)  # top-level attributes and blocks its configuration writes

    def add(self, path: AttributePath, found: Found) -> None:
        if found.targets:
            self.targets.setdefault(path, set()).update(found.targets)
        if found.opaque:
            self.opaque.add(path)


@dataclass(frozen=True)
class Link:
    """One attribute of a resource instance pointing at another resource instance."""

    attribute: AttributePath
    target: str  # the target's address as the scan names it (instance address in a plan)
    certain: bool = True  # False: one of several instances it may point at
    via: str | None = None  # the target's attribute read, when one is


@dataclass(frozen=True)
class ResourceLinks:
    """The links of one resource instance, and its attributes that may point elsewhere."""

    links: tuple[Link, ...] = ()
    opaque: frozenset[AttributePath] = frozenset()
    exported: bool = False  # `.tf`: leaves its module through an `output` or a `module` argument
    complete: bool = True  # `.tf`: every file of its module could be read
    # plan: the top-level attributes and blocks its configuration writes (None: not known). An
    # attribute a plan does not know that the configuration does not write is the provider's.
    written: frozenset[str] | None = None
    # `.tf`: (file, type) of the resources of its module that relations read; a scan that does
    # not read one of those files (part of the module scanned) does not see all its relations
    files: frozenset[tuple[str, str]] = frozenset()

    def targets(self, attribute: AttributePath | None = None, certain: bool = False) -> list[str]:
        return sorted({link.target for link in self.links
                       if (attribute is None or link.attribute == attribute) and (link.certain or not certain)})


@dataclass
class Found:
    targets: set[Target] = field(default_factory=set)
    opaque: bool = False

    def merge(self, other: Found) -> None:
        self.targets |= other.targets
        self.opaque = self.opaque or other.opaque


# --- addresses -----------------------------------------------------------------------------


def config_address(address: str) -> str:
    """`module.m["a"].aws_s3_bucket.b[0]` -> `module.m.aws_s3_bucket.b` (instance keys removed)."""
    return _INSTANCE.sub("", address)


def instance_key(address: str) -> Key:
    """The resource's own instance key: `...b[0]` -> 0, `...b["k"]` -> "k", none -> None."""
    match = _KEY_AT_END.search(address)
    if not match:
        return None
    return int(match.group(2)) if match.group(2) is not None else _unescape(match.group(1))


def module_steps(address: str) -> list[tuple[str, str]]:
    """The module instances of an address: `module.a["x"].module.b.t.n` -> [("a", '["x"]'), ("b", "")]."""
    steps, offset = [], 0
    while match := _MODULE_STEP.match(address, offset):
        steps.append((match.group(1), match.group(2)))
        offset = match.end()
    return steps


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def parse_traversal(text: str) -> list[Any]:
    """`aws_s3_bucket.b[0].id` -> ["aws_s3_bucket", "b", Index(0), "id"]; `module.m["a"].out` ->
    ["module", "m", Index("a"), "out"]; a non-literal index is DYNAMIC, a splat is SPLAT."""
    steps: list[Any] = []
    offset = 0
    while offset < len(text):
        match = _STEP.match(text, offset)
        if not match or match.end() == offset:
            break
        name, quoted, number, other, splat = match.groups()
        if name is not None:
            steps.append(name)
        elif quoted is not None:
            steps.append(Index(_unescape(quoted)))
        elif number is not None:
            steps.append(Index(int(number)))
        elif splat is not None:
            steps.append(SPLAT)
        else:
            steps.append(SPLAT if other == "*" else DYNAMIC)
        offset = match.end()
    return steps


def _via(steps: list[Any]) -> str | None:
    """The attribute a traversal reads from a resource: `aws_vpc.v[0].default_security_group_id`
    -> `default_security_group_id`; None for the whole resource or a splat."""
    for step in steps[2:]:
        if step is SPLAT:
            return None
        if isinstance(step, str):
            return step
    return None


def _prefix(modules: tuple[str, ...]) -> str:
    return "".join(f"module.{name}." for name in modules)


# --- plan JSON ------------------------------------------------------------------------------


class _PlanConfig:
    """A plan's `configuration`, walked once."""

    def __init__(self, data: dict[str, Any]):
        configuration = data.get("configuration")
        root = configuration.get("root_module") if isinstance(configuration, dict) else None
        self.modules: dict[tuple[str, ...], dict[str, Any]] = {}
        self.calls: dict[tuple[str, ...], dict[str, Any]] = {}  # module path -> its call in the parent
        self._resources: dict[tuple[Any, ...], dict[str, Any]] | None = None
        self._collect(root, ())

    def _collect(self, module: Any, path: tuple[str, ...]) -> None:
        if not isinstance(module, dict) or len(path) > 100:
            return
        self.modules[path] = module
        calls = module.get("module_calls")
        for name, call in (calls.items() if isinstance(calls, dict) else ()):
            if isinstance(call, dict) and isinstance(name, str):
                self.calls[path + (name,)] = call
                self._collect(call.get("module"), path + (name,))

    def resources(self) -> Iterator[tuple[tuple[str, ...], dict[str, Any]]]:
        for path, module in self.modules.items():
            entries = module.get("resources")
            for entry in entries if isinstance(entries, list) else ():
                if isinstance(entry, dict) and entry.get("mode", "managed") == "managed":
                    yield path, entry

    def resource(self, path: tuple[str, ...], type_: str, name: str) -> dict[str, Any] | None:
        if self._resources is None:
            self._resources = {}
            for module_path, entry in self.resources():
                self._resources.setdefault((module_path, entry.get("type"), entry.get("name")), entry)
        return self._resources.get((path, type_, name))

    def resolve(self, reference: Any, path: tuple[str, ...], owner: dict[str, Any] | None, hops: int = 0) -> Found:
        """What a reference string written in module `path` points at; `owner` is the resource
        the expression belongs to (for `each` and `count`)."""
        if not isinstance(reference, str) or hops > MAX_HOPS:
            return Found(opaque=True)
        steps = parse_traversal(reference)
        if len(steps) < 2 or not isinstance(steps[0], str):
            return Found(opaque=steps[:1] not in (["path"], ["terraform"], ["self"]))
        root = steps[0]
        if root in ("data", "path", "terraform", "self"):
            return Found()  # outside the configuration, or the resource itself
        if root == "local":
            return Found(opaque=True)  # a plan does not record locals
        handler = {"each": self._meta, "count": self._meta, "var": self._variable, "module": self._output}.get(root)
        if handler is not None:
            return handler(steps, path, owner, hops)
        if not isinstance(steps[1], str) or self.resource(path, root, steps[1]) is None:
            return Found(opaque=True)  # not in this plan's configuration
        key = steps[2].value if len(steps) > 2 and isinstance(steps[2], Index) else None
        target = Target(_prefix(path) + f"{root}.{steps[1]}", key, paired=len(steps) > 2 and steps[2] is DYNAMIC,
                        via=_via(steps))
        return Found({target})

    def _meta(self, steps: list[Any], path: tuple[str, ...], owner: dict[str, Any] | None, hops: int) -> Found:
        """`each.*` and `count.index`: what the owner's `for_each` or `count` refers to, paired by key."""
        found = Found()
        for expression in ("for_each_expression", "count_expression"):
            value = owner.get(expression) if owner else None
            for inner in self._expression_refs(value, path, None, hops + 1):
                found.opaque = found.opaque or inner.opaque
                found.targets |= {replace(t, paired=t.key is None) for t in inner.targets}
        return found

    def _variable(self, steps: list[Any], path: tuple[str, ...], owner: dict[str, Any] | None, hops: int) -> Found:
        """`var.x`: the argument of the module call, in the parent module; a root variable is the user's."""
        if not path:
            return Found(opaque=True)  # set by the user: the plan's value is what counts
        call = self.calls.get(path, {})
        expressions = call.get("expressions") if isinstance(call, dict) else None
        argument = expressions.get(steps[1]) if isinstance(expressions, dict) else None
        found = Found()  # no argument: the variable's default, a constant
        for inner in self._expression_refs(argument, path[:-1], call, hops + 1):
            found.merge(inner)
        return found

    def _output(self, steps: list[Any], path: tuple[str, ...], owner: dict[str, Any] | None, hops: int) -> Found:
        """`module.m.out`: the output's expression, in module `m`."""
        child = path + (steps[1],)
        rest = [s for s in steps[2:] if isinstance(s, str) and s != SPLAT]  # past the module's key
        module = self.modules.get(child)
        outputs = module.get("outputs") if isinstance(module, dict) else None
        output = outputs.get(rest[0]) if isinstance(outputs, dict) and rest else None
        if not isinstance(output, dict):
            return Found(opaque=True)
        found = Found()
        for inner in self._expression_refs(output.get("expression"), child, None, hops + 1):
            found.merge(inner)
        return found

    def _expression_refs(self, expression: Any, path: tuple[str, ...], owner: dict[str, Any] | None,
                         hops: int) -> Iterator[Found]:
        if not isinstance(expression, dict):
            return
        references = expression.get("references")
        if not isinstance(references, list):
            return
        # `b[count.index]` is recorded as `b` and `count.index`: the key is the referring instance's
        indexed = any(isinstance(r, str) and r.startswith(("count.index", "each.")) for r in references)
        for reference in _most_specific(references):
            found = self.resolve(reference, path, owner, hops)
            if indexed and isinstance(reference, str) and not reference.startswith(("count.", "each.")):
                found.targets = {replace(t, paired=t.paired or t.key is None) for t in found.targets}
            yield found


def _most_specific(references: list[Any]) -> list[Any]:
    """Terraform lists `aws_s3_bucket.b[0].id`, `aws_s3_bucket.b[0]` and `aws_s3_bucket.b` for one
    traversal: keep the longest form of each resource (the one with a key, if any)."""
    kept: list[Any] = []
    texts = [r for r in references if isinstance(r, str)]
    for reference in references:
        if not isinstance(reference, str):
            kept.append(reference)
            continue
        if any(other != reference and other.startswith(reference) and other[len(reference)] in ".[" for other in texts):
            continue
        kept.append(reference)
    return kept


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _expressions(expressions: Any, prefix: AttributePath = (), depth: int = 0) -> Iterator[tuple[AttributePath, dict]]:
    """(attribute path, expression) of a resource's `expressions`, nested blocks included."""
    if not isinstance(expressions, dict) or depth > 100:
        return
    for name, value in expressions.items():
        if not isinstance(name, str) or (not prefix and name in _META):
            continue
        if isinstance(value, dict) and ("references" in value or "constant_value" in value):
            yield prefix + (name,), value
        elif isinstance(value, list):  # nested blocks
            for block in value:
                yield from _expressions(block, prefix + (name,), depth + 1)
        elif isinstance(value, dict):  # a single nested block (older formats)
            yield from _expressions(value, prefix + (name,), depth + 1)


def plan_references(data: dict[str, Any]) -> dict[str, References]:
    """The references of every managed resource of a plan's configuration, by configuration
    address (`module.m.aws_s3_bucket_versioning.v`). A plan without `configuration` has none."""
    config = _PlanConfig(data)
    result: dict[str, References] = {}
    for path, entry in config.resources():
        type_, name = entry.get("type"), entry.get("name")
        if not isinstance(type_, str) or not isinstance(name, str):
            continue
        references = result.setdefault(_prefix(path) + f"{type_}.{name}", References())
        expressions = entry.get("expressions")
        if isinstance(expressions, dict):
            references.written.update(k for k in expressions if isinstance(k, str) and k not in _META)
        for attribute, expression in _expressions(expressions):
            for found in config._expression_refs(expression, path, entry, 0):
                references.add(attribute, found)
    return result


# --- instances -------------------------------------------------------------------------------


def link_instances(addresses: Iterable[str], references: dict[str, References]) -> dict[str, ResourceLinks]:
    """The links of each resource instance (plan addresses), from the references of its
    configuration address."""
    if not references:  # a plan without configuration
        return {}
    instances = _Instances(list(addresses))
    result: dict[str, ResourceLinks] = {}
    for address in instances.addresses:
        found = references.get(config_address(address))
        if found is None:
            continue
        links: set[Link] = set()
        for attribute, targets in found.targets.items():
            for target in targets:
                candidates = instances.candidates(address, target)
                links.update(Link(attribute, candidate, certain=len(candidates) == 1, via=target.via)
                             for candidate in candidates)
        result[address] = replace(_links(links, found.opaque), written=frozenset(found.written))
    return result


class _Instances:
    """The resource instances of a plan, by configuration address and by instance key."""

    def __init__(self, addresses: list[str]):
        self.addresses = addresses
        self.by_config: dict[str, list[str]] = {}
        self.by_key: dict[tuple[str, Key], list[str]] = {}
        self._steps: dict[str, list[tuple[str, str]]] = {}
        for address in addresses:
            self.by_config.setdefault(config_address(address), []).append(address)
            self.by_key.setdefault((config_address(address), instance_key(address)), []).append(address)

    def steps(self, address: str) -> list[tuple[str, str]]:
        if address not in self._steps:
            self._steps[address] = module_steps(address)
        return self._steps[address]

    def candidates(self, address: str, target: Target) -> list[str]:
        """The instances a reference of instance `address` may point at."""
        own_modules, own_key = self.steps(address), instance_key(address)
        if target.key is not None:
            found = self.by_key.get((target.address, target.key), [])
        elif target.paired and own_key is not None:
            found = self.by_key.get((target.address, own_key)) or self.by_config.get(target.address, [])
        else:
            found = self.by_config.get(target.address, [])
        if own_modules or len(found) > 1:
            found = [c for c in found if _same_modules(own_modules, self.steps(c))]
        return [c for c in found if c != address]


def _same_modules(own: list[tuple[str, str]], other: list[tuple[str, str]]) -> bool:
    """Whether two addresses are in the same module instances, over the module path they share."""
    for (own_name, own_key), (name, key) in zip(own, other):
        if own_name != name:
            return True  # the paths part here: nothing more to compare
        if own_key != key:
            return False
    return True


def _links(links: set[Link], opaque: set[AttributePath]) -> ResourceLinks:
    """An attribute that points at resources of the scan is taken to point at them, even when
    part of its expression could not be followed (`local.create ? aws_s3_bucket.b[0].id : null`,
    where the local is a condition): only an attribute with no link at all stays opaque."""
    linked = {link.attribute for link in links}
    ordered = tuple(sorted(links, key=lambda link: (link.attribute, link.target)))
    return ResourceLinks(ordered, frozenset(opaque - linked))
