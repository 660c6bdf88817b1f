"""Sources: turn command-line paths into Resources (and InputProblems for what cannot be read).

Each input kind exposes `SUFFIXES`, `accepts(suffix, text)` and `parse(sources, context)`.
The first kind that accepts a file parses it. A kind with `GROUPED = True` gets the files
of one directory together (a Terraform module), after every other file has been parsed.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Protocol

from validator.model import InputProblem, Resource
from validator.sources import files, kubernetes, partition, render as rendering, terraform_plan
from validator.sources.context import SourceContext
from validator.sources.files import InputFile
from validator.sources.recognise import report_format

Source = tuple[files.InputFile, str]  # a file and its text
log = logging.getLogger("validator")


class SourceKind(Protocol):
    SUFFIXES: frozenset[str]
    GROUPED: bool

    def accepts(self, suffix: str, text: str) -> bool: ...

    def parse(self, sources: list[Source], context: SourceContext) -> Iterator[Resource | InputProblem]: ...


class _TerraformPlan:
    SUFFIXES = terraform_plan.SUFFIXES
    GROUPED = False

    @staticmethod
    def accepts(suffix: str, text: str) -> bool:
        return terraform_plan.accepts(suffix, text)

    @staticmethod
    def parse(sources: list[Source], context: SourceContext) -> Iterator[Resource | InputProblem]:
        for item, text in sources:
            yield from terraform_plan.parse(text, item, context)


class _TerraformFiles:
    SUFFIXES = frozenset({".tf"})  # terraform_hcl.SUFFIXES: python-hcl2 is imported only to parse
    GROUPED = True

    @staticmethod
    def accepts(suffix: str, text: str) -> bool:
        return suffix in _TerraformFiles.SUFFIXES

    @staticmethod
    def parse(sources: list[Source], context: SourceContext) -> Iterator[Resource | InputProblem]:
        from validator.sources import terraform_hcl

        return terraform_hcl.scan_directory(sources, context)


class _Kubernetes:
    SUFFIXES = kubernetes.SUFFIXES
    GROUPED = False

    @staticmethod
    def accepts(suffix: str, text: str) -> bool:
        return suffix in kubernetes.SUFFIXES or suffix == ""

    @staticmethod
    def parse(sources: list[Source], context: SourceContext) -> Iterator[Resource | InputProblem]:
        for item, text in sources:
            yield from kubernetes.parse_manifests(text, item.display)


# Order matters: a plan is JSON, which the Kubernetes kind would also accept.
_KUBERNETES = _Kubernetes()
SOURCE_KINDS: list[SourceKind] = [_TerraformPlan(), _TerraformFiles(), _KUBERNETES]


@dataclass
class Inputs:
    resources: list[Resource] = field(default_factory=list)
    errors: list[InputProblem] = field(default_factory=list)
    files: int = 0
    # Files left for the caller to read with `read_file` (see `collect`), each with the
    # index in `errors` where its errors belong.
    deferred: list[tuple[InputFile, int]] = field(default_factory=list)


def can_defer(item: files.InputFile) -> bool:
    """True for a file on disk that only the Kubernetes kind reads (YAML): its resources
    depend on no other file. (A plan claims its module's `.tf` files; see terraform_plan.)"""
    return item.path is not None and all(
        (item.suffix in kind.SUFFIXES) == (kind is _KUBERNETES) for kind in SOURCE_KINDS)


def collect(arguments: Iterable[str], root: Path, max_bytes: int = files.MAX_FILE_BYTES,
            tf_root: Path | None = None, render: rendering.RenderOptions | None = None,
            defer: bool = False, skip: frozenset[str] = frozenset(), part: partition.Part | None = None) -> Inputs:
    """Read the inputs; Helm charts and Kustomize overlays are rendered unless `render`
    says not to (see validator.sources.render).

    With `defer`, the files that `can_defer` are not read but listed in `Inputs.deferred`,
    for the caller to read with `read_file` (in worker processes, see validator.parallel).
    Files in `skip` (absolute paths: the reports this run writes) are left out. With `part`,
    only the inputs of that part of the scan are read (see validator.sources.partition).
    """
    suffixes = frozenset().union(*(kind.SUFFIXES for kind in SOURCE_KINDS))
    context = SourceContext(root, max_bytes, tf_root)
    options = render or rendering.RenderOptions()
    defer = defer and options.chart_root is None  # that remaps resources across files: read all here
    inputs = Inputs()
    groups: dict[tuple[int, str], list[Source]] = {}
    items: Iterable[files.InputFile | InputProblem] = files.discover(
        arguments, root, suffixes, frozenset(rendering.KUSTOMIZATION_FILES) if options.enabled else frozenset())
    targets: list[rendering.Target] = []
    consumed: list[InputFile] = []  # the files of the charts and overlays
    if options.enabled:
        found = list(items)
        items, targets = rendering.split(found, max_bytes)
        kept = set(map(id, items))
        consumed = [item for item in found if isinstance(item, InputFile) and id(item) not in kept]
    inputs.files += len(consumed)
    if part is not None:
        chosen = partition.select(part, list(items), targets, consumed, root,
                                  reads_alone=lambda item: can_defer(item) and options.chart_root is None)
        items, targets, inputs.files = chosen.items, chosen.targets, chosen.consumed
    for item in items:
        if isinstance(item, InputProblem):
            inputs.errors.append(item)
            continue
        if item.path is not None and os.path.abspath(item.path) in skip:
            log.debug("%s: not scanned: this scan writes a report there", item.display)
            continue
        inputs.files += 1
        if defer and can_defer(item):
            inputs.deferred.append((item, len(inputs.errors)))
            continue
        parsed = read_file(item, context, groups)
        if isinstance(parsed, NotAnInput):
            inputs.files -= 1
        _add(inputs, parsed)
    for (index, _), sources in groups.items():
        _add(inputs, SOURCE_KINDS[index].parse(sources, context))
    if options.chart_root is not None:
        inputs.resources = rendering.chart_root_remap(inputs.resources, options.chart_root, root)
    _add(inputs, rendering.render(targets, options, root, max_bytes))
    return inputs


class NotAnInput:
    """What `read_file` gives for a file that is not an input but a report: nothing."""

    def __iter__(self) -> Iterator[Resource | InputProblem]:
        return iter(())


def read_file(item: files.InputFile, context: SourceContext,
              groups: dict[tuple[int, str], list[Source]] | None = None) -> Iterable[Resource | InputProblem]:
    """The resources and errors of one file. A file of a grouped kind is added to `groups`
    instead, to be parsed with the rest of its directory."""
    text = files.read_text(item, context.max_bytes)
    if isinstance(text, InputProblem):
        return [text]
    kind_of_report = report_format(text)
    if kind_of_report:
        log.debug("%s: not scanned: a %s, not an input", item.display, kind_of_report)
        return NotAnInput()
    for index, kind in enumerate(SOURCE_KINDS):
        if kind.accepts(item.suffix, text):
            if kind.GROUPED and item.path is not None and groups is not None:
                groups.setdefault((index, os.path.abspath(item.path.parent)), []).append((item, text))
                return []
            return kind.parse([(item, text)], context)
    return []


def _add(inputs: Inputs, parsed: Iterable[Resource | InputProblem]) -> None:
    for item in parsed:
        if isinstance(item, InputProblem):
            inputs.errors.append(item)
        else:
            inputs.resources.append(item)
