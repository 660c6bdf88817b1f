"""Fixes of objects rendered by Kustomize, written into the base or patch they come from.

A rendered object knows, for each field, the file that holds the most of its path (see
validator.sources.render.kustomize_origin): its base, or a strategic merge patch that sets
it. Each assignment goes to that file, into the document of the same kind whose name the
rendered name contains (a `namePrefix` or `nameSuffix` added to it). List items are matched
by their `name`, since Kustomize reorders merged lists (a patched container comes first).
A field set in a kustomization (`images`, `replicas`, a generator) or by a JSON 6902 patch
is refused: it has no YAML document to edit. A value copied from the rendered name (the
recommended labels) is written as the name in the source document, so that a base shared
by overlays does not get one overlay's prefix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from validator.fix.plan import Assignment
from validator.fix.textedit import Refused
from validator.model import FieldPath, Position, Resource, format_path
from validator.sources.yaml_loader import YamlDocument, load_documents

# File names of a kustomization (validator.sources.render.kustomization.FILE_NAMES).
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def is_overlay(directory: str, root: Path) -> bool:
    return any((root / directory / name).is_file() for name in KUSTOMIZATION_FILES)


def retarget(resource: Resource, assignment: Assignment, read) -> tuple[str, Position, Assignment]:
    """(file, start of the object's document in it, the assignment in that document's terms).
    `read(display)` gives a file's text (raising Refused)."""
    display = resource.locate(assignment.path).path
    if Path(display).name in KUSTOMIZATION_FILES:
        raise Refused(f"{format_path(assignment.path)} comes from {display} (a generator, images, replicas or"
                      " namespace), which tdv does not edit; fix it by hand")
    document = _document(read(display), resource, display)
    path = _translate(assignment.path, resource.document, document.data, display)
    value = assignment.value
    if value == resource.name:
        value = document.data["metadata"]["name"]
    return display, document.start, Assignment(assignment.operation, path, value, assignment.if_absent)


def _document(text: str, resource: Resource, display: str) -> YamlDocument:
    """The document of `display` that the rendered object comes from."""
    found: list[tuple[int, YamlDocument]] = []
    for document in load_documents(text):
        if not isinstance(document, YamlDocument) or not isinstance(document.data, dict):
            continue
        data = document.data
        meta = data.get("metadata")
        name = meta.get("name") if isinstance(meta, dict) else None
        if data.get("kind") == resource.kind and isinstance(name, str) and name and name in resource.name:
            found.append((len(name), document))
    if not found:
        raise Refused(f"{display} has no {resource.kind} document for {resource.name} (a JSON patch?); fix it by hand")
    return max(found, key=lambda pair: pair[0])[1]


def _translate(path: FieldPath, rendered: Any, source: Any, display: str) -> FieldPath:
    """`path` in the rendered object, as a path in the source document: list items by name."""
    out: list = []
    for number, segment in enumerate(path):
        if source is None:  # the rest is created
            return tuple(out) + tuple(path[number:])
        if isinstance(segment, int):
            item = rendered[segment] if isinstance(rendered, list) and segment < len(rendered) else None
            name = item.get("name") if isinstance(item, dict) else None
            matches = [n for n, other in enumerate(source if isinstance(source, list) else [])
                       if isinstance(other, dict) and name is not None and other.get("name") == name]
            if len(matches) != 1:
                raise Refused(f"{format_path(path[:number + 1])} is not written in {display}; fix it by hand")
            out.append(matches[0])
            rendered, source = item, source[matches[0]]
        else:
            out.append(segment)
            rendered = rendered.get(segment) if isinstance(rendered, dict) else None
            source = source.get(segment) if isinstance(source, dict) else None
    return tuple(out)
