"""Kubernetes manifests: YAML or JSON documents become Resources that know their positions."""

from __future__ import annotations

import bisect
import json
import logging
import re
import traceback
from collections.abc import Iterator
from typing import Any

from validator.model import FieldPath, InputProblem, Position, Resource
from validator.skip_markers import annotation_rules
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


def parse_manifests(text: str, display: str) -> Iterator[Resource | InputProblem]:
    """Turn a (multi-document) YAML or JSON text into Resources, expanding `*List` kinds."""
    try:
        yield from _parse_manifests(text, display)
    except Exception as error:  # noqa: BLE001 (a last resort: one file must not stop the scan with a traceback)
        where = traceback.extract_tb(error.__traceback__)[-1]  # the code, never the input's content
        log.debug("%s: %s at %s:%d", display, type(error).__name__, where.filename, where.lineno)
        yield InputProblem(display, f"could not be read: internal error ({type(error).__name__})")


def _parse_manifests(text: str, display: str) -> Iterator[Resource | InputProblem]:
    if _is_json(display):
        problem = _json_syntax_error(text, display)
        if problem:
            yield problem
            return
    helm_sources = _HelmSources(text)
    ordinal = 0
    previous_end = 0
    for item in load_documents(text, drop_nulls=True):
        if isinstance(item, YamlError):
            yield InputProblem(display, _named_syntax(item.message, display), item.line)
            continue
        source = helm_sources.between(previous_end, item.line)
        previous_end = item.end_line
        for resource in _resources(item, display, source):
            if isinstance(resource, InputProblem):
                yield resource
                continue
            resource.doc_index = ordinal
            ordinal += 1
            yield resource


def _resources(doc: YamlDocument, display: str, helm_source: str | None) -> Iterator[Resource | InputProblem]:
    data = doc.data
    if not isinstance(data, dict):
        # kubectl refuses these too; a mapping without kind (values.yaml, Chart.yaml) is fine
        yield InputProblem(display, f"expected a Kubernetes object (a mapping), found {_kind_of(data)}", doc.line)
        return
    if not is_kubernetes_object(data):
        log.debug("%s:%d: skipping a document that is not a Kubernetes object", display, doc.line)
        return
    metadata = {HELM_SOURCE: helm_source} if helm_source else {}
    if data["kind"].endswith("List") and isinstance(data.get("items"), list):
        for index, item in enumerate(data["items"]):
            if not is_kubernetes_object(item):
                log.debug("%s: skipping items[%d]: not a Kubernetes object", display, index)
                continue
            yield _checked_resource(item, display, doc, ("items", index), metadata)
        return
    yield _checked_resource(data, display, doc, (), metadata)


def _checked_resource(
    data: dict[str, Any], display: str, doc: YamlDocument, prefix: FieldPath, metadata: dict[str, str]
) -> Resource | InputProblem:
    """The resource, or an input error when its metadata could not be read by Kubernetes."""
    problem, path = _metadata_problem(data.get("metadata"))
    if problem:
        return InputProblem(display, f"{data['kind']}: {problem}", doc.locate(prefix + path).line)
    return _resource(data, display, doc, prefix, metadata)


def _metadata_problem(meta: Any) -> tuple[str | None, FieldPath]:
    if meta is None:
        return None, ()
    if not isinstance(meta, dict):
        return f"metadata must be a mapping, not {_kind_of(meta)}", ("metadata",)
    for field in ("name", "namespace"):
        value = meta.get(field)
        if value is not None and not isinstance(value, str):
            return f"metadata.{field} must be a string, not {_kind_of(value)}", ("metadata", field)
    return None, ()


def _is_json(display: str) -> bool:
    return display.lower().endswith(".json")


def _json_syntax_error(text: str, display: str) -> InputProblem | None:
    """JSON is loaded as YAML (its superset) for positions, but must be strict JSON first,
    as kubectl reads it: YAML would accept `{"a": }` or a trailing comma."""
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        return InputProblem(display, f"invalid JSON: {error.msg[:1].lower()}{error.msg[1:]}", error.lineno)
    except (ValueError, RecursionError):
        return None  # a number or a nesting beyond limits: the YAML loader reports it
    return None


def _named_syntax(message: str, display: str) -> str:
    """Name the syntax the user wrote."""
    if _is_json(display) and message.startswith("invalid YAML"):
        return "invalid JSON" + message.removeprefix("invalid YAML")
    return message


def _kind_of(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return "a string"


def _resource(
    data: dict[str, Any], display: str, doc: YamlDocument, prefix: FieldPath, metadata: dict[str, str]
) -> Resource:
    meta = data.get("metadata")
    if not isinstance(meta, dict):
        meta = {}
    name, namespace = meta.get("name"), meta.get("namespace")

    def locator(path: FieldPath) -> Position:
        return doc.locate(prefix + path)

    resource = Resource(
        kind=data["kind"],
        api_version=data["apiVersion"],
        name=str(name) if name is not None else "",
        namespace=str(namespace) if namespace not in (None, "") else None,
        document=data,
        path=display,
        locator=locator,
        metadata=dict(metadata),
    )
    resource.suppressions = annotation_rules(resource)  # `tdv.dev/skip`
    return resource


class _HelmSources:
    """Finds the `# Source: chart/templates/x.yaml` comment that precedes a document."""

    def __init__(self, text: str):
        self.lines: list[int] = []
        self.sources: list[str] = []
        if "# Source: " not in text:
            return
        line, offset = 1, 0
        for match in _HELM_SOURCE_COMMENT.finditer(text):
            line += text.count("\n", offset, match.start())
            offset = match.start()
            self.lines.append(line)
            self.sources.append(match.group(1))

    def between(self, after_line: int, before_line: int) -> str | None:
        """The last Source comment on a line in (after_line, before_line], 1-based."""
        index = bisect.bisect_right(self.lines, before_line) - 1
        if index >= 0 and self.lines[index] > after_line:
            return self.sources[index]
        return None
