"""Minimal edits of YAML manifests: set a field or add to a list, touching nothing else.

The file is never re-emitted. Its node tree (composed by libyaml, or by PyYAML's Python
composer for input that could nest too deeply for C; both give character offsets) tells
where each value is written, and an edit is a splice:
a scalar replaced in place, `key: value` lines inserted after the last line of a block
mapping at its indentation, `, key: value` added inside a flow mapping. New nested
mappings and lists follow the file's own indentation (see `Style`). Comments, quoting,
key order, document separators and line breaks are kept as they are.

A field inside a node that aliases make appear in several places, or a mapping with a
merge key (`<<`), is refused: editing it would change other places too.

A file is composed once (see `_parse`; SARIF fixes come one finding at a time), and the
first edit of a document uses its nodes from there; a document is composed again only
after it has changed.
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterator, TypeGuard

import yaml
from yaml.nodes import CollectionNode, MappingNode, Node, ScalarNode, SequenceNode

from validator.fix.plan import Assignment, Outcome
from validator.fix.textedit import Refused, Splice, apply_splices, insert_lines, line_end, line_start, newline_of
from validator.model import Position, format_path
from validator.sources.yaml_loader import _NodeReader  # libyaml's composer, with tag resolution cached

_NULL = "tag:yaml.org,2002:null"
_MERGE = "tag:yaml.org,2002:merge"
_PLAIN = re.compile(r"^[A-Za-z0-9_/][A-Za-z0-9_./-]*$")
_AMBIGUOUS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"}
_NUMBER = re.compile(r"^[-+]?(0[xob]|[0-9._]+([eE][-+]?[0-9]+)?$)")
_ALIAS_VALUE = re.compile(r"[ \t]*:[ \t]*\*[^\s,\[\]{}]+")  # `: *name` after a key
_DEEP_LINE = re.compile(r"[\r\n][ \t?:-]{300}")  # see yaml_loader._native_is_safe


def _compose(text: str) -> tuple[list[Node], set[int]]:
    """The root nodes, and the ids of the nodes that appear more than once (through aliases)."""
    deep = text.count("[") + text.count("{") > 200 or _DEEP_LINE.search("\n" + text)  # the first line too
    composer = yaml.SafeLoader(text) if deep else _NodeReader(text)
    try:
        roots: list[Node] = []
        while composer.check_node():
            node = composer.get_node()
            if node is not None:  # (check_node said there is one)
                roots.append(node)
    except yaml.YAMLError as error:
        raise Refused(f"the file is no longer valid YAML ({type(error).__name__})") from None
    except RecursionError:
        raise Refused("the file is nested too deeply") from None
    finally:
        composer.dispose()
    shared: set[int] = set()
    if "&" in text:  # else there is no anchor, so no alias
        for _ in _walk(roots, shared):
            pass
    return roots, shared


@dataclass(frozen=True)
class Style:
    """How the file indents what tdv adds."""

    mapping: int = 2  # a nested mapping's keys, right of its parent key
    sequence: int = 2  # a list's dashes, right of its parent key (0: `key:` then `- item` below it)
    json: bool = False  # a JSON file: new entries in JSON syntax


def detect_style(roots: list[Node], json_file: bool = False) -> Style:
    """The indentation most used in the file, or two spaces where it shows none."""
    mappings: Counter[int] = Counter()
    sequences: Counter[int] = Counter()
    # Each mapping and list once, in the order `_walk` gives them (it decides between equal
    # counts); scalars are not pushed.
    stack: list[CollectionNode] = [node for node in roots if isinstance(node, CollectionNode)]
    seen = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, SequenceNode):
            stack.extend(item for item in node.value if isinstance(item, CollectionNode))
            continue
        for key, value in node.value:
            if not isinstance(key, ScalarNode):
                stack.append(key)
            if isinstance(value, ScalarNode):
                continue
            stack.append(value)
            if not node.flow_style and not value.flow_style and value.value:
                if isinstance(value, MappingNode):
                    mappings[value.value[0][0].start_mark.column - key.start_mark.column] += 1
                else:
                    sequences[value.start_mark.column - key.start_mark.column] += 1
    mapping = next((n for n, _ in mappings.most_common() if n > 0), 2)
    sequence = next((n for n, _ in sequences.most_common() if n >= 0), 2)
    return Style(mapping, sequence, json_file)


def _walk(nodes: list[Node], repeated: set[int] | None = None) -> Iterator[Node]:
    """Every node once; `repeated` collects the ids of nodes reached again (through aliases)."""
    stack, seen = list(nodes), set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            if repeated is not None:
                repeated.add(id(node))
            continue
        seen.add(id(node))
        yield node
        if isinstance(node, MappingNode):
            stack.extend(n for pair in node.value for n in pair)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)


@dataclass
class Target:
    """One resource of the file: where its object starts (as the scan located it) and the
    assignments to make in it."""

    start: Position
    assignments: list[Assignment]


def edit(text: str, targets: list[Target], json_file: bool = False,
         shared: bool = False) -> tuple[str, list[Outcome]]:
    """Apply the assignments of every target, document by document from the end of the
    file, so that the positions of the documents still to edit do not move. With `shared`,
    a node that aliases make appear in several places is edited where it is anchored (the
    caller checks that every place wants that edit); else such an edit is refused."""
    outcomes: list[Outcome] = []
    try:
        parsed = _parse(text, json_file)
    except Refused as error:
        return text, [Outcome(a, False, str(error)) for t in targets for a in t.assignments]
    newline = newline_of(text)
    by_document: dict[int, list[tuple[Node, Target]]] = {}
    for target in targets:
        found = parsed.objects.get((target.start.line - 1, target.start.column - 1))
        if found is None:
            outcomes += [Outcome(a, False, "the object is not where the scan found it") for a in target.assignments]
            continue
        by_document.setdefault(found[0], []).append((found[1], target))
    for number in sorted(by_document, reverse=True):
        root = parsed.roots[number]
        start, end = line_start(text, root.start_mark.index), root.end_mark.index
        piece = text[start:end]
        unchanged = parsed.reusable  # the file's nodes still describe the piece
        for node, target in sorted(by_document[number], key=lambda item: -item[0].start_mark.index):
            for assignment in target.assignments:
                composed = _Composed(node, parsed.shared, start) if unchanged else None
                try:
                    piece, changed = _assign(piece, node.start_mark.index - start, assignment, style=parsed.style,
                                             newline=newline, composed=composed, shared=shared)
                except Refused as error:
                    outcomes.append(Outcome(assignment, False, str(error)))
                else:
                    outcomes.append(Outcome(assignment, changed))
                    unchanged = unchanged and not changed
        text = text[:start] + piece + text[end:]
    return text, outcomes


@dataclass(frozen=True)
class _File:
    """A composed file. Its nodes are never changed."""

    roots: list[Node]
    shared: set[int]  # ids of the nodes that appear more than once (through aliases)
    style: Style
    objects: dict[tuple[int, int], tuple[int, Node]]  # (line, column) from 0 -> (document number, object)
    reusable: bool  # a document's text composes alone to its nodes here (no directive may apply)


@dataclass(frozen=True)
class _Composed:
    """The object to edit, composed with the whole file (its document's text starts `base`
    characters into the file) or with that text alone (`base` 0)."""

    node: Node
    shared: set[int]  # ids of the nodes that appear more than once
    base: int


@functools.lru_cache(maxsize=4)
def _parse(text: str, json_file: bool) -> _File:
    """The documents of a file, its style, and where its objects start. An object is a
    document's root or an item of a `*List` document. Kept for the next finding of the
    same file (SARIF fixes come one finding at a time)."""
    roots, shared = _compose(text)
    objects: dict[tuple[int, int], tuple[int, Node]] = {}
    for number, root in enumerate(roots):
        for node in (root, *_list_items(root)):
            objects.setdefault((node.start_mark.line, node.start_mark.column), (number, node))
    directives = text.startswith("%") or "\n%" in text or "\r%" in text  # %YAML or %TAG lines, perhaps
    return _File(roots, shared, detect_style(roots, json_file), objects, not directives)


@functools.lru_cache(maxsize=4)  # checked once per finding for SARIF
def objects(text: str, json_file: bool = False) -> dict[Position, tuple[int, int | None]]:
    """Where each object of a file starts (as the scan locates it): its document number, and
    its index in the document's `items` when it is an item of a `*List` document."""
    parsed = _parse(text, json_file)
    found: dict[Position, tuple[int, int | None]] = {}
    for number, root in enumerate(parsed.roots):
        found.setdefault(Position(root.start_mark.line + 1, root.start_mark.column + 1), (number, None))
        for index, node in enumerate(_list_items(root)):
            found.setdefault(Position(node.start_mark.line + 1, node.start_mark.column + 1), (number, index))
    return found


