"""Rendering from source: Helm charts and Kustomize overlays found in the scanned tree are
rendered, and what they render is evaluated like any manifest, with findings pointed at
the template, base or patch a developer edits (see docs/rendering.md).

A chart or overlay that cannot be rendered is one input error naming it; the rest of the
scan goes on.
"""

from __future__ import annotations

import json
import logging
import traceback
from pathlib import Path
from typing import Iterator

from validator.model import InputProblem, Resource
from validator.sources.render.kustomization import FILE_NAMES as KUSTOMIZATION_FILES
from validator.sources.render.options import RenderOptions
from validator.sources.render.plan import HELM, Target, split
from validator.sources.render.resources import RENDERED_FROM, display
from validator.sources.render.templates import chart_root_remap

__all__ = ["KUSTOMIZATION_FILES", "RENDERED_FROM", "RenderOptions", "Target", "chart_root_remap", "render", "split"]

log = logging.getLogger(__name__)


def render(targets: list[Target], options: RenderOptions, root: Path,
           max_bytes: int) -> Iterator[Resource | InputProblem]:
    """The resources of each chart and overlay. An object that several overlays render
    the same way (a base they share, unchanged) is evaluated once."""
    seen: set[tuple[str, ...]] = set()
    for target in targets:
        for item in _render_one(target, options, root, max_bytes):
            if isinstance(item, Resource):
                key = (item.path, item.api_version, item.kind, item.namespace or "", item.name,
                       json.dumps(item.document, sort_keys=True, default=str))
                if key in seen:
                    continue
                seen.add(key)
            yield item


def _render_one(target: Target, options: RenderOptions, root: Path,
                max_bytes: int) -> Iterator[Resource | InputProblem]:
    from validator.sources.render import helm, kustomize

    try:
        if target.kind == HELM:
            yield from helm.render_chart(target.directory, options, root, max_bytes)
        else:
            yield from kustomize.render_overlay(target.directory, root, max_bytes)
    except Exception as error:  # a last resort: one chart or overlay must not stop the scan
        where = traceback.extract_tb(error.__traceback__)[-1]
        log.debug("%s: %s at %s:%d", target.directory, type(error).__name__, where.filename, where.lineno)
        what = "Helm chart" if target.kind == HELM else "Kustomize overlay"
        yield InputProblem(display(target.directory, root), f"{what} could not be rendered: internal error"
                                                          f" ({type(error).__name__})")
