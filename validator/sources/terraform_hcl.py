"""Terraform `.tf` files: every `resource` block becomes a Resource that knows its lines.

The `.tf` files of one directory are one module: `var.x` resolves to the value set in
`terraform.tfvars` or `*.auto.tfvars` of that directory, else to the variable's default,
and `local.x` to the module's locals. What cannot be known before `terraform plan` is
unknown to policies (see terraform_expr and terraform_values). Nested blocks become lists
of objects, as in plan JSON; `dynamic` blocks add an unknown item. Files are parsed with
python-hcl2's grammar (a parser only: nothing in a file is executed).

`# tdv:skip=POLICY-ID reason` comments inside a resource block, or in the comment lines
directly above it, become the resource's suppressions (see validator.filters.suppressions);
a plan resource mapped to its block gets the same ones.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterator

from hcl2.parser import parser as hcl2_parser
from lark import Tree
from lark.exceptions import (
    LarkError,
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedToken,
)

from validator.model import FieldPath, InputProblem, Position, Resource, SkipRule
from validator.skip_markers import COMMENT_MARKER, SkipComments
from validator.sources import files, terraform_hcl_refs, terraform_refs, terraform_scan
from validator.sources.context import SourceContext
from validator.sources.terraform_expr import (
    Evaluator,
    children,
    literal_positions,
    name_of,
    position,
)
from validator.sources.terraform_scan import BudgetError
from validator.sources.terraform_values import (
    SENSITIVE,
    UNKNOWN,
    NestingError,
    NumberError,
    nearest,
    settle,
)

log = logging.getLogger(__name__)

SUFFIXES = frozenset({".tf"})
TFVARS = "terraform.tfvars"
AUTO_TFVARS = ".auto.tfvars"
META_ARGUMENTS = frozenset({"count", "for_each", "provider", "depends_on"})
META_BLOCKS = frozenset({"lifecycle", "provisioner", "connection"})
_TOKENS = {
    "$END": "end of file", "NL_OR_COMMENT": "end of line", "STRING_CHARS": "text", "NAME": "name",
    "INT_LITERAL": "number", "FLOAT_LITERAL": "number", "LBRACE": "'{'", "RBRACE": "'}'", "LSQB": "'['",
    "RSQB": "']'", "LPAR": "'('", "RPAR": "')'", "EQ": "'='", "COLON": "':'", "COMMA": "','", "DOT": "'.'",
    "DBLQUOTE": "'\"'", "INTERP_START": "'${'",
}


def parse_text(text: str, display: str) -> Tree | InputProblem:
    """The parse tree of one file, or a one-line error that quotes nothing from the file.

    The file is first read by terraform_scan: over a budget, it is not parsed; its heredoc
    closing lines are read as Terraform reads them; and a top-level block it declares that
    is missing from the tree is an error, never a silent loss.
    """
    try:
        layout = terraform_scan.scan(text)
        tree = _parse(layout.text)
    except BudgetError as error:
        return InputProblem(display, f"not scanned: {error.message}", error.line)
    except UnexpectedToken as error:
        what = _TOKENS.get(error.token.type, error.token.type.lower().replace("_", " "))
        return _syntax_error(display, what, error)
    except UnexpectedCharacters as error:
        return _syntax_error(display, "character", error)
    except UnexpectedEOF as error:
        return _syntax_error(display, "end of file", error)
    except LarkError as error:
        return InputProblem(display, f"invalid HCL ({type(error).__name__})")
    except (RecursionError, MemoryError, SystemError):
        return InputProblem(display, "invalid HCL: nested too deeply or too large")
    lost = terraform_scan.lost_blocks(layout, _top_level_blocks(tree))
    if lost:
        line, kind = lost[0]
        return InputProblem(display, f"the {kind} block on this line was not read by the HCL parser"
                          f" ({len(lost)} block(s) lost); the file is not scanned", line)
    return tree


def _parse(text: str) -> Tree:
    """python-hcl2's parse, token by token, within the token and time budgets."""
    started = time.monotonic()
    session = hcl2_parser().parse_interactive(text + "\n")  # the newline: as hcl2.parses_to_tree
    token = None
    for count, token in enumerate(session.iter_parse(), 1):
        if count % 4096 == 0:
            if count > terraform_scan.MAX_TOKENS:
                raise BudgetError(f"more than {terraform_scan.MAX_TOKENS:,} tokens", token.line)
            if time.monotonic() - started > terraform_scan.MAX_PARSE_SECONDS:
                raise BudgetError(f"parsing took more than {terraform_scan.MAX_PARSE_SECONDS:.0f} s", token.line)
    return session.feed_eof(token)  # the end of file is placed after the last token


