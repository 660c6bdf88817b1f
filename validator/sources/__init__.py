"""Sources: turn command-line paths into Resources (and InputErrors for what cannot be read).

Each input kind exposes `SUFFIXES`, `accepts(suffix, text)` and `parse(sources, context)`.
The first kind that accepts a file parses it. A kind with `GROUPED = True` gets the files
of one directory together (a Terraform module), after every other file has been parsed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Protocol, Iterator

from validator.model import InputError, Resource
from validator.sources import files, kubernetes, terraform_hcl, terraform_plan
from validator.sources import render as rendering
from validator.sources.context import SourceContext
from validator.gc_pause import without_cycle_collection

Source = tuple[files.InputFile, str]  # a file and its text


class SourceKind(Protocol):
    SUFFIXES: frozenset[str]
    GROUPED: bool

    def accepts(self, suffix: str, text: str) -> bool: ...

    def parse(self, sources: list[Source], context: SourceContext) -> Iterator[Resource | InputError]: ...


class _TerraformPlan:
    SUFFIXES = terraform_plan.SUFFIXES
    GROUPED = False

    @staticmethod
    def accepts(suffix: str, text: str) -> bool:
        return terraform_plan.accepts(suffix, text)

    @staticmethod
    def parse(sources: list[Source], context: SourceContext) -> Iterator[Resource | InputError]:
        for item, text in sources:
            yield from terraform_plan.parse(text, item, context)


class _TerraformFiles:
    SUFFIXES = terraform_hcl.SUFFIXES
    GROUPED = True

    @staticmethod
    def accepts(suffix: str, text: str) -> bool:
        return suffix in terraform_hcl.SUFFIXES

    @staticmethod
    def parse(sources: list[Source], context: SourceContext) -> Iterator[Resource | InputError]:
        return terraform_hcl.scan_directory(sources, context)


class _Kubernetes:
    SUFFIXES = kubernetes.SUFFIXES
    GROUPED = False

    @staticmethod
    def accepts(suffix: str, text: str) -> bool:
        return suffix in kubernetes.SUFFIXES or suffix == ""

    @staticmethod
    def parse(sources: list[Source], context: SourceContext) -> Iterator[Resource | InputError]:
        for item, text in sources:
            yield from kubernetes.parse_manifests(text, item.display)


# Order matters: a plan is JSON, which the Kubernetes kind would also accept.
SOURCE_KINDS: list[SourceKind] = [_TerraformPlan(), _TerraformFiles(), _Kubernetes()]


@dataclass
class Inputs:
    resources: list[Resource] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    files: int = 0


@without_cycle_collection
def collect(arguments: Iterable[str], root: Path, max_bytes: int = files.MAX_FILE_BYTES,
            tf_root: Path | None = None, render: rendering.RenderOptions | None = None) -> Inputs:
    """Read the inputs; Helm charts and Kustomize overlays are rendered unless `render`
    says not to (see validator.sources.render)."""
    suffixes = frozenset().union(*(kind.SUFFIXES for kind in SOURCE_KINDS))
    context = SourceContext(root, max_bytes, tf_root)
    options = render or rendering.RenderOptions()
    inputs = Inputs()
    groups: dict[tuple[int, str], list[Source]] = {}
    items: Iterable[files.InputFile | InputError] = files.discover(
        arguments, root, suffixes, frozenset(rendering.KUSTOMIZATION_FILES) if options.enabled else frozenset())
    targets: list[rendering.Target] = []
    if options.enabled:
        found = list(items)
        items, targets = rendering.split(found, max_bytes)
        inputs.files += len(found) - len(items)  # the files of the charts and overlays
    for item in items:
        if isinstance(item, InputError):
            inputs.errors.append(item)
            continue
        inputs.files += 1
        text = files.read_text(item, max_bytes)
        if isinstance(text, InputError):
            inputs.errors.append(text)
            continue
        for index, kind in enumerate(SOURCE_KINDS):
            if kind.accepts(item.suffix, text):
                if kind.GROUPED and item.path is not None:
                    groups.setdefault((index, os.path.abspath(item.path.parent)), []).append((item, text))
                else:
                    _add(inputs, kind.parse([(item, text)], context))
                break
    for (index, _), sources in groups.items():
        _add(inputs, SOURCE_KINDS[index].parse(sources, context))
    if options.chart_root is not None:
        inputs.resources = rendering.chart_root_remap(inputs.resources, options.chart_root, root)
    _add(inputs, rendering.render(targets, options, root, max_bytes))
    return inputs


def _add(inputs: Inputs, parsed: Iterable[Resource | InputError]) -> None:
    for item in parsed:
        (inputs.errors if isinstance(item, InputError) else inputs.resources).append(item)
