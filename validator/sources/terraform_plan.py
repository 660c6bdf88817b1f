"""Terraform plan JSON (`terraform show -json PLANFILE`): every resource that will exist after apply.

A plan is recognised by its content (`format_version`, `terraform_version`, and
`planned_values` or `resource_changes`), never by its name; formats 0.x and 1.x are read.
Each managed resource of every module is taken from `resource_changes[].change.after`
(or from `planned_values` when it has no change entry); delete-only changes are left out.
Unknown values (`after_unknown`) are removed and sensitive ones (`after_sensitive`,
`sensitive_values`) masked before any policy sees them (see terraform_values).

Findings point at the `.tf` source when it can be found: the root module is the plan's
directory (or `--tf-root`), and `module.x` is `configuration...module_calls.x.source` when
that is a local path. Otherwise they point at the resource's `"address"` in the plan.
A resource mapped to its `.tf` block also gets the block's `# tdv:skip=` suppressions.
"""

from __future__ import annotations

import bisect
import functools
import json
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from validator.model import InputProblem, Position, Resource, SkipRule
from validator.sources import files, terraform_refs
from validator.sources.context import SourceContext
from validator.sources.terraform_values import (
    NestingError,
    NumberError,
    mark_unknown,
    mask_sensitive,
    nearest,
    settle,
)
from validator.text_values import text_safe

if TYPE_CHECKING:
    from validator.sources.terraform_hcl import Module

SUFFIXES = frozenset({".json"})
PLAN_METADATA = "terraform-plan"
_MARKERS = ('"format_version"', '"terraform_version"')
_GONE = (["delete"], ["forget"])
_MODULE_STEP = re.compile(r'module\.([A-Za-z_][A-Za-z0-9_-]*)(?:\[(?:"(?:[^"\\]|\\.)*"|[0-9]+)\])?\.')
_TOO_DEEP = object()  # a value too deeply nested to mark
_NO_LINKS = terraform_refs.ResourceLinks()
_ADDRESS = re.compile(r'"address"\s*:\s*("(?:[^"\\]|\\.)*")')
# A JSON escape of a UTF-16 surrogate: the one way a lone surrogate gets into tdv's documents
# (YAML refuses such escapes, and HCL strings keep their escapes as text).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


@functools.lru_cache(maxsize=1)
def _load(text: str) -> Any:
    """The decoded JSON, or the exception that stopped decoding (cached: `accepts` reads it too)."""
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except (json.JSONDecodeError, RecursionError, ValueError) as error:
        return error
    # The CEL runtime cannot take a lone surrogate: replaced here, once, for the whole plan.
    return text_safe(data) if _SURROGATE_ESCAPE.search(text) else data


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def accepts(suffix: str, text: str) -> bool:
    if suffix not in (".json", "") or not all(marker in text for marker in _MARKERS):
        return False
    if not text.lstrip().startswith("{"):
        return False
    data = _load(text)
    return isinstance(data, Exception) or (
        isinstance(data, dict) and all(k in data for k in ("format_version", "terraform_version")))


def parse(text: str, source: files.InputFile, context: SourceContext) -> Iterator[Resource | InputProblem]:
    display = source.display
    data = _load(text)
    if isinstance(data, json.JSONDecodeError):
        yield InputProblem(display, f"invalid plan JSON: {data.msg} (column {data.colno})", data.lineno)
        return
    if isinstance(data, RecursionError):
        yield InputProblem(display, "invalid plan JSON: nested too deeply")
        return
    if isinstance(data, ValueError) and "integer string conversion" in str(data):
        yield InputProblem(display, f"invalid plan JSON: a number has more than {sys.get_int_max_str_digits()} digits")
        return
    if isinstance(data, Exception):
        yield InputProblem(display, f"invalid plan JSON: {data}")
        return
    problem = _problem(data)
    if problem:
        yield InputProblem(display, problem, 1)
        return
    mapper = _SourceMap(data, text, source, context)
    planned = list(_planned_resources(data))
    links = terraform_refs.link_instances(
        (entry["address"] for entry, _ in planned if isinstance(entry, dict)), terraform_refs.plan_references(data))
    for ordinal, (entry, value) in enumerate(planned):
        if isinstance(entry, str):
            yield InputProblem(display, f"malformed plan: {entry}", 1)
            continue
        if value is _TOO_DEEP:
            yield InputProblem(display, f"{entry['address']}: values are nested too deeply",
                             mapper.plan_line(entry["address"]))
            continue
        yield _resource(entry, value, ordinal, mapper, links.get(entry["address"], _NO_LINKS))


