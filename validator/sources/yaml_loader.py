"""Safe YAML loading that keeps source positions and refuses hostile input.

Parsing uses libyaml through PyYAML's C parser, which never constructs arbitrary objects.
Values are then built from the node tree by a small constructor of our own that:

- accepts only the standard YAML tags (a `!!python/...` tag is an error);
- rejects duplicate mapping keys, as `kubectl` does;
- turns timestamps into plain strings and non-string keys into strings, as Kubernetes does;
- bounds nesting depth, the number of values in a document, and the size of alias
  expansions (no "billion laughs").

Input that could nest deeper than the limit, or hold more values, is measured before
libyaml composes it (see `_native_is_safe`): its composer recurses in C and would crash on
very deep input, and composing millions of values takes minutes.

The position of every mapping key and list item is recorded while building, so that a
field path can be mapped to a line and column later; the node tree itself is dropped.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

import yaml
from yaml._yaml import CParser  # (what yaml.cyaml re-exports)
from yaml.nodes import MappingNode, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from validator.model import FieldPath, Position

MAX_DEPTH = 200
MAX_EXPANDED_NODES = 2_000_000  # values of one document, with what its aliases repeat
MAX_NODES = 2_000_000  # keys, values and items written in one document (libyaml composes ~100,000 a second)

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_STRINGLIKE_TAGS = {_STR, _TIMESTAMP, "tag:yaml.org,2002:binary", "tag:yaml.org,2002:value"}
_SET_TAGS = {"tag:yaml.org,2002:set", "tag:yaml.org,2002:omap", "tag:yaml.org,2002:pairs"}
_SEQUENCE_TAGS = {_SEQ} | _SET_TAGS
_MAPPING_TAGS = {_MAP} | _SET_TAGS

_scalars = yaml.constructor.SafeConstructor()
_BOOL_VALUES = yaml.constructor.SafeConstructor.bool_values
_NULL_VALUES = frozenset({"", "~", "null", "Null", "NULL"})
_TIMESTAMP_VALUE = yaml.constructor.SafeConstructor.timestamp_regexp
# What a number tagged !!int or !!float may look like (a looser form of YAML 1.1's; `_` removed).
_NUMBER_VALUE = re.compile(r"[-+]?(?:0b[01]+|0x[0-9a-fA-F]+|0o?[0-7]+|[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?"
                           r"|\.[0-9]+(?:[eE][-+]?[0-9]+)?)$")
_INT64 = 2**63
_BUILDING = object()  # marks a collection whose value is being built (a recursive alias)

# A line starting with this many spaces or block indicators may nest too deeply.
_LONG_LINE_START = re.compile(r"\n[ \t?:-]{300}")
_LINE_BREAKS = re.compile("\r\n?|[\x85\u2028\u2029]")


class YamlError(Exception):
    """A problem in the input, with the 1-based line where it was found."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line


# A position packed into one int (line and column, both 0-based), to keep memory small.
def _pack(mark: yaml.Mark) -> int:
    return mark.line << 32 | mark.column


def _unpack(packed: int) -> Position:
    return Position((packed >> 32) + 1, (packed & 0xFFFFFFFF) + 1)


class YamlDocument:
    """One document: its data, and where each of its fields is in the source."""

    def __init__(self, data: Any, index: int, start: int, end_line: int, positions: dict[int, Any]):
        self.data = data
        self.index = index
        self.end_line = end_line  # 1-based line where the root node ends
        self._start = start
        self._positions = positions  # id(dict or list in data) -> {key: packed} or [packed]

    @property
    def line(self) -> int:
        return self.start.line

    @property
    def start(self) -> Position:
        return _unpack(self._start)

    def locate(self, path: FieldPath) -> Position:
        """Position of `path`, or of its nearest existing parent.

        A mapping field points at its key (the line a developer edits); a list item points
        at the item itself.
        """
        value, packed = self.data, self._start
        for segment in path:
            table = self._positions.get(id(value))
            if table is None:
                break
            if isinstance(value, dict) and isinstance(segment, str) and segment in value:
                where = table.get(segment)
            elif isinstance(value, list) and isinstance(segment, int) and 0 <= segment < len(value):
                where = table[segment]
            else:
                break
            if where is None:
                break
            value, packed = value[segment], where
        return _unpack(packed)