@functools.lru_cache(maxsize=4)
def document_spans(text: str, json_file: bool = False) -> tuple[tuple[int, int], ...] | None:
    """Where each document's text is (from the start of its root's first line to the end of
    its root), as the editors change it; None when a directive may apply to documents."""
    parsed = _parse(text, json_file)
    if not parsed.reusable:
        return None
    return tuple((line_start(text, root.start_mark.index), root.end_mark.index) for root in parsed.roots)


def _list_items(root: Node) -> list[Node]:
    if isinstance(root, MappingNode):
        for key, value in root.value:
            if isinstance(key, ScalarNode) and key.value == "items" and isinstance(value, SequenceNode):
                return value.value
    return []


def _assign(piece: str, offset: int, assignment: Assignment, *, style: Style, newline: str,
            composed: _Composed | None = None, shared: bool = False) -> tuple[str, bool]:
    """Make one assignment in the object at `offset` of a document's text, composing the
    text unless the object is given `composed`."""
    if composed is None:
        roots, repeated = _compose(piece)
        target = next((node for root in roots for node in (root, *_list_items(root))
                       if node.start_mark.index == offset), None)
        if target is None:
            raise Refused("the object is not where the scan found it")
        composed = _Composed(target, repeated, 0)
    editor = _Editor(piece, composed.shared, style, newline, composed.base, edit_shared=shared)
    splices = editor.assign(composed.node, assignment)
    return (apply_splices(piece, splices), True) if splices else (piece, False)


