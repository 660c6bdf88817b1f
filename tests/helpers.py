"""What many test modules need, in one place (in the spirit of yamllint's tests/common.py):
run the command line, write a tree of files, read a report back, and scan through the
pipeline's Python entry point.

Test modules import these (`from tests.helpers import tdv, write_tree`); the root
conftest.py offers the ones that depend on `tmp_path` as fixtures. No test module imports
from a conftest.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data"
EXAMPLES = REPO / "examples"


# --- the command line -------------------------------------------------------------------------

def tdv(*arguments: str, input: str | bytes | None = None, env: Mapping[str, str] | None = None) -> Result:
    """Run `tdv ARGUMENTS` in this process with click's CliRunner.

    stdout and stderr are kept apart (`result.stdout`, `result.stderr`; `result.output` holds
    both). Exceptions other than SystemExit are not caught: a crash fails the test with its
    traceback instead of becoming an exit code.
    """
    return CliRunner().invoke(_main(), [str(a) for a in arguments], input=input, env=env, catch_exceptions=False)


def tdv_json(*arguments: str, input: str | bytes | None = None) -> tuple[Result, Any]:
    """`tdv ARGUMENTS -o json`: the result and the JSON report it printed on stdout."""
    result = tdv(*arguments, "-o", "json", input=input)
    return result, json.loads(result.stdout)


def tdv_process(*arguments: str, cwd: Path | str | None = None, input: str | None = None,
                env: Mapping[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run `python -m validator ARGUMENTS` in a child process, as a user's shell or CI would:
    the real program with its own exit path (os._exit), output captured as text. `env` is
    added to this process's environment."""
    return subprocess.run([sys.executable, "-m", "validator", *map(str, arguments)], cwd=cwd, input=input,
                          capture_output=True, text=True, timeout=timeout,
                          env=None if env is None else {**os.environ, **env})


def _main():
    from validator.cli import main

    return main


# --- files ------------------------------------------------------------------------------------

def write(path: Path, content: str | bytes) -> Path:
    """Write one file (UTF-8 text or bytes), creating its directories; returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def write_tree(root: Path, files: Mapping[str, str | bytes]) -> Path:
    """Write `files` ({relative path: text or bytes}) under `root`; returns `root`."""
    for name, content in files.items():
        write(root / name, content)
    return root


# --- reports ----------------------------------------------------------------------------------

def load_report(source: str | bytes | Path, format: str = "json") -> Any:
    """A report parsed: `json`, `sarif`, `gitlab-sast` and `codequality` as JSON data, `junit`
    as the root XML element. `source` is the report's text or the path of its file."""
    text = source.read_text(encoding="utf-8") if isinstance(source, Path) else source
    if format == "junit":
        return ET.fromstring(text.encode("utf-8") if isinstance(text, str) else text)
    if format in ("json", "sarif", "gitlab-sast", "codequality"):
        return json.loads(text)
    raise ValueError(f"no parser for {format!r} reports")


# --- scanning from Python ---------------------------------------------------------------------

def scan_paths(paths: Iterable[str | Path], **options: Any):
    """Scan `paths` with the pipeline and return its report object. The keyword arguments are
    the fields of validator.pipeline.ScanFlags (root, include, policy_dirs, baseline, plan_fixes,
    ...), plus `config` (the config file's settings).

    Every test that scans from Python goes through here, so that a change in how a scan is
    assembled changes this function only.
    """
    from validator.pipeline import scan

    return scan([str(p) for p in paths], **options)


def planned_fixes(report) -> dict:
    """The fixes a scan planned (with plan_fixes=True), by (id of the result, violation
    index), for the findings that count: what SARIF carries."""
    return {(id(result), index): fix for result in report.failures for index, fix in enumerate(result.fixes or ())
            if fix is not None}


def config_with(parameters: Mapping[str, Mapping[str, Any]] | None = None):
    """A configuration holding only parameter settings ({policy id: {name: value}})."""
    from validator.config import Config, ParameterSetting

    settings = tuple(ParameterSetting(policy_id, name, value)
                     for policy_id, values in (parameters or {}).items() for name, value in values.items())
    return Config(parameters=settings)


def fix_paths(paths: Iterable[str | Path], root: Path, policies: Sequence[str] = (),
              parameters: Mapping[str, Mapping[str, Any]] | None = None, write: bool = True) -> list:
    """Scan `paths` with `policies` (all when empty), then fix every fixable finding as `tdv
    fix` does; returns the FileFix of each file planned (written unless `write` is false)."""
    from validator.pipeline.changes import fixes_for
    from validator.fix import files

    config = config_with(parameters)
    report = scan_paths(paths, include=policies, root=root, config=config)
    changes = fixes_for(report, config.overrides(), (), (), root)
    if write:
        for change in changes:
            if change.changed:
                files.write(change.source, change.fixed)
    return changes
