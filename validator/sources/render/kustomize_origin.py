"""Where a field of an object rendered by Kustomize is written.

`kustomize build` with `buildMetadata: [originAnnotations]` tells the file each object was
read from (or the kustomization whose generator made it). A field is then looked for in:

- that file, in the document of the same kind and name;
- every patch of the overlay and of the bases and components it uses, that targets the
  object (strategic merge patches by kind and name, JSON 6902 operations by path);
- the kustomization fields that set values: `images`, `replicas` and `namespace`.

The place that holds the most of the field's path wins; a field written in full in
several places goes to the one applied last (a patch over its base). What Kustomize's
transformer annotations add is not used: they list every patch configured for an object,
whether or not it changed it, and name the kustomization rather than the patch file.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from validator.model import FieldPath, Location, Position
from validator.sources.render import kustomization as kz
from validator.sources.render.resources import display
from validator.sources.render.source_paths import follow
from validator.sources.yaml_loader import YamlDocument, YamlError, load_documents

ORIGIN = "config.kubernetes.io/origin"
BUILD_ANNOTATIONS = (ORIGIN, "alpha.config.kubernetes.io/transformations")
_GENERATOR_FIELDS = {"ConfigMapGenerator": "configMapGenerator", "SecretGenerator": "secretGenerator"}
_CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")
_IDENTITY = (("kind",), ("apiVersion",), ("metadata", "name"))


def take_origin(document: dict[str, Any]) -> dict[str, Any]:
    """Remove the build annotations from `document`; return its parsed origin (or {})."""
    metadata = document.get("metadata")
    if not isinstance(metadata, dict):
        return {}
    annotations = metadata.get("annotations")
    if not isinstance(annotations, dict):
        return {}
    origin = annotations.get(ORIGIN)
    for key in BUILD_ANNOTATIONS:
        annotations.pop(key, None)
    if not annotations:
        del metadata["annotations"]
    parsed = next(iter(load_documents(origin)), None) if isinstance(origin, str) else None
    return parsed.data if isinstance(parsed, YamlDocument) and isinstance(parsed.data, dict) else {}


@dataclass
class _Place:
    depth: int  # how many segments of the field path it holds
    order: int  # when it was applied: 0 for the origin, then patches and transformers in order
    location: Location


class OverlaySources:
    """The files behind one rendered overlay, read once and shared by its objects."""

    def __init__(self, chain: list[kz.Kustomization], build_dir: Path, root: Path, max_bytes: int):
        self.chain = chain  # the overlay and what it uses, in the order Kustomize applies them
        self.build_dir = build_dir  # origin paths are relative to it
        self.root = root
        self.max_bytes = max_bytes
        self._files: dict[Path, list[YamlDocument]] = {}
        self._patches: list[tuple[int, kz.Kustomization, kz.Patch, list[YamlDocument]]] | None = None

    def origin_file(self, origin: dict[str, Any]) -> Path | None:
        if origin.get("repo"):
            return None  # fetched from elsewhere: not a file of the tree
        relative = origin.get("path") or origin.get("configuredIn")
        if not isinstance(relative, str):
            return None
        return Path(os.path.normpath(os.path.join(self.build_dir, relative)))

    def locator(self, document: dict[str, Any], origin: dict[str, Any], fallback: Path):
        """A field locator for one rendered object, and the file it reports as its own."""
        file = self.origin_file(origin) or fallback
        by = origin.get("configuredBy")
        if not isinstance(by, dict):
            by = {}
        kind = by.get("kind")
        generator = _GENERATOR_FIELDS.get(kind) if isinstance(kind, str) and "path" not in origin else None
        source = None if generator else self._source_document(file, document)
        generated_at = self._generator_entry(file, generator, document) if generator else None
        own_file = display(file, self.root)

        def locate(path: FieldPath) -> Location:
            if generated_at is not None:
                return Location(own_file, generated_at.line, generated_at.column)
            base = self._in_document(source, document, path, own_file, 0)
            if not path or path in _IDENTITY:
                return base.location
            places = [base, *self._in_patches(document, path), *self._in_fields(document, source, path)]
            full = len(path)
            best = max(places, key=lambda p: (p.depth, p.order if p.depth == full else -p.order))
            return best.location

        return locate, own_file

    # The origin file

    def _documents(self, file: Path) -> list[YamlDocument]:
        if file not in self._files:
            self._files[file] = list(_read_documents(file, self.max_bytes))
        return self._files[file]

    def _source_document(self, file: Path, rendered: dict[str, Any]) -> YamlDocument | None:
        """The document of `file` that the rendered object was read from."""
        kind, name = rendered.get("kind"), _name(rendered)
        same_kind = [d for d in self._documents(file) if isinstance(d.data, dict) and d.data.get("kind") == kind]
        named = [d for d in same_kind if _name(d.data) and _name(d.data) in name]
        named.sort(key=lambda d: -len(_name(d.data)))
        candidates = named or same_kind
        return candidates[0] if candidates else None

    @staticmethod
    def _in_document(source: YamlDocument | None, rendered: Any, path: FieldPath, shown: str, order: int) -> _Place:
        if source is None:
            return _Place(0, order, Location(shown, 1, 1))
        found, depth = follow(rendered, source.data, path)
        where = source.locate(found)
        return _Place(depth, order, Location(shown, where.line, where.column))

    def _generator_entry(self, file: Path, key: str, rendered: dict[str, Any]) -> Position | None:
        real = os.path.realpath(file)
        entry = next((k for k in self.chain if os.path.realpath(k.file) == real), None)
        if entry is None:
            return None
        name = _name(rendered)
        matches = [(i, item) for i, item in entry.entries(key)
                   if isinstance(item.get("name"), str) and item["name"] in name]
        if not matches or entry.document is None:  # (entries come from the document: it is there)
            return Position(1, 1)
        index, _ = max(matches, key=lambda m: len(m[1]["name"]))
        return entry.document.locate((key, index))

    # Patches

    def _all_patches(self):
        if self._patches is None:
            self._patches = []
            order = 0
            for k in self.chain:
                for patch in k.patches:
                    order += 1
                    docs = [d for d in load_documents(patch.text, drop_nulls=True) if isinstance(d, YamlDocument)]
                    self._patches.append((order, k, patch, docs))
        return self._patches

    def _in_patches(self, rendered: dict[str, Any], path: FieldPath) -> Iterator[_Place]:
        for order, _, patch, docs in self._all_patches():
            shown = display(patch.file, self.root)
            for doc in docs:
                if isinstance(doc.data, list):  # JSON 6902 operations
                    if patch.target is not None and _targets(patch.target, rendered):
                        yield from _in_operations(doc, rendered, path, patch, shown, order)
                elif isinstance(doc.data, dict) and _targets(patch.target or _selector(doc.data), rendered):
                    place = self._in_document(doc, rendered, path, shown, order)
                    yield _Place(place.depth, order, _shifted(place.location, patch.line_offset))

    # Kustomization fields

    def _in_fields(self, rendered: dict[str, Any], source: YamlDocument | None, path: FieldPath) -> Iterator[_Place]:
        order = len(self._all_patches())
        full = len(path)
        for k in self.chain:
            order += 1
            shown = display(k.file, self.root)
            if path == ("metadata", "namespace") and isinstance(k.data.get("namespace"), str):
                yield _Place(full, order, Location(shown, k.line_of(("namespace",))))
            elif path == ("spec", "replicas"):
                for index, item in k.entries("replicas"):
                    if isinstance(item.get("name"), str) and item["name"] in _name(rendered):
                        yield _Place(full, order, Location(shown, k.line_of(("replicas", index, "count"))))
            elif len(path) >= 3 and path[-1] == "image" and path[-3] in _CONTAINER_LISTS:
                written = _value(source.data, follow(rendered, source.data, path)[0]) if source else None
                names = {_image_name(written), _image_name(_value(rendered, path))} - {None}
                for index, item in k.entries("images"):
                    if item.get("name") in names:
                        key = next((f for f in ("newTag", "digest", "newName") if f in item), None)
                        line = k.line_of(("images", index) + ((key,) if key else ()))
                        yield _Place(full, order, Location(shown, line))


def _in_operations(doc: YamlDocument, rendered: Any, path: FieldPath, patch: kz.Patch, shown: str,
                   order: int) -> Iterator[_Place]:
    for index, op in enumerate(doc.data):
        if not isinstance(op, dict) or op.get("op") not in ("add", "replace", "copy", "move"):
            continue
        target = _pointer(op.get("path"))
        common = 0
        while common < min(len(target), len(path)) and target[common] == str(path[common]):
            common += 1
        where = doc.locate((index, "path"))
        depth = common
        if common == len(target) and "value" in op and common < len(path):
            inner, extra = follow(_value(rendered, path[:common]), op["value"], path[common:])
            depth += extra
            if extra:
                where = doc.locate((index, "value") + inner)
        yield _Place(depth, order, _shifted(Location(shown, where.line, where.column), patch.line_offset))


def _pointer(text: Any) -> list[str]:
    if not isinstance(text, str) or not text.startswith("/"):
        return []
    return [part.replace("~1", "/").replace("~0", "~") for part in text[1:].split("/")]


def _targets(target: dict[str, Any], rendered: dict[str, Any]) -> bool:
    kind, name = target.get("kind"), target.get("name")
    if kind and kind != rendered.get("kind"):
        return False
    if not name:
        return True
    own = _name(rendered)
    try:
        return str(name) in own or re.fullmatch(str(name), own) is not None
    except re.error:
        return False


def _selector(document: dict[str, Any]) -> dict[str, Any]:
    return {"kind": document.get("kind") or "", "name": _name(document) or ""}


def _name(document: Any) -> str:
    metadata = document.get("metadata") if isinstance(document, dict) else None
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return name if isinstance(name, str) else ""


def _value(document: Any, path: FieldPath) -> Any:
    for segment in path:
        if isinstance(segment, int) and isinstance(document, list) and 0 <= segment < len(document):
            document = document[segment]
        elif isinstance(segment, str) and isinstance(document, dict):
            document = document.get(segment)
        else:
            return None
    return document


def _image_name(image: Any) -> str | None:
    """`registry:5000/app:1.2@sha256:...` -> `registry:5000/app`."""
    if not isinstance(image, str):
        return None
    image = image.partition("@")[0]
    head, _, last = image.rpartition("/")
    return f"{head}/{last.partition(':')[0]}" if head else last.partition(":")[0]


def _shifted(location: Location, lines: int) -> Location:
    return Location(location.path, location.line + lines, location.column) if lines else location


def _read_documents(file: Path, max_bytes: int) -> Iterator[YamlDocument]:
    try:
        if file.stat().st_size > max_bytes:
            return
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return
    for item in load_documents(text, drop_nulls=True):
        if isinstance(item, YamlError):
            return
        yield item