def _top_level_blocks(tree: Tree) -> dict[int, str]:
    found: dict[int, str] = {}
    for block in _blocks(tree.children[0]):
        kind = _block_parts(block)[0]
        if kind is not None:
            found.setdefault(position(block).line, kind)
    return found


def _syntax_error(display: str, what: str, error: Any) -> InputProblem:
    line = error.line if isinstance(error.line, int) and error.line > 0 else None
    column = f" (column {error.column})" if line and isinstance(error.column, int) and error.column > 0 else ""
    return InputProblem(display, f"invalid HCL: unexpected {what}{column}", line)


@dataclass(frozen=True)
class ResourceBlock:
    type: str
    name: str
    display: str  # the file it is written in
    position: Position
    body: Tree
    ordinal: int  # its rank among the file's resource blocks
    suppressions: tuple[SkipRule, ...] = ()  # its `tdv:skip=` comments

    @property
    def address(self) -> str:
        return f"{self.type}.{self.name}"


@dataclass
class SourceFile:
    display: str
    tree: Tree | None
    error: InputProblem | None = None
    skips: SkipComments | None = None  # None when the file holds no `tdv:skip=` marker
    problems: list[InputProblem] = field(default_factory=list)  # blocks Terraform would refuse

    @property
    def errors(self) -> list[InputProblem]:
        return ([self.error] if self.error else []) + self.problems


def source_file(display: str, text: str | InputProblem) -> SourceFile:
    """A `.tf` file parsed, with its `tdv:skip=` comments; a file that cannot be read or
    parsed keeps its error."""
    if isinstance(text, InputProblem):
        return SourceFile(display, None, text)
    parsed = parse_text(text, display)
    if isinstance(parsed, InputProblem):
        return SourceFile(display, None, parsed)
    skips = SkipComments(text, display) if COMMENT_MARKER in text else None
    return SourceFile(display, parsed, skips=skips)