class _Editor:
    """Computes the splices of one assignment in one composed document. The nodes' offsets
    are `base` more than those in `text` (nodes of the whole file, text of one document)."""

    def __init__(self, text: str, shared: set[int], style: Style, newline: str, base: int = 0,
                 edit_shared: bool = False):
        self.text, self.shared, self.style, self.newline, self.base = text, shared, style, newline, base
        self.edit_shared = edit_shared

    def _start(self, node: Node) -> int:
        return node.start_mark.index - self.base

    def _end(self, node: Node) -> int:
        return node.end_mark.index - self.base

    def assign(self, node: Node, assignment: Assignment) -> list[Splice]:
        path = assignment.path
        for index, segment in enumerate(path):
            self._check_shared(node, path[:index])
            rest = path[index + 1:]
            if isinstance(segment, int):
                if not isinstance(node, SequenceNode) or not 0 <= segment < len(node.value) or not rest:
                    raise Refused(f"{format_path(path[:index + 1])} is not a list item tdv can edit")
                node = node.value[segment]
                continue
            if not isinstance(node, MappingNode):
                raise Refused(f"{format_path(path[:index]) or 'the object'} is not a mapping")
            if any(key.tag == _MERGE for key, _ in node.value):
                raise Refused(f"{format_path(path[:index]) or 'the object'} uses a merge key (<<); fix it by hand")
            entry = next(((k, v) for k, v in node.value if isinstance(k, ScalarNode) and k.value == segment), None)
            if entry is None:
                return self._add_entry(node, segment, _nested(rest, assignment))
            key, value = entry
            if not rest:
                self._check_shared(value, path)
                return self._assign_value(node, key, value, assignment)
            if _is_null(value):
                return self._fill_null(node, key, value, _nested(rest, assignment))
            node = value
        raise Refused("a fix needs a field path")

    def _check_shared(self, node: Node, path: tuple) -> None:
        if id(node) in self.shared and not self.edit_shared:
            where = format_path(path) or "the object"
            raise Refused(f"{where} is shared through a YAML alias; fix it by hand")

    def _assign_value(self, parent: MappingNode, key: Node, node: Node, assignment: Assignment) -> list[Splice]:
        field = format_path(assignment.path)
        if assignment.operation == "append":
            if _is_null(node):
                return self._fill_null(parent, key, node, [assignment.value])
            if not isinstance(node, SequenceNode):
                raise Refused(f"{field} is not a list")
            if any(isinstance(item, ScalarNode) and same(_value(item), assignment.value) for item in node.value):
                return []
            return self._append(node, assignment.value)
        if _is_null(node):
            return self._fill_null(parent, key, node, assignment.value)
        if assignment.if_absent or same(_value(node), assignment.value):
            return []
        if isinstance(node, ScalarNode) and _is_scalar(assignment.value) and node.style not in ("|", ">"):
            return [Splice(self._start(node), self._end(node), self._scalar(assignment.value, node.style))]
        held = "a list" if isinstance(node, SequenceNode) else "a mapping" if isinstance(node, MappingNode) else "text"
        raise Refused(f"{field} holds {held}; tdv replaces only single values")

    def _fill_null(self, parent: MappingNode, key: Node, node: ScalarNode, value: Any) -> list[Splice]:
        """Give a value to a key that has none (`key:`, `key: null` or `key: ~`)."""
        start, end = self._start(node), self._end(node)
        empty = start == end
        if parent.flow_style or self.style.json or _is_scalar(value):
            text = self._flow(value)
            return [Splice(start, end, " " + text if empty else text)]
        splices = []
        if not empty:  # `key: null` becomes `key:`, then the value goes on the lines below
            while start > 0 and self.text[start - 1] in " \t":
                start -= 1
            splices.append(Splice(start, end, ""))
        lines = self._value_lines(value, key.start_mark.column)
        splices.append(insert_lines(self.text, line_end(self.text, end), lines, self.newline))
        return splices

    def _add_entry(self, mapping: MappingNode, key: str, value: Any) -> list[Splice]:
        if mapping.flow_style or self.style.json:
            entry = f"{self._key(key)}: {self._flow(value)}"
            if not mapping.value:
                return [Splice(self._start(mapping) + 1, self._start(mapping) + 1, entry)]
            last_key, last_value = mapping.value[-1]
            at = self._content_end(last_value, last_key)
            if mapping.start_mark.line != mapping.end_mark.line:  # one entry per line, as written
                return [Splice(at, at, "," + self.newline + " " * last_key.start_mark.column + entry)]
            return [Splice(at, at, ", " + entry)]
        column = mapping.value[0][0].start_mark.column
        at = line_end(self.text, self._content_end(mapping.value[-1][1], mapping.value[-1][0]))
        return [insert_lines(self.text, at, self._entry_lines(key, value, column), self.newline)]

    def _append(self, sequence: SequenceNode, value: Any) -> list[Splice]:
        if sequence.flow_style or self.style.json:
            if not sequence.value:
                return [Splice(self._start(sequence) + 1, self._start(sequence) + 1, self._flow(value))]
            at = self._content_end(sequence.value[-1])
            return [Splice(at, at, ", " + self._flow(value))]
        at = line_end(self.text, self._content_end(sequence.value[-1]))
        return [insert_lines(self.text, at, self._item_lines(value, sequence.start_mark.column), self.newline)]

    def _content_end(self, node: Node, key: Node | None = None) -> int:
        """The offset after the last character of a value (a block scalar's trailing line
        breaks and a block collection's trailing comments excluded); `key` is the key the
        value is written under, if any. A value written as an alias (`*name`) ends with its
        name: its node is the anchored one, whose offsets are where the anchor is."""
        while True:
            if id(node) in self.shared:
                end = self._alias_end(key)
                if end is not None:
                    return end
                if key is None:
                    raise Refused("a list ends with a YAML anchor or alias; fix it by hand")
            if isinstance(node, MappingNode) and not node.flow_style and node.value:
                key, node = node.value[-1]
            elif isinstance(node, SequenceNode) and not node.flow_style and node.value:
                key, node = None, node.value[-1]
            else:
                break
        end = self._end(node)
        if isinstance(node, ScalarNode) and node.style in ("|", ">"):
            while end > self._start(node) and self.text[end - 1] in " \t\r\n":
                end -= 1
        return end

    def _alias_end(self, key: Node | None) -> int | None:
        """Where the alias written after `key` ends, or None when the value after it is not
        an alias (it is the anchored node itself)."""
        if key is None:
            return None
        found = _ALIAS_VALUE.match(self.text, self._end(key))
        return found.end() if found else None

    # Rendering new values in the file's style

    def _value_lines(self, value: Any, column: int) -> list[str]:
        """The lines of a new mapping or list under a key written at `column`."""
        if isinstance(value, dict):
            indent = column + self.style.mapping
            return [line for key, item in value.items() for line in self._entry_lines(key, item, indent)]
        indent = column + self.style.sequence
        return [line for item in value for line in self._item_lines(item, indent)]

    def _entry_lines(self, key: str, value: Any, column: int) -> list[str]:
        head = " " * column + self._key(key) + ":"
        if isinstance(value, (dict, list)) and value:
            return [head] + self._value_lines(value, column)
        return [f"{head} {self._flow(value)}"]

    def _item_lines(self, item: Any, column: int) -> list[str]:
        if isinstance(item, dict) and item:
            lines = [line for key, value in item.items() for line in self._entry_lines(key, value, column + 2)]
            return [" " * column + "- " + lines[0][column + 2:]] + lines[1:]
        return [" " * column + "- " + self._flow(item)]

    def _flow(self, value: Any) -> str:
        if self.style.json:
            return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
        if isinstance(value, dict):
            return "{" + ", ".join(f"{self._key(k)}: {self._flow(v)}" for k, v in value.items()) + "}"
        if isinstance(value, list):
            return "[" + ", ".join(self._flow(v) for v in value) + "]"
        return self._scalar(value)

    def _key(self, key: str) -> str:
        return json.dumps(key, ensure_ascii=False) if self.style.json else self._scalar(key)

    def _scalar(self, value: Any, quoting: str | None = None) -> str:
        """A scalar as YAML reads it back; a string keeps the quoting of the value it replaces."""
        if self.style.json or value is None or isinstance(value, (bool, int, float)):
            return json.dumps(value, ensure_ascii=False)
        if quoting == "'":
            return "'" + value.replace("'", "''") + "'"
        if quoting == '"' or not _plain_safe(value):
            return json.dumps(value, ensure_ascii=False)
        return value


