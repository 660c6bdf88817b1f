"""Safe YAML loading that keeps source positions and refuses hostile input.

Parsing uses libyaml through PyYAML's C composer (`CSafeLoader`), which never constructs
arbitrary objects. Values are then built from the node tree by a small constructor of our
own that:

- accepts only the standard YAML tags (a `!!python/...` tag is an error);
- rejects duplicate mapping keys, as `kubectl` does;
- turns timestamps into plain strings and non-string keys into strings, as Kubernetes does;
- bounds nesting depth and the size of alias expansions (no "billion laughs").

The node tree is kept so that any field path can be mapped to a line and column later.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import yaml

from validator.model import FieldPath, Position

MAX_DEPTH = 200
MAX_EXPANDED_NODES = 2_000_000

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"
_STRINGLIKE_TAGS = {_STR, "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:binary", "tag:yaml.org,2002:value"}
_SET_TAGS = {"tag:yaml.org,2002:set", "tag:yaml.org,2002:omap", "tag:yaml.org,2002:pairs"}

_scalars = yaml.constructor.SafeConstructor()
_INT64 = 2**63


class YamlError(Exception):
    """A problem in the input, with the 1-based line where it was found."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass
class YamlDocument:
    data: Any
    root: yaml.Node
    index: int

    @property
    def line(self) -> int:
        return self.root.start_mark.line + 1

    def locate(self, path: FieldPath) -> Position:
        return locate(self.root, path)


def load_documents(text: str, drop_nulls: bool = False) -> Iterator[YamlDocument | YamlError]:
    """Yield each document of a YAML stream, or a YamlError for one that cannot be used.

    A syntax error ends the stream (libyaml cannot resynchronise); the documents before it
    are still yielded. With `drop_nulls`, mapping entries whose value is null are left out,
    as the Kubernetes API server does.
    """
    index = 0
    try:
        for root in yaml.compose_all(text, Loader=yaml.CSafeLoader):
            if root is None:
                continue
            try:
                data = _Builder(drop_nulls).build(root)
            except YamlError as error:
                yield error
            else:
                yield YamlDocument(data, root, index)
            index += 1
    except yaml.MarkedYAMLError as error:
        yield _marked_error(error)
    except yaml.reader.ReaderError as error:
        line = text.count("\n", 0, error.position) + 1
        yield YamlError(f"invalid YAML: unacceptable character #x{error.character:04x}", line)
    except yaml.YAMLError as error:
        yield YamlError("invalid YAML: " + " ".join(str(error).split()))
    except RecursionError:
        yield YamlError(f"nesting is deeper than {MAX_DEPTH} levels")


def _marked_error(error: yaml.MarkedYAMLError) -> YamlError:
    mark = error.problem_mark or error.context_mark
    parts = [p for p in (error.context, error.problem) if p]
    message = "invalid YAML: " + (", ".join(parts) if parts else "syntax error")
    return YamlError(message, mark.line + 1 if mark else None)


class _Builder:
    """Builds plain Python values from a node tree, enforcing the limits above."""

    def __init__(self, drop_nulls: bool = False) -> None:
        self.drop_nulls = drop_nulls
        self.expanded = 0
        self.built: dict[int, tuple[Any, int]] = {}  # id(node) -> (value, expanded size)

    def build(self, node: yaml.Node, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise YamlError(f"nesting is deeper than {MAX_DEPTH} levels", node.start_mark.line + 1)
        cached = self.built.get(id(node))
        if cached is not None:
            # An alias: the value is shared, but count its full size against the budget.
            value, size = cached
            self._count(size, node)
            return value
        before = self.expanded
        self._count(1, node)
        if isinstance(node, yaml.ScalarNode):
            value = self._scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            if node.tag not in (_SEQ,) and node.tag not in _SET_TAGS:
                raise _tag_error(node)
            value = [self.build(child, depth + 1) for child in node.value]
        else:
            if node.tag not in (_MAP,) and node.tag not in _SET_TAGS:
                raise _tag_error(node)
            value = self._mapping(node, depth)
        if not isinstance(node, yaml.ScalarNode):
            self.built[id(node)] = (value, self.expanded - before)
        return value

    def _count(self, size: int, node: yaml.Node) -> None:
        self.expanded += size
        if self.expanded > MAX_EXPANDED_NODES:
            raise YamlError(
                f"document expands to more than {MAX_EXPANDED_NODES:,} values through aliases"
                " (possible alias bomb)",
                node.start_mark.line + 1,
            )

    def _mapping(self, node: yaml.MappingNode, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        merged: dict[str, Any] = {}
        dropped: set[str] = set()
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                for source in _merge_sources(value_node):
                    value = self.build(source, depth + 1)
                    for key, item in value.items():
                        merged.setdefault(key, item)
                continue
            key = self._key(key_node, depth)
            if key in result or key in dropped:
                raise YamlError(f"duplicate key {key!r}", key_node.start_mark.line + 1)
            value = self.build(value_node, depth + 1)
            if value is None and self.drop_nulls:
                dropped.add(key)
            else:
                result[key] = value
        for key, item in merged.items():
            result.setdefault(key, item)
        return result

    def _key(self, node: yaml.Node, depth: int) -> str:
        if not isinstance(node, yaml.ScalarNode):
            raise YamlError("mapping keys must be scalars", node.start_mark.line + 1)
        key = self._scalar(node)
        if isinstance(key, str):
            return key
        if isinstance(key, bool):
            return "true" if key else "false"
        return "null" if key is None else str(key)

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        tag = node.tag
        if tag == _STR or tag in _STRINGLIKE_TAGS:
            return node.value
        if tag == _INT:
            number = _scalars.construct_yaml_int(node)
            return number if -_INT64 <= number < _INT64 else float(number)
        if tag == _BOOL:
            return _scalars.construct_yaml_bool(node)
        if tag == _NULL:
            return None
        if tag == _FLOAT:
            return _scalars.construct_yaml_float(node)
        raise _tag_error(node)


def _merge_sources(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [node]
    if isinstance(node, yaml.SequenceNode) and all(isinstance(n, yaml.MappingNode) for n in node.value):
        return list(node.value)
    raise YamlError("a merge key (<<) needs a mapping or a list of mappings", node.start_mark.line + 1)


def _tag_error(node: yaml.Node) -> YamlError:
    return YamlError(f"unsupported YAML tag {node.tag!r}", node.start_mark.line + 1)


def locate(root: yaml.Node, path: FieldPath) -> Position:
    """Position of `path` in the tree, or of its nearest existing parent.

    A mapping field points at its key (the line a developer edits); a list item points at
    the item itself.
    """
    node = root
    position = _position(root)
    for segment in path:
        if isinstance(node, yaml.MappingNode) and isinstance(segment, str):
            found = _find_key(node, segment)
            if found is None:
                break
            key_node, node = found
            position = _position(key_node)
        elif isinstance(node, yaml.SequenceNode) and isinstance(segment, int):
            if not 0 <= segment < len(node.value):
                break
            node = node.value[segment]
            position = _position(node)
        else:
            break
    return position


def _find_key(node: yaml.MappingNode, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    merges = []
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE:
            merges.append(value_node)
        elif isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            return key_node, value_node
    for merge in merges:
        for source in merge.value if isinstance(merge, yaml.SequenceNode) else [merge]:
            if isinstance(source, yaml.MappingNode):
                found = _find_key(source, key)
                if found:
                    return found
    return None


def _position(node: yaml.Node) -> Position:
    return Position(node.start_mark.line + 1, node.start_mark.column + 1)
