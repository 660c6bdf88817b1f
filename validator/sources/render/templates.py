"""Pointing objects rendered by Helm at their templates.

Helm writes `# Source: <chart>/templates/x.yaml` (or `<chart>/charts/<sub>/templates/x.yaml`
for a subchart) before each document; the kubernetes source keeps it as the resource's
`helm-source`. Without the chart name, that is a path inside the chart directory. A
template that is not there (a subchart kept as a `.tgz`) points at the chart's Chart.yaml.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Iterable, Iterator

from validator.model import InputProblem, Location, Resource
from validator.sources.kubernetes import HELM_SOURCE, parse_manifests
from validator.sources.render.resources import RENDERED_FROM, display, rebase
from validator.sources.render.template_lines import TemplateText

MAX_TEMPLATE_BYTES = 4 * 1024 * 1024


def attach_templates(text: str, shown: str, chart: Path, root: Path,
                     metadata: dict[str, str]) -> Iterator[Resource | InputProblem]:
    """The objects of a rendered stream, pointed at their templates in `chart`."""
    parsed = list(parse_manifests(text, shown))
    for item in parsed:
        if isinstance(item, InputProblem):
            yield InputProblem(shown, f"Helm chart rendered output that could not be read: {item.message}")
    yield from point_at_templates([r for r in parsed if isinstance(r, Resource)], chart, root, metadata)


def point_at_templates(resources: Iterable[Resource], chart: Path, root: Path,
                       metadata: dict[str, str]) -> Iterator[Resource]:
    """`resources` (in the order they were rendered), each pointed at its template."""
    resources = list(resources)
    counts = Counter(r.metadata.get(HELM_SOURCE) for r in resources)
    seen: Counter[str | None] = Counter()
    files = _Templates(chart, root)
    for resource in resources:
        source = resource.metadata.get(HELM_SOURCE)
        if source is None:
            yield resource  # not from a template (e.g. a CRD Helm copies as it is)
            continue
        ordinal = seen[source]
        seen[source] += 1
        yield files.attach(resource, source, ordinal, counts[source], metadata)


class _Templates:
    def __init__(self, chart: Path, root: Path):
        self.chart = chart
        self.root = root
        self._texts: dict[Path, TemplateText | None] = {}

    def file(self, source: str) -> Path | None:
        """The template file that `source` names, if it is in the chart directory."""
        parts = source.split("/")[1:]
        if not parts or ".." in parts:
            return None
        candidate = self.chart.joinpath(*parts)
        return candidate if candidate.is_file() else None

    def text(self, file: Path) -> TemplateText | None:
        if file not in self._texts:
            try:
                if file.stat().st_size > MAX_TEMPLATE_BYTES:
                    raise OSError("too large")
                self._texts[file] = TemplateText(file.read_text(encoding="utf-8-sig"))
            except (OSError, UnicodeDecodeError):
                self._texts[file] = None
        return self._texts[file]

    def attach(self, resource: Resource, source: str, ordinal: int, count: int, metadata: dict[str, str]) -> Resource:
        file = self.file(source)
        template = self.text(file) if file else None
        shown = display(file if file else self.chart / "Chart.yaml", self.root)
        kind = resource.kind

        def locate(path):
            if template is None:
                return Location(shown, 1, 1)
            position = template.locate(path, kind, ordinal, count)
            return Location(shown, position.line, position.column)

        return rebase(resource, shown, locate, metadata)


def chart_root_remap(resources: list[Resource], chart_root: Path, root: Path) -> list[Resource]:
    """Pre-rendered Helm output (with `# Source:` comments), pointed at the templates of
    `chart_root`; resources of each input file are counted separately."""
    by_file: dict[str, list[Resource]] = {}
    for resource in resources:
        if resource.metadata.get(HELM_SOURCE):
            by_file.setdefault(resource.path, []).append(resource)
    if not by_file:
        return resources
    remapped: dict[int, Resource] = {}
    metadata = {RENDERED_FROM: display(os.path.abspath(chart_root), root)}
    for group in by_file.values():
        for before, after in zip(group, point_at_templates(group, chart_root, root, metadata)):
            remapped[id(before)] = after
    return [remapped.get(id(r), r) for r in resources]