def _nested(rest: tuple, assignment: Assignment) -> Any:
    """The new value to write where the path leaves the existing document."""
    value = [assignment.value] if assignment.operation == "append" else assignment.value
    for segment in reversed(rest):
        if isinstance(segment, int):
            raise Refused("tdv does not create list items")
        value = {segment: value}
    return value


@functools.lru_cache(maxsize=1024)  # fixes write the same few values many times
def _plain_safe(text: str) -> bool:
    """True when `text` can be written unquoted and still be read as this string by YAML 1.1
    and 1.2 parsers (so no booleans, numbers or nulls in disguise)."""
    if not _PLAIN.match(text) or text.lower() in _AMBIGUOUS or _NUMBER.match(text):
        return False
    try:
        return yaml.safe_load(text) == text
    except yaml.YAMLError:
        return False


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, (dict, list))


def _is_null(node: Node) -> TypeGuard[ScalarNode]:
    return isinstance(node, ScalarNode) and node.tag == _NULL


_MISSING = object()


def _value(node: Node) -> Any:
    try:
        return yaml.constructor.SafeConstructor().construct_document(node)
    except (yaml.YAMLError, ValueError, TypeError):
        return _MISSING


def same(current: Any, wanted: Any) -> bool:
    """Equal values of the same type (so `1` is not `true` and `"false"` is not `false`),
    lists and mappings included."""
    if isinstance(current, dict) and isinstance(wanted, dict):
        return current.keys() == wanted.keys() and all(same(current[k], wanted[k]) for k in current)
    if isinstance(current, list) and isinstance(wanted, list):
        return len(current) == len(wanted) and all(same(a, b) for a, b in zip(current, wanted))
    return type(current) is type(wanted) and current == wanted
