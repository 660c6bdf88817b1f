"""What the command line says about rendering charts and overlays."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEFAULT_RELEASE = "release-name"  # as `helm template` names it
DEFAULT_NAMESPACE = "default"


@dataclass(frozen=True)
class RenderOptions:
    enabled: bool = True  # False: `--no-render`, every file is scanned as it is
    helm_values: tuple[Path, ...] = ()  # values files, in order (later ones win)
    helm_set: tuple[str, ...] = ()  # `key=value` overrides, applied after the files
    helm_release: str = DEFAULT_RELEASE
    helm_namespace: str = DEFAULT_NAMESPACE
    kube_version: str | None = None  # what `.Capabilities.KubeVersion` reports
    chart_root: Path | None = None  # the chart that pre-rendered input with `# Source:` comments came from
