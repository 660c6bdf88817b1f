"""Rendering a Kustomize overlay with `kustomize build` (or `kubectl kustomize`).

The overlay is built through a wrapper kustomization, written in a temporary directory,
that only refers to it and asks for origin annotations: the user's files are never
modified. Exec and alpha plugins stay disabled (no `--enable-exec`, no
`--enable-alpha-plugins`, no `--enable-helm`), and remote bases are refused: nothing is
fetched and nothing in the overlay is run.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Iterator

from validator.model import InputProblem, Resource
from validator.sources.kubernetes import parse_manifests
from validator.sources.render import kustomization as kz, process
from validator.sources.render.kustomize_origin import OverlaySources, take_origin
from validator.sources.render.resources import RENDERED_FROM, display, rebase

WHAT = "Kustomize overlay"
# What Kustomize says about the wrapper kustomization before it comes to the overlay's problem.
_WRAPPER_LAYER = re.compile(r"^accumulating resources: accumulation err='accumulating resources from '[^']*': "
                            r"'[^']*' must resolve to a file': (?:recursed accumulation of|couldn't make target for)"
                            r" path '[^']*': ")


def renderer() -> list[str] | None:
    """The command that builds a kustomization directory given after it."""
    standalone = process.find("kustomize")
    if standalone:
        return [str(standalone), "build"]
    kubectl = process.find("kubectl")
    return [str(kubectl), "kustomize"] if kubectl else None


def render_overlay(directory: Path, root: Path, max_bytes: int) -> Iterator[Resource | InputProblem]:
    shown = display(directory, root)
    command = renderer()
    if command is None:
        yield InputProblem(shown, f"{WHAT} not rendered: neither kustomize nor kubectl is on PATH"
                                " (install one, or scan with --no-render)")
        return
    chain = uses(directory, max_bytes)
    remote = [ref for k in chain for ref in k.remote]
    if remote:
        yield InputProblem(shown, f"{WHAT} not rendered: it refers to a remote base ({remote[0]}),"
                                " and tdv does not fetch anything; vendor it in the tree")
        return
    with tempfile.TemporaryDirectory(prefix="tdv-kustomize-") as temporary:
        build_dir = Path(os.path.realpath(temporary))
        real_root = os.path.realpath(root)
        wrapper = os.path.relpath(os.path.realpath(directory), build_dir)
        (build_dir / "kustomization.yaml").write_text(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
            f"resources:\n- {_quoted(wrapper)}\nbuildMetadata: [originAnnotations]\n", encoding="utf-8")
        hide = {os.path.relpath(real_root, build_dir) + os.sep: "", real_root + os.sep: "", str(build_dir): "."}
        try:
            text = process.run([*command, str(build_dir)], max_bytes, hide, drop=_WRAPPER_LAYER)
        except process.RenderError as error:
            yield InputProblem(shown, f"{WHAT} could not be rendered: {error}")
            return
        sources = OverlaySources(chain, build_dir, root, max_bytes)
        own = kz.find_file(directory) or directory
        for item in parse_manifests(text, shown):
            if isinstance(item, InputProblem):
                yield InputProblem(shown, f"{WHAT} rendered output could not be read: {item.message}")
                continue
            locate, path = sources.locator(item.document, take_origin(item.document), own)
            yield rebase(item, path, locate, {RENDERED_FROM: shown})


def uses(directory: Path, max_bytes: int) -> list[kz.Kustomization]:
    """The overlay's kustomization and every local one it uses, innermost first."""
    seen: set[str] = set()
    order: list[kz.Kustomization] = []

    def visit(folder: Path) -> None:
        real = os.path.realpath(folder)
        if real in seen:
            return
        seen.add(real)
        file = kz.find_file(folder)
        if file is None:
            return
        loaded = kz.load(file, max_bytes)
        for reference in loaded.references:
            if reference.is_dir():
                visit(reference)
        order.append(loaded)

    visit(Path(os.path.abspath(directory)))
    return order


def _quoted(path: str) -> str:
    return '"' + path.replace("\\", "\\\\").replace('"', '\\"') + '"'
