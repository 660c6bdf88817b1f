"""Which inputs are rendered rather than read as manifests.

- A directory with a `Chart.yaml` is a Helm chart: it is rendered, and none of its files
  (templates, values, subcharts in `charts/`, tests) is read as a manifest. A chart inside
  another chart's directory is a subchart and is rendered with it.
- A directory with a kustomization file (`kustomization.yaml`, `kustomization.yml` or
  `Kustomization`) belongs to Kustomize: none of its files, and no file that a
  kustomization of the scan refers to, is read as a manifest. It is rendered unless it is
  a Component, or another kustomization of the scan refers to it (a base of an overlay):
  what a base holds is reported through the overlays that use it, pointed at the base's
  own files.

The scan arguments are what decide: a file named on the command line counts as in its
directory, so naming a chart's Chart.yaml (or a kustomization file) renders that directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from validator.model import InputProblem
from validator.sources.files import InputFile
from validator.sources.render import kustomization as kz

CHART_FILE = "Chart.yaml"
HELM, KUSTOMIZE = "helm", "kustomize"


@dataclass(frozen=True)
class Target:
    kind: str  # HELM or KUSTOMIZE
    directory: Path
    # What else it reads: for an overlay, the files and folders its kustomizations refer to,
    # directly or through its bases (overlays sharing a base are rendered together; see
    # validator.sources.partition)
    uses: frozenset[Path] = frozenset()


def split(items: Iterable[InputFile | InputProblem],
          max_bytes: int) -> tuple[list[InputFile | InputProblem], list[Target]]:
    """The items still to read as manifests, and the charts and overlays to render."""
    items = list(items)
    files = [(Path(os.path.abspath(i.path)), i) for i in items if isinstance(i, InputFile) and i.path is not None]
    charts = _outermost({path.parent for path, _ in files if path.name == CHART_FILE})
    owned_dirs: dict[Path, Path] = {}
    for path, _ in files:
        if path.name in kz.FILE_NAMES and not _inside(path, charts):
            current = owned_dirs.get(path.parent)
            if current is None or kz.FILE_NAMES.index(path.name) < kz.FILE_NAMES.index(current.name):
                owned_dirs[path.parent] = path
    loaded = {folder: kz.load(file, max_bytes) for folder, file in owned_dirs.items()}
    referenced = {ref for k in loaded.values() for ref in k.references}
    overlays = [folder for folder, k in loaded.items() if k.kind != kz.COMPONENT and folder not in referenced]
    kept = [item for item in items if not (isinstance(item, InputFile) and item.path is not None
                                           and _consumed(Path(os.path.abspath(item.path)), charts, loaded, referenced))]
    targets = [Target(HELM, c) for c in _in_order(charts, files)] + \
              [Target(KUSTOMIZE, o, _closure(o, loaded)) for o in _in_order(set(overlays), files)]
    return kept, targets


def _closure(folder: Path, loaded: dict[Path, kz.Kustomization]) -> frozenset[Path]:
    """Every file and folder the kustomization in `folder` refers to, through its bases too."""
    seen: set[Path] = set()
    pending = list(loaded[folder].references)
    while pending:
        path = pending.pop()
        if path not in seen:
            seen.add(path)
            if path in loaded:
                pending.extend(loaded[path].references)
    return frozenset(seen)


def _outermost(folders: set[Path]) -> set[Path]:
    return {f for f in folders if not any(parent in folders for parent in f.parents)}


def _inside(path: Path, folders: set[Path]) -> bool:
    return any(parent in folders for parent in path.parents)


def _consumed(path: Path, charts: set[Path], kustomize_dirs: dict[Path, kz.Kustomization],
              referenced: set[Path]) -> bool:
    return path.parent in kustomize_dirs or path in referenced or _inside(path, charts)


def _in_order(folders: set[Path], files: list[tuple[Path, InputFile]]) -> list[Path]:
    """`folders` in the order the walk met them."""
    order: dict[Path, int] = {}
    for index, (path, _) in enumerate(files):
        order.setdefault(path.parent, index)
    return sorted(folders, key=lambda f: (order.get(f, len(files)), str(f)))
