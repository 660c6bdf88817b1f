"""Rendered resources: evaluated as rendered, reported where a developer edits them."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from validator.model import FieldPath, Location, Resource
from validator.skip_markers import annotation_rules

RENDERED_FROM = "rendered-from"  # metadata: the chart or overlay a resource was rendered from

FieldLocator = Callable[[FieldPath], Location]


@dataclass(eq=False)
class RenderedResource(Resource):
    """A resource whose fields may come from several files (a base and its patches)."""

    field_locator: FieldLocator | None = None

    def locate(self, path: FieldPath) -> Location:
        if self.field_locator is None:
            return super().locate(path)
        return self.field_locator(path)


def rebase(resource: Resource, path: str, locator: FieldLocator, metadata: dict[str, str]) -> RenderedResource:
    """`resource` (as parsed from the rendered output), pointed at the files it came from."""
    rendered = RenderedResource(
        kind=resource.kind, api_version=resource.api_version, name=resource.name, namespace=resource.namespace,
        document=resource.document, path=path, doc_index=resource.doc_index,
        metadata={**resource.metadata, **metadata}, field_locator=locator,
    )
    rendered.suppressions = annotation_rules(rendered)
    return rendered


def display(path: str | os.PathLike[str], root: Path) -> str:
    """`path` relative to the scan root (tried with links resolved too), with forward slashes."""
    absolute = os.path.abspath(path)
    for base in (str(root), os.path.realpath(root)):
        relative = os.path.relpath(absolute, base) if absolute.startswith(base.rstrip(os.sep) + os.sep) else None
        if relative:
            return Path(relative).as_posix()
    return Path(absolute).as_posix()