def _problem(data: Any) -> str | None:
    if not isinstance(data, dict):
        return "not a Terraform plan: the JSON is not an object"
    version = data.get("format_version")
    if not isinstance(version, str) or version.split(".")[0] not in ("0", "1"):
        shown = repr(version if isinstance(version, (str, int, float)) else type(version).__name__)[:20]
        return f"unsupported Terraform plan format_version {shown} (supported: 0.x and 1.x)"
    if "planned_values" not in data and "resource_changes" not in data:
        if "values" in data:
            return ("this is Terraform state, not a plan: scan the output of"
                    " `terraform show -json PLANFILE` instead")
        return "not a Terraform plan: it has neither planned_values nor resource_changes"
    for key, kind in (("resource_changes", list), ("planned_values", dict)):
        if data.get(key) is not None and not isinstance(data[key], kind):
            return f"malformed plan: {key} is not {'a list' if kind is list else 'an object'}"
    return None


def _planned_resources(data: dict[str, Any]) -> Iterator[tuple[dict[str, Any] | str, Any]]:
    """(entry, value with unknown and sensitive marks applied), or (problem, None)."""
    planned: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()
    yield from _planned_values(data, planned)
    yield from _changed_resources(data, planned, seen)
    yield from _unchanged_resources(planned, seen)


def _planned_values(data: dict[str, Any], planned: dict[str, dict[str, Any]]) -> Iterator[tuple[str, None]]:
    """Fill `planned` with the planned_values resources by address; (problem, None) for bad ones."""
    for entry in _module_resources((data.get("planned_values") or {}).get("root_module")):
        if entry is _TOO_DEEP:
            yield "child_modules are nested deeper than 100 levels", None
        elif not isinstance(entry, dict):
            yield "a planned_values resource is not an object", None
        elif not isinstance(entry.get("address"), str) or not entry["address"]:
            yield "a planned_values resource has no address", None
        else:
            planned.setdefault(entry["address"], entry)


def _changed_resources(data: dict[str, Any], planned: dict[str, dict[str, Any]], seen: set[str]
                       ) -> Iterator[tuple[dict[str, Any] | str, Any]]:
    """The resource_changes that leave a managed resource, adding each address to `seen`."""
    for index, change in enumerate(data.get("resource_changes") or []):
        problem = _entry_problem(change, f"resource_changes[{index}]")
        if problem:
            yield problem, None
            continue
        seen.add(change["address"])
        details = change.get("change")
        if not isinstance(details, dict):
            details = {}
        if change.get("mode", "managed") != "managed" or change.get("deposed") or details.get("actions") in _GONE:
            continue
        after = details.get("after")
        fallback = planned.get(change["address"], {})
        if not isinstance(after, dict):
            after = fallback.get("values")
            if not isinstance(after, dict):
                continue
        try:
            value = mask_sensitive(after, details.get("after_sensitive"))
            value = mask_sensitive(value, fallback.get("sensitive_values"))
            yield change, mark_unknown(value, details.get("after_unknown"))
        except RecursionError:
            yield change, _TOO_DEEP


def _unchanged_resources(planned: dict[str, dict[str, Any]], seen: set[str]
                         ) -> Iterator[tuple[dict[str, Any] | str, Any]]:
    """The managed planned_values resources that no resource change lists."""
    for address, entry in planned.items():
        if address in seen or entry.get("mode", "managed") != "managed":
            continue
        problem = _entry_problem(entry, f"planned_values resource {address}")
        if problem:
            yield problem, None
        elif isinstance(entry.get("values"), dict):
            try:
                value = mask_sensitive(entry["values"], entry.get("sensitive_values"))
            except RecursionError:
                value = _TOO_DEEP
            yield entry, value


def _module_resources(module: Any, depth: int = 0) -> Iterator[Any]:
    """The resource entries of a module and its child modules; _TOO_DEEP for modules nested
    beyond 100 levels."""
    if not isinstance(module, dict):
        return
    if depth > 100:
        yield _TOO_DEEP
        return
    resources = module.get("resources")
    yield from resources if isinstance(resources, list) else ()
    child_modules = module.get("child_modules")
    for child in child_modules if isinstance(child_modules, list) else ():
        yield from _module_resources(child, depth + 1)


def _entry_problem(entry: Any, where: str) -> str | None:
    if not isinstance(entry, dict):
        return f"{where} is not an object"
    for key in ("address", "type", "name"):
        if not isinstance(entry.get(key), str) or not entry[key]:
            return f"{where} has no {key}"
    return None