def load_documents(  # noqa: C901 - one except clause per kind of reading error, each with its own message
        text: str, drop_nulls: bool = False) -> Iterator[YamlDocument | YamlError]:
    """Yield each document of a YAML stream, or a YamlError for one that cannot be used.

    Documents that hold nothing (empty, only comments, or null) are skipped, but counted in
    the index. A syntax error ends the stream (libyaml cannot resynchronise); the documents
    before it are still yielded. With `drop_nulls`, mapping entries whose value is null are
    left out, as the Kubernetes API server does.
    """
    index = 0
    try:
        for root in _compose(text):
            if isinstance(root, YamlError):
                yield root
            elif root is not None:
                try:
                    document = _Builder(drop_nulls).document(root, index)
                except YamlError as error:
                    yield error
                else:
                    if document.data is not None:
                        yield document
            index += 1
    except yaml.MarkedYAMLError as error:
        yield _marked_error(error)
    except yaml.reader.ReaderError as error:
        line = text.count("\n", 0, error.position) + 1
        yield YamlError(f"invalid YAML: unacceptable character #x{error.character:04x}", line)
    except yaml.YAMLError as error:
        yield YamlError("invalid YAML: " + " ".join(str(error).split()))
    except UnicodeEncodeError as error:  # text not decoded from a file: libyaml reads UTF-8
        line = text.count("\n", 0, error.start) + 1
        yield YamlError(f"invalid YAML: unacceptable character #x{ord(text[error.start]):04x}", line)
    except RecursionError:  # a last resort: the depth limits above should make it unreachable
        yield YamlError(f"nesting is deeper than {MAX_DEPTH} levels")


def _marked_error(error: yaml.MarkedYAMLError) -> YamlError:
    mark = error.problem_mark or error.context_mark
    if error.problem and "maximum nesting depth" in error.problem:  # libyaml's own limit (1,000)
        return YamlError(f"nesting is deeper than {MAX_DEPTH} levels", mark.line + 1 if mark else None)
    parts = [p for p in (error.context, error.problem) if p]
    message = "invalid YAML: " + (", ".join(parts) if parts else "syntax error")
    return YamlError(message, mark.line + 1 if mark else None)


class _NodeReader(CParser, Resolver):
    """libyaml's parser and composer, with a tag resolver that remembers its answers.

    A Kubernetes manifest repeats the same keys and values many times; resolving each
    distinct plain scalar once per file is most of what makes loading fast.
    """

    def __init__(self, text: str):
        CParser.__init__(self, text)
        Resolver.__init__(self)
        self._plain_tags: dict[str, str] = {}

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode:
            if not implicit[0]:
                return _STR
            tag = self._plain_tags.get(value)
            if tag is None:
                tag = self._plain_tags[value] = Resolver.resolve(self, kind, value, implicit)
            return tag
        return _SEQ if kind is SequenceNode else _MAP

    # Path-based resolvers are not used: skip their bookkeeping on every node.
    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass


def _native_is_safe(text: str) -> bool:
    """True when the text cannot nest much deeper than MAX_DEPTH nor hold more than
    MAX_NODES values in a document.

    libyaml's composer recurses in C (a few hundred bytes of stack per level), and its
    scanner takes time proportional to the flow depth for every token; so deeper input
    must be measured before it is composed.

    Each flow collection has its own opening bracket. Block collections nest through
    indentation or through `- `, `? ` and `: ` indicators at the start of a line, and every
    two levels move the start of the next one at least one column right. So the depth is
    at most the number of brackets plus twice the longest such line start, plus one.

    Every value but a document's root follows a line break, an indicator (`-`, `?`, `:`)
    or a flow character (`[`, `{`, `,`), and a key is one value more: that count, doubled,
    bounds the values of the whole text (a text over it is measured document by document).
    """
    brackets = text.count("[") + text.count("{")
    if brackets > MAX_DEPTH:
        return False
    marks = brackets + text.count(",") + text.count("\n") + text.count("-") + text.count(":") + text.count("?")
    if 2 * marks + 1 > MAX_NODES:
        return False
    if "\r" in text or "\x85" in text or "\u2028" in text or "\u2029" in text:
        text = _LINE_BREAKS.sub("\n", text)
    return _LONG_LINE_START.search("\n" + text) is None


