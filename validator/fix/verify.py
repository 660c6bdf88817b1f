"""Checks that a fix is safe, before anything is written.

- `unsafe`: a fix must not make a Kubernetes object invalid for the API server (see
  fix.api_rules). The object as the scan read it is changed as the fix would change it, and
  the problems it would have are compared with the ones it had.
- `check_file`: the fixed text of a file is read again with the reader the scan uses
  (YAML: validator.sources.yaml_loader; `.tf`: validator.sources.terraform_hcl), and must
  be the file as read before with exactly the planned assignments made: every other field,
  document and resource is the same, with the same types. A file that fails is not written.
"""

from __future__ import annotations

import functools
from typing import Any, Iterable

from validator.fix import api_rules
from validator.fix.plan import Assignment
from validator.fix.yaml_edit import same
from validator.model import FieldPath, Position, format_path

Anchor = Position | tuple[str, str]


class CannotSimulate(Exception):
    """An assignment the checks cannot model on the data (the editors refuse it too)."""


def simulate(document: Any, assignments: Iterable[Assignment]) -> Any:
    """A copy of `document` with the assignments made as the editors make them."""
    document = tree_copy(document)
    for assignment in assignments:
        _assign(document, assignment)
    return document


def _assign(document: Any, assignment: Assignment) -> None:
    path = assignment.path
    node = _parent(document, path)
    last = path[-1]
    if isinstance(last, int) or not isinstance(node, dict):
        raise CannotSimulate(format_path(path))
    if assignment.operation == "append":
        current = node.get(last)
        if current is None:
            node[last] = [assignment.value]
        elif isinstance(current, list):
            if not any(same(item, assignment.value) for item in current):
                current.append(assignment.value)
        else:
            raise CannotSimulate(format_path(path))
    elif not (assignment.if_absent and node.get(last) is not None):
        node[last] = tree_copy(assignment.value)


def _parent(document: Any, path: FieldPath) -> Any:
    """The node holding the field at `path`, with the mappings (and the first item of the
    nested blocks) on the way created as the editors create them."""
    node = document
    for index, segment in enumerate(path[:-1]):
        if isinstance(segment, int):
            if not isinstance(node, list) or not 0 <= segment < len(node):
                raise CannotSimulate(format_path(path[:index + 1]))
            node = node[segment]
            continue
        if not isinstance(node, dict):
            raise CannotSimulate(format_path(path[:index]))
        if node.get(segment) is None:  # created; a nested block of a .tf file with its first item
            following = path[index + 1]
            if isinstance(following, int) and following != 0:
                raise CannotSimulate(format_path(path[:index + 2]))
            node[segment] = [{}] if isinstance(following, int) else {}
        node = node[segment]
    return node