class Module:
    """The `.tf` files of one directory, with what `var.x` and `local.x` resolve to."""

    def __init__(self, sources: list[SourceFile], tfvars: dict[str, Any] | None = None):
        self.files = sources
        self.resources: list[ResourceBlock] = []
        self._variables: dict[str, Tree] = {}
        self._locals: dict[str, Tree] = {}
        self._tfvars = tfvars or {}
        self._values: dict[tuple[str, str], Any] = {}
        self._by_address: dict[tuple[str, str], ResourceBlock] | None = None
        self._links: dict[str, terraform_refs.ResourceLinks] | None = None
        self.evaluator = Evaluator(self._lookup)
        for source in sources:
            if source.tree is not None:
                self._index(source, source.tree)

    def _index(self, source: SourceFile, tree: Tree) -> None:
        ordinal = 0
        for block in _blocks(tree.children[0]):
            kind, labels, body = _block_parts(block)
            if kind in ("resource", "data") and (len(labels) != 2 or None in labels or "" in labels):
                # Terraform refuses it: never drop it in silence
                source.problems.append(InputProblem(
                    source.display, f"a {kind} block needs a type and a name (two labels)", position(block).line))
            elif kind == "resource":
                assert labels[0] and labels[1]  # checked above: two non-empty labels
                start = position(block)
                skips = source.skips.for_block(start.line, _end_line(block, start.line)) if source.skips else ()
                self.resources.append(ResourceBlock(labels[0], labels[1], source.display, start, body, ordinal, skips))
                ordinal += 1
            elif kind == "variable" and len(labels) == 1 and labels[0]:
                self._variables.setdefault(labels[0], body)
            elif kind == "locals":
                for name, expression, _ in _attributes(body):
                    self._locals.setdefault(name, expression)

    def find(self, type_: str, name: str) -> ResourceBlock | None:
        if self._by_address is None:
            self._by_address = {}
            for block in self.resources:
                self._by_address.setdefault((block.type, block.name), block)
        return self._by_address.get((type_, name))

    def _lookup(self, kind: str, name: str) -> Any:
        key = (kind, name)
        if key in self._values:
            return self._values[key]
        self._values[key] = UNKNOWN  # a reference cycle stays unknown
        try:
            self._values[key] = self._variable(name) if kind == "var" else self._local(name)
        except BaseException:
            del self._values[key]  # each resource that uses it gets the error, none a silent unknown
            raise
        return self._values[key]

    def _local(self, name: str) -> Any:
        expression = self._locals.get(name)
        return UNKNOWN if expression is None else self.evaluator.value(expression)

    def _variable(self, name: str) -> Any:
        body = self._variables.get(name)
        if body is None:
            return UNKNOWN
        settings = {attribute: expression for attribute, expression, _ in _attributes(body)}
        if "sensitive" in settings and self.evaluator.value(settings["sensitive"]) is True:
            return SENSITIVE
        if name in self._tfvars:
            if isinstance(self._tfvars[name], (NumberError, NestingError)):
                raise self._tfvars[name]
            return self._tfvars[name]
        return self.evaluator.value(settings["default"]) if "default" in settings else UNKNOWN

    def layout(self, block: ResourceBlock) -> dict[FieldPath, Position]:
        """Where each attribute, nested block and literal item of a resource block is written."""
        positions: dict[FieldPath, Position] = {}
        try:
            self._body(block.body, (), positions, top=True)
        except (RecursionError, NumberError):
            pass  # the positions found so far: the rest fall back to the nearest one found
        return positions

    def build(self, block: ResourceBlock) -> Resource | InputProblem | None:
        """The Resource of a block; None when a literal `count = 0` or empty `for_each` removes it."""
        try:
            if not self._exists(block):
                return None
            positions: dict[FieldPath, Position] = {}
            document, unknown = settle(self._body(block.body, (), positions, top=True))
        except (RecursionError, NestingError):
            return InputProblem(block.display, f"{block.address}: values are nested too deeply", block.position.line)
        except NumberError as error:
            return InputProblem(block.display, f"{block.address}: {error.message}", block.position.line)

        def locator(path: FieldPath) -> Position:
            return nearest(positions, path, block.position)

        return Resource(
            kind=block.type, api_version="", name=block.address, namespace=None, document=document,
            path=block.display, doc_index=block.ordinal, locator=locator, identity=block.address,
            unknown_paths=unknown, suppressions=block.suppressions, tf_links=self.links(block),
        )

    def links(self, block: ResourceBlock) -> terraform_refs.ResourceLinks:
        """What a resource block refers to within the module (see terraform_refs), once per module."""
        if self._links is None:
            complete = not any(source.errors for source in self.files)
            try:
                found = terraform_hcl_refs.hcl_links(self, _pointers()[0])
                exported = terraform_hcl_refs.hcl_exports(self)
            except RecursionError:  # expressions too deep to follow: relations are not known
                found, exported, complete = {}, set(), False
            # the files whose blocks relations read: a scan missing one of them misses relations
            files = frozenset((b.display, b.type) for b in self.resources if b.type in _pointers()[1])
            self._links = {address: replace(links, exported=address in exported, complete=complete, files=files)
                           for address, links in found.items()}
        return self._links.get(block.address) or terraform_refs.ResourceLinks(complete=False)

    def _exists(self, block: ResourceBlock) -> bool:
        for name, expression, _ in _attributes(block.body):
            if name == "count" and _is_zero(self.evaluator.value(expression)):
                return False
            if name == "for_each" and self.evaluator.value(expression) in ([], {}):
                return False
        return True

    def _body(self, body: Tree, prefix: FieldPath, positions: dict[FieldPath, Position], top: bool = False) -> dict:
        value: dict[str, Any] = {}
        for item in children(body):
            if item.data == "attribute":
                name, expression = name_of(children(item)[0]), children(item)[-1]
                if name is None or (top and name in META_ARGUMENTS):
                    continue
                positions[prefix + (name,)] = position(item)
                value[name] = self.evaluator.value(expression)
                positions.update(literal_positions(expression, self.evaluator, prefix + (name,)))
            elif item.data == "block":
                kind, labels, inner = _block_parts(item)
                if kind is None or (top and kind in META_BLOCKS):
                    continue
                dynamic = kind == "dynamic"
                kind = labels[0] if dynamic and labels else kind
                if kind is None:
                    continue
                items = value.setdefault(kind, [])
                if not isinstance(items, list):
                    continue  # an attribute and a block of the same name: Terraform rejects it
                known = sum(1 for i in items if i is not UNKNOWN)
                positions.setdefault(prefix + (kind,), position(item))
                if dynamic:
                    items.append(UNKNOWN)
                else:
                    positions[prefix + (kind, known)] = position(item)
                    items.append(self._body(inner, prefix + (kind, known), positions))
        return value


def _pointers() -> tuple[dict[str, frozenset[str]], frozenset[str]]:
    """The attributes whose references relations read, and the resource types relations read
    (validator.sources.terraform_relations)."""
    from validator.sources.terraform_relations import entry_attributes, pointer_attributes

    global _POINTERS
    if _POINTERS is None:
        _POINTERS = pointer_attributes(), frozenset(entry_attributes())
    return _POINTERS


_POINTERS: tuple[dict[str, frozenset[str]], frozenset[str]] | None = None


def _end_line(block: Tree, start: int) -> int:
    """The line of a block's closing brace (python-hcl2 records it in the tree's meta)."""
    end = getattr(block.meta, "end_line", None)
    return end if isinstance(end, int) and end >= start else start


