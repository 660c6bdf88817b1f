"""References in `.tf` files: the HCL half of terraform_refs (kept apart so that reading
references from a plan never loads the HCL parser).

`hcl_links(module)` gives every resource block's links within its module: every traversal
written in its expressions (`aws_s3_bucket.b.id`, `"${aws_s3_bucket.b.arn}/*"`,
`aws_s3_bucket.b[0]`, splats, `for` expressions, function arguments), followed through
`local.x`, `each.*` and `count.index`. `var.x` and `module.m.out` are not followed (given by
the caller, computed in another module): they make the attribute opaque. Names bound by `for`
expressions and `dynamic` block iterators are not resources. A heredoc is kept as text by
python-hcl2, so a heredoc with an interpolation is opaque. `hcl_exports(module)` gives the
resources referred to by `output` blocks and `module` arguments.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, Iterator

from lark import Tree

from validator.sources.terraform_expr import children, name_of
from validator.sources.terraform_refs import (  # noqa: F401
    _META,
    DYNAMIC,
    MAX_HOPS,
    OPAQUE,
    SPLAT,
    AttributePath,
    Found,
    Index,
    Link,
    References,
    ResourceLinks,
    Target,
    _links,
    _via,
)

_INTERPOLATION = re.compile(r"(?<!\$)\$\{|(?<!%)%\{")


class _HclWalker:
    """Finds the traversals of expressions in one `.tf` module."""

    def __init__(self, module: Any):
        self.module = module
        self.blocks = {(block.type, block.name) for block in module.resources}

    def block_references(self, block: Any, only: frozenset[str] | None = None) -> References:
        """The references of a block; with `only`, of those top-level attributes and blocks."""
        references = References()
        meta = {name: expression for name, expression in _attributes(block.body) if name in ("count", "for_each")}
        self._body(block.body, (), references, meta, top=True, only=only)
        return references

    def _body(self, body: Tree, prefix: AttributePath, references: References, meta: dict[str, Tree],
              top: bool = False, scope: frozenset[str] = frozenset(), only: frozenset[str] | None = None) -> None:
        for item in children(body):
            if item.data == "attribute":
                name = name_of(children(item)[0])
                if name is None or (top and (name in _META or (only is not None and name not in only))):
                    continue
                found = Found()
                for traversal in self._traversals(children(item)[-1], scope):
                    found.merge(self._resolve(traversal, meta, 0))
                references.add(prefix + (name,), found)
            elif item.data == "block":
                parts = children(item)
                kind, labels, inner = name_of(parts[0]), [name_of(p) for p in parts[1:-1]], parts[-1]
                if kind is None or (top and kind in _META):
                    continue
                if top and only is not None and (labels[0] if kind == "dynamic" and labels else kind) not in only:
                    continue
                if kind == "dynamic" and labels and labels[0]:
                    self._dynamic(labels[0], inner, prefix, references, meta, scope)
                else:
                    self._body(inner, prefix + (kind,), references, meta, scope=scope)

    def _dynamic(self, kind: str, body: Tree, prefix: AttributePath, references: References,
                 meta: dict[str, Tree], scope: frozenset[str]) -> None:
        iterator = kind
        for name, expression in _attributes(body):
            if name == "iterator":
                iterator = name_of(expression) or kind
        for name, expression in _attributes(body):
            if name == "for_each":
                found = Found()
                for traversal in self._traversals(expression, scope):
                    found.merge(self._resolve(traversal, meta, 0))
                # what the blocks are built from: their attributes may use any of it
                if found.targets or found.opaque:
                    references.add(prefix + (kind,), found)
        for item in children(body):
            if item.data == "block" and name_of(children(item)[0]) == "content":
                self._body(children(item)[-1], prefix + (kind,), references, meta, scope=scope | {iterator})

    def _traversals(self, node: Any, scope: frozenset[str]) -> Iterator[list[Any]]:
        """Every traversal in an expression (`aws_s3_bucket.b[0].id` as its steps), skipping
        names bound by `for` expressions and dynamic blocks."""
        if not isinstance(node, Tree):
            return
        steps = _chain(node)
        if steps is not None:
            yield from self._chain_traversals(steps, scope)
        elif node.data in ("heredoc_template", "heredoc_template_trim"):
            if _INTERPOLATION.search(str(node.children[0])):
                yield [OPAQUE]  # python-hcl2 keeps a heredoc as text: its references are not parsed
        elif node.data in ("for_tuple_expr", "for_object_expr"):
            yield from self._for_traversals(node, scope)
        else:
            for child in node.children:
                if isinstance(child, Tree):
                    yield from self._traversals(child, scope)

    def _chain_traversals(self, steps: list[Any], scope: frozenset[str]) -> Iterator[list[Any]]:
        if steps and steps[0] not in scope:
            yield [s if not isinstance(s, Tree) else DYNAMIC for s in steps]
        for step in steps:  # index expressions inside the chain
            if isinstance(step, Tree):
                yield from self._traversals(step, scope)

    def _for_traversals(self, node: Tree, scope: frozenset[str]) -> Iterator[list[Any]]:
        """A `for` expression: its collection in the outer scope, the rest with its names bound."""
        intro = next((c for c in children(node) if c.data == "for_intro"), None)
        bound = scope
        if intro is not None:
            parts = children(intro)
            bound = scope | {name for name in (name_of(p) for p in parts if p.data == "identifier") if name}
            for part in parts:
                if part.data != "identifier":
                    yield from self._traversals(part, scope)
        for part in children(node):
            if part is not intro:
                yield from self._traversals(part, bound)

    def _resolve(self, steps: list[Any], meta: dict[str, Tree], hops: int) -> Found:
        if steps[:1] == [OPAQUE] or hops > MAX_HOPS:
            return Found(opaque=True)
        if len(steps) < 2 or not isinstance(steps[1], str) or steps[0] in ("data", "path", "terraform", "self"):
            return Found()  # not a reference to a resource, or one outside the configuration
        root = steps[0]
        if root in ("each", "count"):
            return self._meta(meta, hops)
        if root == "local":
            return self._local(steps[1], meta, hops)
        if root in ("var", "module") or (root, steps[1]) not in self.blocks:
            return Found(opaque=True)  # given by the caller, computed in another module, or absent
        key = steps[2].value if len(steps) > 2 and isinstance(steps[2], Index) else None
        return Found({Target(f"{root}.{steps[1]}", key, paired=len(steps) > 2 and steps[2] is DYNAMIC,
                             via=_via(steps))})

    def _meta(self, meta: dict[str, Tree], hops: int) -> Found:
        """`each.*` and `count.index`: what the block's `for_each` or `count` refers to, paired by key."""
        found = Found()
        for name in ("for_each", "count"):
            for traversal in self._traversals(meta[name], frozenset()) if name in meta else ():
                inner = self._resolve(traversal, {}, hops + 1)
                found.opaque = found.opaque or inner.opaque
                found.targets |= {replace(t, paired=t.key is None) for t in inner.targets}
        return found

    def _local(self, name: str, meta: dict[str, Tree], hops: int) -> Found:
        expression = self.module._locals.get(name)
        if expression is None:
            return Found(opaque=True)
        found = Found()
        for traversal in self._traversals(expression, frozenset()):
            found.merge(self._resolve(traversal, meta, hops + 1))
        return found