def _first_over_budget(text: str) -> tuple[int, int, str] | None:
    """The index, line and problem of the first document nested deeper than MAX_DEPTH or
    holding more than MAX_NODES values, if any.

    Reads libyaml's events, and stops as soon as a limit is passed (so the scanner never
    goes much further either) or at a syntax error (which composing will then report).
    """
    reader = _NodeReader(text)
    depth = document = nodes = 0
    try:
        while True:
            event = reader.get_event()
            kind = event.__class__
            if kind is yaml.ScalarEvent or kind is yaml.AliasEvent:
                nodes += 1
            elif kind is yaml.SequenceStartEvent or kind is yaml.MappingStartEvent:
                depth += 1
                nodes += 1
                if depth > MAX_DEPTH:
                    return document, _event_line(event), f"nesting is deeper than {MAX_DEPTH} levels"
            elif kind is yaml.SequenceEndEvent or kind is yaml.MappingEndEvent:
                depth -= 1
            elif kind is yaml.DocumentEndEvent:
                document += 1
                nodes = 0
            elif kind is yaml.StreamEndEvent:
                return None
            if nodes > MAX_NODES:
                return document, _document_line(text, document), f"document holds more than {MAX_NODES:,} values"
    except yaml.YAMLError:
        return None
    finally:
        reader.dispose()


def _document_line(text: str, index: int) -> int:
    """The line where the document at `index` starts (its root node), read again up to it."""
    reader = _NodeReader(text)
    try:
        document = 0
        while True:
            event = reader.get_event()
            if event.__class__ is yaml.DocumentEndEvent:
                document += 1
            elif document == index and event.__class__ in (yaml.ScalarEvent, yaml.SequenceStartEvent,
                                                           yaml.MappingStartEvent, yaml.AliasEvent):
                return _event_line(event)
    finally:
        reader.dispose()


def _event_line(event: yaml.Event | None) -> int:
    """The line where a parser event starts (the parser marks every event it yields)."""
    assert event is not None and event.start_mark is not None
    return event.start_mark.line + 1


def _compose(text: str) -> Iterator[yaml.Node | YamlError | None]:
    """The root node of each document (None for an empty one), or a YamlError.

    A document over a budget ends the stream, as a syntax error does: reading past it
    would cost the time the limit is there to save.
    """
    over = None if _native_is_safe(text) else _first_over_budget(text)
    reader = _NodeReader(text)
    try:
        index = 0
        while reader.check_node():
            if over is not None and index == over[0]:
                yield YamlError(over[2], over[1])
                return
            yield reader.get_node()
            index += 1
    finally:
        reader.dispose()