def _is_zero(value: Any) -> bool:
    return type(value) in (int, float) and value == 0


def _blocks(body: Tree) -> Iterator[Tree]:
    return (item for item in children(body) if item.data == "block")


def _block_parts(block: Tree) -> tuple[str | None, list[str | None], Tree]:
    parts = children(block)
    return name_of(parts[0]), [name_of(label) for label in parts[1:-1]], parts[-1]


def _attributes(body: Tree) -> Iterator[tuple[str, Tree, Tree]]:
    for item in children(body):
        if item.data == "attribute":
            name = name_of(children(item)[0])
            if name is not None:
                yield name, children(item)[-1], item


@dataclass
class ModuleCache:
    """Modules of one scan, parsed once: shared by `.tf` scanning and plan source mapping."""

    context: SourceContext
    modules: dict[str, Module] = field(default_factory=dict)
    claimed: set[str] = field(default_factory=set)  # directories a plan in this scan already covers

    def get(self, directory: Path, texts: dict[str, str] | None = None) -> Module:
        """The module in `directory`; `texts` gives files already read, by absolute path."""
        key = os.path.realpath(directory)
        if key not in self.modules:
            self.modules[key] = self._load(directory, texts or {})
        return self.modules[key]

    def _load(self, directory: Path, texts: dict[str, str]) -> Module:
        sources = []
        tfvars: dict[str, Any] = {}
        for path in _module_files(directory, texts):
            display = files.display_path(path, self.context.root)
            text: str | InputProblem | None = texts.get(os.path.abspath(path))
            if text is None:
                text = files.read_text(files.InputFile(path, display), self.context.max_bytes)
            if path.suffix == ".tf":
                sources.append(source_file(display, text))
                continue
            parsed = text if isinstance(text, InputProblem) else parse_text(text, display)
            if isinstance(parsed, Tree):
                tfvars.update(_tfvars(parsed))
            else:
                log.debug("%s: not used: %s", display, parsed.message)
        return Module(sources, tfvars)


def _module_files(directory: Path, texts: dict[str, str]) -> list[Path]:
    """The `.tf` files of a directory (and its auto-loaded tfvars), auto.tfvars last."""
    found = {os.path.abspath(p) for p in texts}
    try:
        for entry in os.scandir(directory):
            if not entry.name.startswith(".") and entry.is_file(follow_symlinks=False) and (
                    entry.name.endswith(".tf") or entry.name == TFVARS or entry.name.endswith(AUTO_TFVARS)):
                found.add(os.path.abspath(entry.path))
    except OSError as error:
        log.debug("%s: cannot list directory: %s", directory, error.strerror)
    return sorted((Path(p) for p in found), key=lambda p: (p.name != TFVARS and p.suffix == ".tfvars", p.name))


def _tfvars(tree: Tree) -> dict[str, Any]:
    """The values set in a tfvars file; a value that cannot be held is kept as its error, for
    the resources that use it."""
    module = Module([])
    values: dict[str, Any] = {}
    for name, expression, _ in _attributes(tree.children[0]):
        try:
            values[name] = module.evaluator.value(expression)
        except NumberError as error:
            values[name] = error
        except RecursionError:
            values[name] = NestingError()
    return values


def modules(context: SourceContext) -> ModuleCache:
    return context.caches.setdefault("terraform-modules", ModuleCache(context))


def _on_disk(item: files.InputFile) -> Path:
    assert item.path is not None  # `.tf` files are files on disk (standard input has no suffix)
    return item.path


def scan_directory(sources: list[tuple[files.InputFile, str]],
                   context: SourceContext) -> Iterator[Resource | InputProblem]:
    """Resources of the `.tf` files given (all in one directory), resolved within their module."""
    directory = _on_disk(sources[0][0]).parent
    cache = modules(context)
    module = cache.get(directory, {os.path.abspath(_on_disk(item)): text for item, text in sources})
    given = {item.display for item, _ in sources}
    for source in module.files:
        if source.display in given:
            yield from source.errors
    if os.path.realpath(directory) in cache.claimed:
        log.debug("%s: .tf files not scanned on their own: a plan in this scan covers them", directory)
        return
    for block in module.resources:
        if block.display in given:
            built = module.build(block)
            if built is not None:
                yield built


def scan_texts(sources: list[tuple[str, str]]) -> Iterator[Resource | InputProblem]:
    """Resources of `.tf` texts that form one module on their own (e.g. policy fixtures)."""
    module = Module([source_file(display, text) for display, text in sources])
    for source in module.files:
        yield from source.errors
    for block in module.resources:
        built = module.build(block)
        if built is not None:
            yield built