def _attributes(body: Tree) -> Iterator[tuple[str, Tree]]:
    for item in children(body):
        if item.data == "attribute":
            name = name_of(children(item)[0])
            if name is not None:
                yield name, children(item)[-1]


def _chain(node: Tree) -> list[Any] | None:
    """The steps of a traversal expression, or None when `node` is not one. A literal index
    is its value; any other index is its expression tree (walked for references)."""
    if node.data == "expr_term":
        inner = children(node)
        if len(inner) == 1 and inner[0].data == "identifier":
            return [str(inner[0].children[0])]
        if len(inner) == 1 and inner[0].data in ("get_attr_expr_term", "index_expr_term",
                                                 "attr_splat_expr_term", "full_splat_expr_term"):
            return _chain(inner[0])
        return None
    if node.data == "get_attr_expr_term":
        base, attribute = children(node)[:2]
        steps = _chain(base)
        name = name_of(children(attribute)[0]) if children(attribute) else None
        return None if steps is None or name is None else steps + [name]
    if node.data == "index_expr_term":
        base, index = children(node)[:2]
        steps = _chain(base)
        if steps is None:
            return None
        if index.data == "short_index":
            return steps + [Index(int(str(index.children[-1])))]
        expression = children(index)[0] if children(index) else None
        literal = _literal(expression) if expression is not None else None
        return steps + [Index(literal) if literal is not None else (expression if expression is not None else DYNAMIC)]
    if node.data in ("attr_splat_expr_term", "full_splat_expr_term"):
        steps = _chain(children(node)[0])
        return None if steps is None else steps + [SPLAT]
    return None


def _literal(node: Tree) -> int | str | None:
    while node.data == "expr_term" and len(children(node)) == 1:
        node = children(node)[0]
    if node.data == "int_lit":
        return int(str(node.children[0]))
    if node.data == "string":
        return name_of(node)
    return None


Wanted = dict[str, frozenset[str]]  # resource type -> the top-level attributes to read


def hcl_references(module: Any, wanted: Wanted | None = None) -> dict[str, References]:
    """The references of every resource block of a `.tf` module, by address (`aws_s3_bucket.b`).
    With `wanted`, only of those types and attributes (the others get none): what relations read."""
    walker = _HclWalker(module)
    result: dict[str, References] = {}
    for block in module.resources:
        if block.address in result:
            continue
        if wanted is None:
            result[block.address] = walker.block_references(block)
        elif block.type in wanted:
            result[block.address] = walker.block_references(block, wanted[block.type])
        else:
            result[block.address] = References()
    return result


def hcl_links(module: Any, wanted: Wanted | None = None) -> dict[str, ResourceLinks]:
    """The links of every resource block of a `.tf` module (see hcl_references for `wanted`). A
    block is one resource whatever its `count` or `for_each`, so every reference to a block of
    the module is certain."""
    result = {}
    for address, references in hcl_references(module, wanted).items():
        links = {Link(attribute, target.address, via=target.via) for attribute, targets in references.targets.items()
                 for target in targets if target.address != address}
        result[address] = _links(links, references.opaque)
    return result


def hcl_exports(module: Any) -> set[str]:
    """The resources of a `.tf` module that leave it: referred to by an `output` block (the
    module's caller, or another configuration, may complete them) or by an argument of a
    `module` block (the called module may). A relation missing in the module may exist there."""
    walker = _HclWalker(module)
    exported: set[str] = set()
    for source in module.files:
        if source.tree is None:
            continue
        for block in children(source.tree.children[0]):
            if block.data != "block":
                continue
            parts = children(block)
            kind = name_of(parts[0])
            if kind not in ("output", "module"):
                continue
            for name, expression in _attributes(parts[-1]):
                if kind == "module" and name in ("source", "version", "providers", "depends_on"):
                    continue
                for traversal in walker._traversals(expression, frozenset()):
                    exported |= {target.address for target in walker._resolve(traversal, {}, 0).targets}
    return exported