def tree_copy(value: Any) -> Any:
    """A copy in which no two places share a mapping or list (as YAML aliases make the
    loader's data do), so that changing one place changes no other."""
    if isinstance(value, dict):
        return {key: tree_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [tree_copy(item) for item in value]
    return value


def unsafe(document: Any, assignments: Iterable[Assignment]) -> str | None:
    """Why making the assignments would make the object invalid for the API server, or None."""
    try:
        after = simulate(document, assignments)
    except CannotSimulate:
        return None  # the editor refuses it, with its own reason
    added = sorted(api_rules.problems(after) - api_rules.problems(document))
    return "; ".join(added) if added else None


def check_file(kind: str, before: str, after: str, edits: list[tuple[Anchor, Assignment]]) -> str | None:
    """Why the fixed text is not the text as read with exactly these assignments made, or None."""
    if kind == "tf":
        return _check_tf(before, after, edits)
    return _check_yaml(before, after, edits, kind == "json")


def _check_yaml(before: str, after: str, edits: list[tuple[Anchor, Assignment]], json_file: bool) -> str | None:
    from validator.fix import yaml_edit

    old, old_errors = _yaml_data(before)
    expected = _expected_documents(old, yaml_edit.objects(before, json_file), edits)
    if isinstance(expected, str):
        return expected
    window = None if old_errors else _changed_documents(before, after, json_file)
    if window is None:  # the whole file is read again
        first, numbers = 0, None
        new, new_errors = _yaml_data(after)
        if new_errors > old_errors:
            return "the fixed file would not be valid YAML"
        if set(new) != set(old):
            return "the fixed file would not have the same documents"
    else:  # only the documents the text changed in are read again
        first, last, piece = window
        numbers = range(first, last + 1)
        new, new_errors = _yaml_data(piece)
        if new_errors or any(index >= len(numbers) for index in new):
            return "the fixed file would not be valid YAML" if new_errors else \
                "the fixed file would not have the same documents"
    return _compare_documents(old, new, expected, numbers, first)


def _expected_documents(old: dict[int, Any], objects: dict[Position, tuple[int, int | None]],
                        edits: list[tuple[Anchor, Assignment]]) -> dict[int, Any] | str:
    """The documents the fixes change, as they should read; or why they cannot be told."""
    expected: dict[int, Any] = {}
    for anchor, assignment in edits:
        found = objects.get(anchor) if isinstance(anchor, Position) else None
        if found is None or found[0] not in old:
            return "the object to fix was not found when the fixed file was checked"
        number, item = found
        if number not in expected:
            expected[number] = tree_copy(old[number])
        target = expected[number] if item is None else expected[number]["items"][item]
        try:
            _assign(target, assignment)
        except CannotSimulate as error:
            return f"{error} cannot take the fix"
    return expected


def _compare_documents(old: dict[int, Any], new: dict[int, Any], expected: dict[int, Any],
                       numbers: range | None, first: int) -> str | None:
    """Why the documents read again (`numbers` from `first`, or all of them for None) are
    not the old ones with the expected changes, or None."""
    for number in sorted(set(numbers if numbers is not None else old) | set(expected)):
        wanted = expected.get(number, old.get(number))
        if numbers is None or number in numbers:
            if not same(wanted, new.get(number - first)):
                return f"the fixed file would change more than the fixed fields (document {number + 1})"
        elif not same(wanted, old.get(number)):
            return f"the fixed file would not have every fix (document {number + 1})"
    return None


def _changed_documents(before: str, after: str, json_file: bool) -> tuple[int, int, str] | None:
    """The first and last document whose text the fix changed, and their fixed text; None
    when that cannot be told (directives, a change outside every document)."""
    from validator.fix import yaml_edit

    spans = yaml_edit.document_spans(before, json_file)
    window = _window(before, after, spans or (), ())
    if window is None:
        return None
    first, last, start, end = window
    return first, last, after[start:end + len(after) - len(before)]


def _window(before: str, after: str, spans, also: Iterable[int]) -> tuple[int, int, int, int] | None:
    """The first and last of the `spans` ((start, end) in the text before) that the change
    from `before` to `after` touches, with the spans in `also`, and where they start and end;
    None when a change lies outside every span. (0, -1, 0, 0) when nothing changed."""
    if not spans:
        return None
    prefix = _common_prefix(before, after)
    suffix = _common_prefix(before[prefix:][::-1], after[prefix:][::-1])
    low, high = prefix, len(before) - suffix  # what changed, in the text before
    touched = [number for number, (start, end) in enumerate(spans) if start <= high and end >= low]
    touched = sorted(set(touched if before != after else ()) | set(also))
    if not touched:
        return None if before != after else (0, -1, 0, 0)
    first, last = touched[0], touched[-1]
    start, end = spans[first][0], spans[last][1]
    if before != after and (low < start or high > end):
        return None
    return first, last, start, end


def _common_prefix(a: str, b: str) -> int:
    """The length of the longest common prefix of two strings (binary search: the slices
    are compared at C speed)."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


@functools.lru_cache(maxsize=4)  # SARIF checks one finding at a time against the same file
def _yaml_data(text: str) -> tuple[dict[int, Any], int]:
    """The documents of a YAML text as the scan reads them, by index, and how many could
    not be read. Only read, never changed."""
    from validator.sources.yaml_loader import YamlError, load_documents

    documents = list(load_documents(text))
    return ({d.index: d.data for d in documents if not isinstance(d, YamlError)},
            sum(isinstance(d, YamlError) for d in documents))


def _check_tf(before: str, after: str, edits: list[tuple[Anchor, Assignment]]) -> str | None:
    from validator.fix import hcl_edit

    # Only the blocks the change touches, and those of the fixed resources, are read again;
    # both texts are read the same way (a variable defined elsewhere is unknown in both).
    blocks = hcl_edit.block_spans(before)
    window = None
    if blocks:
        headers = [header for header, _, _ in blocks]
        wanted = {("resource", *anchor) for anchor, _ in edits if isinstance(anchor, tuple)}
        also = [number for number, header in enumerate(headers) if header in wanted]
        window = _window(before, after, [(start, end) for _, start, end in blocks], also)
    if window is not None:
        _, _, start, end = window
        before, after = before[start:end], after[start:end + len(after) - len(before)]
    old, new = _tf_data(before), _tf_data(after)
    if isinstance(new, str):
        return "the fixed file would not be valid HCL"
    if isinstance(old, str):
        return "the file is not valid HCL"
    expected = _expected_resources(old, edits)
    if isinstance(expected, str):
        return expected
    if expected.keys() != new.keys():
        return "the fixed file would not have the same resources"
    for address in sorted(expected):
        if not same(expected[address], new[address]):
            return f"the fixed file would change more than the fixed fields of {address}"
    return None


def _expected_resources(old: dict[str, Any], edits: list[tuple[Anchor, Assignment]]) -> dict[str, Any] | str:
    """The resources as the fixes should leave them, by address; or why they cannot be told."""
    expected = tree_copy(old)
    for anchor, assignment in edits:
        address = f"{anchor[0]}.{anchor[1]}" if isinstance(anchor, tuple) else None
        if address not in expected:
            return "the block to fix was not found when the fixed file was checked"
        try:
            _assign(expected[address], assignment)
        except CannotSimulate as error:
            return f"{error} cannot take the fix"
    return expected


@functools.lru_cache(maxsize=4)
def _tf_data(text: str) -> dict[str, Any] | str:
    """The resources of a `.tf` text as the scan reads them, by address, or why it cannot be
    read. Only read, never changed."""
    from validator.model import InputProblem
    from validator.sources.terraform_hcl import scan_texts

    found: dict[str, Any] = {}
    for item in scan_texts([("fixed.tf", text)]):
        if isinstance(item, InputProblem):
            return item.message
        found[item.identity or item.name] = item.document
    return found