def _resource(entry: dict[str, Any], value: Any, ordinal: int, mapper: _SourceMap,
              links: terraform_refs.ResourceLinks) -> Resource | InputProblem:
    address = entry["address"]
    try:
        document, unknown = settle(value)
    except (NestingError, RecursionError):
        return InputProblem(mapper.display, f"{address}: values are nested too deeply", mapper.plan_line(address))
    except NumberError as error:
        return InputProblem(mapper.display, f"{address}: {error.message}", mapper.plan_line(address))
    path, locator, suppressions = mapper.locate(entry)
    return Resource(
        kind=entry["type"], api_version="", name=address, namespace=None, document=document, path=path,
        doc_index=ordinal, locator=locator, metadata={PLAN_METADATA: mapper.display}, identity=address,
        unknown_paths=unknown, suppressions=suppressions, tf_links=links,
    )


def module_names(address: str) -> list[str]:
    """`module.a["x"].module.b[0].aws_s3_bucket.c` -> ["a", "b"]."""
    names, offset = [], 0
    while match := _MODULE_STEP.match(address, offset):
        names.append(match.group(1))
        offset = match.end()
    return names


class _SourceMap:
    """Finds the `.tf` block of a planned resource, or its line in the plan."""

    def __init__(self, data: dict[str, Any], text: str, source: files.InputFile, context: SourceContext):
        self.display, self.text, self.context = source.display, text, context
        configuration = data.get("configuration")
        self.config = configuration.get("root_module") if isinstance(configuration, dict) else None
        root = context.tf_root or (source.path.parent if source.path else None)
        self.root = Path(root) if root is not None else None
        self._lines: list[int] | None = None
        self._addresses: dict[str, int] | None = None
        self._modules: dict[tuple[str, ...], Module | None] = {}

    def locate(self, entry: dict[str, Any]) -> tuple[str, Any, tuple[SkipRule, ...]]:
        """(file, locator, suppressions): the resource's `.tf` block and the `tdv:skip=`
        comments written for it, or its address in the plan and none."""
        module = self._module(tuple(module_names(entry["address"])))
        block = module.find(entry["type"], entry["name"]) if module else None
        if module is None or block is None:
            where = self.plan_position(entry["address"])
            return self.display, lambda path: where, ()
        positions = module.layout(block)
        return block.display, lambda path: nearest(positions, path, block.position), block.suppressions

    def _module(self, names: tuple[str, ...]) -> Module | None:
        """The `.tf` module at a module path, once per plan; None when it cannot be found."""
        if names not in self._modules:
            directory = self._module_dir(list(names))
            module = None
            if directory is not None and directory.is_dir():
                from validator.sources.terraform_hcl import modules  # python-hcl2 loads only when needed

                cache = modules(self.context)
                module = cache.get(directory)
                if module.resources:
                    cache.claimed.add(os.path.realpath(directory))
            self._modules[names] = module
        return self._modules[names]

    def _module_dir(self, names: list[str]) -> Path | None:
        directory, config = self.root, self.config
        if directory is None:
            return None
        for name in names:
            calls = config.get("module_calls") if isinstance(config, dict) else None
            call = calls.get(name) if isinstance(calls, dict) else None
            if not isinstance(call, dict):
                return None
            source = call.get("source")
            if not isinstance(source, str) or not source.startswith(("./", "../")):
                return None
            directory, config = directory / source, call.get("module")
        return directory

    def plan_line(self, address: str) -> int:
        return self.plan_position(address).line

    def plan_position(self, address: str) -> Position:
        if self._addresses is None:
            self._addresses = self._index_addresses()
        offset = self._addresses.get(address)
        if offset is None:
            return Position(1, 1)
        if self._lines is None:
            self._lines = [match.start() for match in re.finditer("\n", self.text)]
        line = bisect.bisect_left(self._lines, offset)
        start = self._lines[line - 1] + 1 if line else 0
        return Position(line + 1, offset - start + 1)

    def _index_addresses(self) -> dict[str, int]:
        """Offset of each resource's `"address"` key, preferring the one in resource_changes."""
        changes = self.text.find('"resource_changes"')
        first: dict[str, int] = {}
        in_changes: dict[str, int] = {}
        for match in _ADDRESS.finditer(self.text):
            try:
                address = json.loads(match.group(1))
            except ValueError:
                continue
            target = in_changes if 0 <= changes < match.start() else first
            target.setdefault(address, match.start())
        return first | in_changes
