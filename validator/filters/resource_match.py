"""Which resources a config entry (an exclusion or an exemption) is about.

Every field that is set must match (each field takes one glob or a list of them, any of
which may match); a field left out matches everything. Paths are matched relative to the
directory of the config file, so an entry means the same wherever tdv is run from.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from validator.engine.targets import selector_matches
from validator.globs import matches_any
from validator.model import Resource

FIELDS = ("kind", "namespace", "name", "path", "address", "labelSelector")


@dataclass(frozen=True)
class ResourceMatch:
    kinds: tuple[str, ...] = ()
    namespaces: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()  # Terraform resource addresses
    label_selector: dict[str, Any] = field(default_factory=dict)
    base: Path | None = None  # the directory `paths` are relative to (the config file's)

    def matches(self, resource: Resource, root: Path) -> bool:
        """`root` is the directory the resource's display path is relative to."""
        if self.kinds and not matches_any(self.kinds, resource.kind):
            return False
        if self.namespaces and not matches_any(self.namespaces, resource.namespace or ""):
            return False
        if self.names and not matches_any(self.names, resource.name):
            return False
        if self.addresses and not (resource.identity and matches_any(self.addresses, resource.identity)):
            return False
        if self.paths and not matches_any(self.paths, self.relative_path(resource.path, root), path=True):
            return False
        return not self.label_selector or selector_matches(self.label_selector, resource.labels)

    def relative_path(self, display: str, root: Path) -> str:
        if self.base is None or display.startswith("<"):  # <stdin>
            return display
        absolute = os.path.normpath(os.path.join(root, display))
        try:
            return Path(os.path.relpath(absolute, self.base)).as_posix()
        except ValueError:  # another drive (Windows): nothing below the config directory
            return absolute

    def describe(self) -> str:
        """e.g. `namespace kube-system, path vendor/**`."""
        parts = [
            f"{label} {', '.join(values)}"
            for label, values in (("kind", self.kinds), ("namespace", self.namespaces), ("name", self.names),
                                  ("address", self.addresses), ("path", self.paths))
            if values
        ]
        if self.label_selector:
            parts.append("label selector")
        return ", ".join(parts) or "every resource"
