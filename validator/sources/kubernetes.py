"""Kubernetes manifests: YAML or JSON documents become Resources that know their positions."""

from __future__ import annotations

import bisect
import logging
import re
from typing import Any, Iterator

from validator.model import FieldPath, InputError, Position, Resource
from validator.sources.yaml_loader import YamlDocument, YamlError, load_documents

log = logging.getLogger(__name__)

SUFFIXES = frozenset({".yaml", ".yml", ".json"})
HELM_SOURCE = "helm-source"
_HELM_SOURCE_COMMENT = re.compile(r"^# Source: (\S.*?)\s*$", re.MULTILINE)


def is_kubernetes_object(document: Any) -> bool:
    if not isinstance(document, dict):
        return False
    kind, api_version = document.get("kind"), document.get("apiVersion")
    return isinstance(kind, str) and bool(kind) and isinstance(api_version, str) and bool(api_version)


def parse_manifests(text: str, display: str) -> Iterator[Resource | InputError]:
    """Turn a (multi-document) YAML or JSON text into Resources, expanding `*List` kinds."""
    helm_sources = _HelmSources(text)
    ordinal = 0
    previous_end = -1
    for item in load_documents(text, drop_nulls=True):
        if isinstance(item, YamlError):
            yield InputError(display, item.message, item.line)
            continue
        source = helm_sources.between(previous_end, item.root.start_mark.line)
        previous_end = item.root.end_mark.line
        for resource in _resources(item, display, source):
            resource.doc_index = ordinal
            ordinal += 1
            yield resource


def _resources(doc: YamlDocument, display: str, helm_source: str | None) -> Iterator[Resource]:
    data = doc.data
    if not is_kubernetes_object(data):
        log.debug("%s:%d: skipping a document that is not a Kubernetes object", display, doc.line)
        return
    metadata = {HELM_SOURCE: helm_source} if helm_source else {}
    if data["kind"].endswith("List") and isinstance(data.get("items"), list):
        for index, item in enumerate(data["items"]):
            if not is_kubernetes_object(item):
                log.debug("%s: skipping items[%d]: not a Kubernetes object", display, index)
                continue
            yield _resource(item, display, doc, ("items", index), metadata)
        return
    yield _resource(data, display, doc, (), metadata)


def _resource(
    data: dict[str, Any], display: str, doc: YamlDocument, prefix: FieldPath, metadata: dict[str, str]
) -> Resource:
    meta = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    name, namespace = meta.get("name"), meta.get("namespace")

    def locator(path: FieldPath) -> Position:
        return doc.locate(prefix + path)

    return Resource(
        kind=data["kind"],
        api_version=data["apiVersion"],
        name=str(name) if name is not None else "",
        namespace=str(namespace) if namespace not in (None, "") else None,
        document=data,
        path=display,
        locator=locator,
        metadata=dict(metadata),
    )


class _HelmSources:
    """Finds the `# Source: chart/templates/x.yaml` comment that precedes a document."""

    def __init__(self, text: str):
        self.lines: list[int] = []
        self.sources: list[str] = []
        if "# Source: " not in text:
            return
        line, offset = 0, 0
        for match in _HELM_SOURCE_COMMENT.finditer(text):
            line += text.count("\n", offset, match.start())
            offset = match.start()
            self.lines.append(line)
            self.sources.append(match.group(1))

    def between(self, after_line: int, before_line: int) -> str | None:
        """The last Source comment on a line in (after_line, before_line], 0-based."""
        index = bisect.bisect_right(self.lines, before_line) - 1
        if index >= 0 and self.lines[index] > after_line:
            return self.sources[index]
        return None
