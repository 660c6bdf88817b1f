"""Reading a kustomization file: what it refers to, its patches and its field transformers.

Only what tdv needs to decide what to render and where a rendered field came from; the
renderer itself (`kustomize build`) remains the authority on what the overlay produces.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from validator.model import FieldPath
from validator.sources.yaml_loader import YamlDocument, YamlError, load_documents

FILE_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
COMPONENT = "Component"

# Fields whose entries name files or directories (a string, or a mapping with `path`).
_PATH_LISTS = ("resources", "bases", "components", "crds", "configurations", "patchesStrategicMerge",
               "generators", "transformers", "validators")
_PATH_ENTRIES = ("patches", "patchesJson6902", "replacements")
_GENERATORS = ("configMapGenerator", "secretGenerator")
_REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|git@|github\.com/|gitlab\.com/|bitbucket\.org/)", re.IGNORECASE)


@dataclass
class Patch:
    """One patch of a kustomization: a file or an inline text, with its optional target."""

    file: Path  # where it is written (the kustomization itself for an inline patch)
    text: str
    line_offset: int  # add to a line in `text` to get the line in `file`
    target: dict[str, Any] | None


@dataclass
class Kustomization:
    directory: Path
    file: Path
    kind: str = "Kustomization"
    document: YamlDocument | None = None
    error: str | None = None
    references: list[Path] = field(default_factory=list)  # local files and directories, resolved
    remote: list[str] = field(default_factory=list)  # references that would be fetched
    patches: list[Patch] = field(default_factory=list)

    @property
    def data(self) -> dict[str, Any]:
        data = self.document.data if self.document else None
        return data if isinstance(data, dict) else {}

    def entries(self, key: str) -> list[tuple[int, dict[str, Any]]]:
        """The mapping entries of a list field, with their index."""
        value = self.data.get(key)
        items = value if isinstance(value, list) else []
        return [(index, item) for index, item in enumerate(items) if isinstance(item, dict)]

    def line_of(self, path: FieldPath) -> int:
        return self.document.locate(path).line if self.document else 1


def find_file(directory: Path) -> Path | None:
    for name in FILE_NAMES:
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


def load(file: Path, max_bytes: int) -> Kustomization:
    """Read a kustomization file; a problem is recorded on it, never raised."""
    result = Kustomization(file.parent, file)
    try:
        if file.stat().st_size > max_bytes:
            result.error = "file is too large"
            return result
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        result.error = f"cannot read {file.name}: {getattr(error, 'strerror', None) or type(error).__name__}"
        return result
    for item in load_documents(text, drop_nulls=True):
        if isinstance(item, YamlError):
            result.error = f"{file.name}:{item.line or 1}: {item.message}"
            return result
        result.document = item
        break
    kind = result.data.get("kind")
    result.kind = kind if isinstance(kind, str) and kind else "Kustomization"
    _read_references(result)
    _read_patches(result, text)
    return result


def _read_references(k: Kustomization) -> None:
    names: list[str] = []
    for key in _PATH_LISTS:
        value = k.data.get(key)
        names += [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
    for key in _PATH_ENTRIES:
        names += [item["path"] for _, item in k.entries(key) if isinstance(item.get("path"), str)]
    names += _generator_files(k)
    openapi = k.data.get("openapi")
    if isinstance(openapi, dict) and isinstance(openapi.get("path"), str):
        names.append(openapi["path"])
    for name in names:
        if "\n" in name or not name.strip():
            continue  # an inline document, not a path
        if _REMOTE.match(name.strip()):
            k.remote.append(name.strip())
            continue
        k.references.append(Path(os.path.normpath(k.directory / name.strip())))


def _generator_files(k: Kustomization) -> list[str]:
    """The files the ConfigMap and Secret generators read (`files`, `envs`, `env`)."""
    names: list[str] = []
    for key in _GENERATORS:
        for _, item in k.entries(key):
            for source in ("files", "envs"):
                values = item.get(source)
                if isinstance(values, list):
                    names += [v.partition("=")[2] or v for v in values if isinstance(v, str)]
            if isinstance(item.get("env"), str):
                names.append(item["env"])
    return names


def _read_patches(k: Kustomization, text: str) -> None:
    lines = text.splitlines()
    for key in ("patches", "patchesJson6902"):
        for index, item in k.entries(key):
            target = item.get("target") if isinstance(item.get("target"), dict) else None
            if isinstance(item.get("path"), str):
                _add_file_patch(k, k.directory / item["path"], target)
            elif isinstance(item.get("patch"), str):
                k.patches.append(_inline(k, (key, index, "patch"), item["patch"], lines, target))
    value = k.data.get("patchesStrategicMerge")
    for index, entry in enumerate(value if isinstance(value, list) else []):
        if isinstance(entry, str) and "\n" in entry:
            k.patches.append(_inline(k, ("patchesStrategicMerge", index), entry, lines, None))
        elif isinstance(entry, str):
            _add_file_patch(k, k.directory / entry, None)


def _add_file_patch(k: Kustomization, file: Path, target: dict[str, Any] | None) -> None:
    try:
        k.patches.append(Patch(Path(os.path.normpath(file)), file.read_text(encoding="utf-8-sig"), 0, target))
    except (OSError, UnicodeDecodeError):
        pass  # the renderer reports a patch it cannot read


def _inline(k: Kustomization, path: FieldPath, text: str, lines: list[str], target: dict[str, Any] | None) -> Patch:
    """An inline patch: a block scalar starts on the line after its key."""
    key_line = k.line_of(path)
    written = lines[key_line - 1] if 0 < key_line <= len(lines) else ""
    block = re.search(r"[|>][0-9+-]*\s*(#.*)?$", written) is not None
    return Patch(k.file, text, key_line if block else key_line - 1, target)