class _Builder:
    """Builds plain Python values from a node tree, enforcing the limits above."""

    def __init__(self, drop_nulls: bool = False) -> None:
        self.drop_nulls = drop_nulls
        self.expanded = 0
        self.built: dict[int, Any] = {}  # id(node) -> (value, expanded size) or _BUILDING
        self.positions: dict[int, Any] = {}

    def document(self, root: yaml.Node, index: int) -> YamlDocument:
        data = self.value(root, 0)
        return YamlDocument(data, index, _pack(root.start_mark), root.end_mark.line + 1, self.positions)

    def value(self, node: yaml.Node, depth: int) -> Any:
        if node.__class__ is ScalarNode:
            return node.value if node.tag == _STR else _scalar(node)
        node_id = id(node)
        cached = self.built.get(node_id)
        if cached is not None:
            if cached is _BUILDING:
                raise YamlError("an alias refers to the collection that contains it", node.start_mark.line + 1)
            # An alias: the value is shared, but count its full size against the budget.
            value, size = cached
            self._grow(size, node)
            return value
        if depth >= MAX_DEPTH:
            raise YamlError(f"nesting is deeper than {MAX_DEPTH} levels", node.start_mark.line + 1)
        self.built[node_id] = _BUILDING
        before = self.expanded
        self._grow(len(node.value), node)
        if node.__class__ is SequenceNode and node.tag in _SEQUENCE_TAGS:
            value = self._sequence(node, depth)
        elif node.__class__ is MappingNode and node.tag in _MAPPING_TAGS:
            value = self._mapping(node, depth)
        else:
            raise _tag_error(node)
        self.built[node_id] = (value, self.expanded - before)
        return value

    def _grow(self, size: int, node: yaml.Node) -> None:
        self.expanded += size
        if self.expanded > MAX_EXPANDED_NODES:
            raise YamlError(
                f"document expands to more than {MAX_EXPANDED_NODES:,} values through aliases"
                " (possible alias bomb)",
                node.start_mark.line + 1,
            )

    # The two loops below inline scalars and position packing: they run for every value.
    def _sequence(self, node: SequenceNode, depth: int) -> list[Any]:
        result: list[Any] = []
        where: list[int] = []
        for child in node.value:
            mark = child.start_mark
            where.append(mark.line << 32 | mark.column)
            if child.__class__ is ScalarNode:
                result.append(child.value if child.tag == _STR else _scalar(child))
            else:
                result.append(self.value(child, depth + 1))
        self.positions[id(result)] = where
        return result

    def _mapping(self, node: MappingNode, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        where: dict[str, int] = {}  # every key seen, including dropped ones
        merges: list[yaml.Node] = []
        for key_node, value_node in node.value:
            if key_node.__class__ is ScalarNode and key_node.tag == _STR:
                key = key_node.value
            elif key_node.tag == _MERGE:
                merges.append(value_node)
                continue
            else:
                key = _key(key_node)
            if key in where:
                raise YamlError(f"duplicate key {key!r}", key_node.start_mark.line + 1)
            mark = key_node.start_mark
            where[key] = mark.line << 32 | mark.column
            if value_node.__class__ is ScalarNode:
                value = value_node.value if value_node.tag == _STR else _scalar(value_node)
            else:
                value = self.value(value_node, depth + 1)
            if value is not None or not self.drop_nulls:
                result[key] = value
        for merge in merges:
            self._merge(result, where, merge, depth)
        self.positions[id(result)] = where
        return result

    def _merge(self, result: dict[str, Any], where: dict[str, int], node: yaml.Node, depth: int) -> None:
        """`<<: *base` (or a list of them): add the keys the mapping does not set itself."""
        if isinstance(node, MappingNode):
            sources = [node]
        elif isinstance(node, SequenceNode) and all(isinstance(n, MappingNode) for n in node.value):
            sources = node.value
        else:
            raise YamlError("a merge key (<<) needs a mapping or a list of mappings", node.start_mark.line + 1)
        for source in sources:
            values = self.value(source, depth + 1)
            positions = self.positions[id(values)]
            for key, item in values.items():
                if key not in where:
                    result[key] = item
                    where[key] = positions[key]


def _key(node: yaml.Node) -> str:
    if not isinstance(node, ScalarNode):
        raise YamlError("mapping keys must be scalars", node.start_mark.line + 1)
    key = _scalar(node)
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    return "null" if key is None else str(key)


def _scalar(node: ScalarNode) -> Any:
    tag = node.tag
    if tag in _STRINGLIKE_TAGS:
        if tag == _TIMESTAMP and not _TIMESTAMP_VALUE.match(node.value):
            raise _content_error(node, "a timestamp")
        return node.value
    if tag == _BOOL:
        value = _BOOL_VALUES.get(node.value.lower())
        if value is None:  # only an explicit `!!bool` tag can hold anything else
            raise _content_error(node, "a boolean")
        return value
    if tag == _NULL:
        if node.value not in _NULL_VALUES:
            raise _content_error(node, "null")
        return None
    if tag == _INT or tag == _FLOAT:
        return _number(node)
    raise _tag_error(node)


def _number(node: ScalarNode) -> int | float | str:
    """An int or float scalar, as Kubernetes reads it.

    YAML 1.1 base-60 numbers (`1:30`) are strings to Kubernetes, so they stay strings here
    (converting them also costs quadratic time on long input). Integers outside int64
    become floats; a number too large even for a float is an input error, and so is an
    explicit `!!int` or `!!float` tag on something that is not a number.
    """
    text = node.value
    if ":" in text:
        return text
    try:
        if node.tag == _FLOAT:
            number = _scalars.construct_yaml_float(node)
            if number in (math.inf, -math.inf) and "inf" not in text.lower():  # not `.inf`
                raise OverflowError
            return number
        if text.isdigit() and (text[0] != "0" or len(text) == 1):
            number = int(text)
        else:
            number = _scalars.construct_yaml_int(node)
        return number if -_INT64 <= number < _INT64 else float(number)
    except (ValueError, OverflowError, ArithmeticError, LookupError, TypeError):
        if not _NUMBER_VALUE.match(text.replace("_", "")):
            raise _content_error(node, "a number") from None
        raise YamlError("number is too large", node.start_mark.line + 1) from None


def _content_error(node: ScalarNode, what: str) -> YamlError:
    """An explicitly tagged scalar whose text is not of its tag's type (the text is not quoted:
    it may be a secret)."""
    name = node.tag.rpartition(":")[2]
    return YamlError(f"the value tagged !!{name} is not {what}", node.start_mark.line + 1)


def _tag_error(node: yaml.Node) -> YamlError:
    return YamlError(f"unsupported YAML tag {node.tag!r}", node.start_mark.line + 1)
