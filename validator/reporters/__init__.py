"""Reporters: one module per output format, each exposing `render(report, options) -> str`.

An output is written as `-o FORMAT` (to standard output) or `-o FORMAT=FILE`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from validator.report import ScanReport

FORMATS = {
    "console": "validator.reporters.console",
    "json": "validator.reporters.json_report",
    "sarif": "validator.reporters.sarif",
    "junit": "validator.reporters.junit",
    "markdown": "validator.reporters.markdown",
    "gitlab-sast": "validator.reporters.gitlab_sast",
    "codequality": "validator.reporters.codequality",
    "shard": "validator.reporters.shard",  # for `tdv merge`
}


@dataclass(frozen=True)
class FormatOptions:
    color: bool = False
    quiet: bool = False
    verbose: bool = False  # console: also list suppressed and baselined findings


@dataclass(frozen=True)
class OutputSpec:
    format: str
    destination: Path | None  # None: standard output

    @classmethod
    def parse(cls, text: str) -> "OutputSpec":
        name, _, destination = text.partition("=")
        name = name.strip().lower()
        if name not in FORMATS:
            raise ValueError(f"unknown output format {name!r} (expected one of: {', '.join(FORMATS)})")
        if _ and not destination.strip():
            raise ValueError(f"output {text!r} names no file")
        return cls(name, Path(destination) if destination.strip() else None)


class Reporter(Protocol):
    def render(self, report: ScanReport, options: FormatOptions) -> str: ...


def reporter(name: str) -> Reporter:
    return importlib.import_module(FORMATS[name])
