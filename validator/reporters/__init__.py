"""Reporters: one module per output format, each exposing `render(report, options) -> str`.

A reporter whose output grows with the input also exposes `chunks(report, options)`: the
same text in pieces (a batch of findings or test cases each), made as they are written, so
that writing a report of a big scan does not hold it whole; its `render` joins them.
`reporter_chunks` gives the pieces of any format. Reporters do no I/O: commands write
what they return (see validator.cli.output).

An output is written as `-o FORMAT` (to standard output) or `-o FORMAT=FILE`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator
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
    """A reporter module. It may also define `chunks(report, options) -> Iterator[str]`, the
    text of `render` in pieces (see `reporter_chunks`)."""

    def render(self, report: ScanReport, options: FormatOptions) -> str: ...


def reporter(name: str) -> Reporter:
    return importlib.import_module(FORMATS[name])


def reporter_chunks(name: str, report: ScanReport, options: FormatOptions) -> Iterable[str]:
    """The text of format `name`'s report in pieces: its reporter's `chunks`, or the whole
    text of `render` as one piece for a reporter that has none."""
    module = reporter(name)
    chunks: Callable[[ScanReport, FormatOptions], Iterator[str]] | None = getattr(module, "chunks", None)
    if chunks is None:
        return [module.render(report, options)]
    return chunks(report, options)
