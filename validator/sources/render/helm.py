"""Rendering a Helm chart: in-process with helm-python-sdk (the `helm` extra), else with a
`helm` binary on PATH. Either way it is `helm template`, offline: `lookup` returns nothing,
no post-renderer or plugin runs, and dependencies are those vendored in `charts/`.

The output is the stream `helm template` writes, each document after a `# Source:`
comment naming its template; validator.sources.render.templates maps it back to the files.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterator

from validator.model import InputProblem, Resource
from validator.sources.render import process
from validator.sources.render.options import RenderOptions
from validator.sources.render.resources import RENDERED_FROM, display
from validator.sources.render.templates import attach_templates

WHAT = "Helm chart"
EXTRA_HINT = ("install Helm rendering into tdv's Python environment (pip install 'helm-python-sdk>=0.2.2,<0.3', "
              "what the [helm] extra adds) or put helm on PATH")
_DOCUMENT_SEPARATOR = re.compile(r"^---(?:[ \t].*)?$", re.MULTILINE)
_SCHEMA_PROBLEM = re.compile(r"^\s*-\s*(at '[^']*': .*)$")
_QUOTED_VALUE = re.compile(r"(at '[^']*': )'(?:[^'\\]|\\.)*'")


def render_chart(directory: Path, options: RenderOptions, root: Path,
                 max_bytes: int) -> Iterator[Resource | InputProblem]:
    shown = display(directory, root)
    try:
        text = render_text(directory, options, root, max_bytes)
    except process.RenderError as error:
        yield InputProblem(shown, f"{WHAT} could not be rendered: {error}")
        return
    yield from attach_templates(text, shown, directory, root, {RENDERED_FROM: shown})


def render_text(directory: Path, options: RenderOptions, root: Path, max_bytes: int) -> str:
    """The chart rendered as `helm template` prints it; RenderError when it cannot be."""
    sdk = _sdk()
    if sdk is not None:
        return _render_in_process(sdk, directory, options, root, max_bytes)
    binary = process.find("helm")
    if binary is None:
        raise process.RenderError(f"no Helm renderer: {EXTRA_HINT}")
    return _render_with_binary(binary, directory, options, root, max_bytes)


def _sdk() -> Any:
    try:
        import helm_python
    except (ImportError, OSError):  # not installed, or its native library cannot load here
        return None
    return helm_python


def _render_in_process(sdk: Any, directory: Path, options: RenderOptions, root: Path, max_bytes: int) -> str:
    try:
        missing = [d.get("name") for d in sdk.dependency_list(str(directory)) if d.get("status") == "missing"]
        if missing:
            raise process.RenderError(f"dependency {missing[0]} is declared in Chart.yaml but missing from"
                                      " charts/ (run `helm dependency build`)")
        values = _values(sdk, options, root, max_bytes)
        with sdk.Chart.load(str(directory)) as chart:
            manifests = _render(sdk, chart, values, options)
    except sdk.HelmValuesError as error:
        raise process.RenderError(_values_problem(str(error))) from None
    except sdk.HelmError as error:
        raise process.RenderError(process.summary(str(error), _hide(root), lines=3)) from None
    text = _as_stream(manifests)
    if len(text.encode("utf-8")) > max_bytes:
        raise process.RenderError("rendered output is larger than the --max-file-size limit; not scanned")
    return text


def _render(sdk: Any, chart: Any, values: dict[str, Any] | None, options: RenderOptions) -> dict[str, str]:
    if options.kube_version is None:
        return chart.render(values, name=options.helm_release, namespace=options.helm_namespace)
    # The SDK's Chart.render does not expose the kube version its native call accepts.
    call = getattr(getattr(sdk, "_native", None), "call_string", None)
    if call is None:
        raise process.RenderError("this helm-python-sdk cannot set --kube-version; put helm on PATH")
    settings = {"name": options.helm_release, "namespace": options.helm_namespace, "kube_version": options.kube_version}
    payload = call("helm_render", chart._raw(), None if values is None else json.dumps(values), json.dumps(settings))
    return json.loads(payload)


def _values(sdk: Any, options: RenderOptions, root: Path, max_bytes: int) -> dict[str, Any] | None:
    """The values files merged in order, then the --helm-set overrides (as Helm does)."""
    if not options.helm_values and not options.helm_set:
        return None
    merged: dict[str, Any] = {}
    for file in options.helm_values:
        shown = display(file, root)
        try:
            if file.stat().st_size > max_bytes:
                raise process.RenderError(f"values file {shown} is larger than the --max-file-size limit")
            text = file.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise process.RenderError(f"cannot read values file {shown}: "
                                      f"{getattr(error, 'strerror', None) or type(error).__name__}") from None
        try:
            merged = merge(merged, sdk.values_from_yaml(text))
        except sdk.HelmError as error:
            raise process.RenderError(f"values file {shown}: {process.summary(str(error))}") from None
    if options.helm_set:
        try:
            merged = merge(merged, sdk.parse_set_string(",".join(options.helm_set)))
        except sdk.HelmError as error:
            raise process.RenderError(f"--helm-set: {process.summary(str(error))}") from None
    return merged


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Maps merge key by key; anything else in `override` replaces what `base` has."""
    result = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merge(result[key], value)
        else:
            result[key] = value
    return result


def _render_with_binary(binary: Path, directory: Path, options: RenderOptions, root: Path, max_bytes: int) -> str:
    argv = [str(binary), "template", options.helm_release, str(directory.resolve()),
            "--namespace", options.helm_namespace]
    for file in options.helm_values:
        argv += ["--values", str(file.resolve())]
    for assignment in options.helm_set:
        argv += ["--set", assignment]
    if options.kube_version:
        argv += ["--kube-version", options.kube_version]
    try:
        return process.run(argv, max_bytes, _hide(root))
    except process.RenderError as error:
        if "values don't meet the specifications of the schema" in error.stderr:
            raise process.RenderError(_values_problem(error.stderr)) from None
        raise


def _as_stream(manifests: dict[str, str]) -> str:
    """Rendered templates as one stream, each document after its `# Source:` comment."""
    parts: list[str] = []
    for name in sorted(manifests):
        base = name.rsplit("/", 1)[-1]
        if base.startswith("_") or base == "NOTES.txt":
            continue
        for document in _DOCUMENT_SEPARATOR.split(manifests[name]):
            if document.strip():
                parts.append(f"---\n# Source: {name}\n{document.lstrip(chr(10))}\n")
    return "".join(parts)


def _values_problem(message: str) -> str:
    """A values.schema.json failure, without the offending values (they may be secrets)."""
    problems = [_QUOTED_VALUE.sub(r"\1the value", m.group(1)) for m in map(_SCHEMA_PROBLEM.match, message.splitlines())
                if m]
    if not problems:
        return _QUOTED_VALUE.sub(r"\1the value", process.summary(message, lines=3))
    shown = "; ".join(problems[:3]) + ("; …" if len(problems) > 3 else "")
    return process.summary(f"values do not match values.schema.json: {shown}")


def _hide(root: Path) -> dict[str, str]:
    real_root = str(root.resolve())
    return {real_root + "/": "", str(root) + "/": ""}
