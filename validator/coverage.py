"""Benchmark coverage: which controls of a benchmark the policy library checks.

A benchmark's controls are listed in `policies/benchmarks/<standard>.yaml`, each marked
checkable (statically, from the artifacts tdv reads) or not, with the reason. A policy names
the controls it checks fully under `standards:` and those it checks only in part under
`partial:`. Coverage is the share of checkable controls that some policy checks fully.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import yaml

from validator.engine.library import builtin_dir
from validator.engine.policy import Policy

BENCHMARKS_DIR_NAME = "benchmarks"
COVERAGE_COMMAND = "tdv policies coverage --output-dir docs/coverage"


class BenchmarkError(Exception):
    """A benchmark catalogue that does not follow the format."""


@dataclass(frozen=True)
class Control:
    id: str
    title: str
    checkable: bool
    reason: str = ""  # why a control is not statically checkable
    together: tuple[str, ...] = ()  # policies that check it fully between them (each names it in part)


@dataclass(frozen=True)
class Benchmark:
    standard: str  # the key policies use under standards: and partial:
    title: str
    url: str
    controls: tuple[Control, ...]
    scope: str = ""  # what "checkable" is judged against, e.g. "Terraform"


@dataclass(frozen=True)
class ControlCoverage:
    control: Control
    full: tuple[str, ...]  # policy ids that check it fully
    partial: tuple[str, ...]  # policy ids that check it in part

    @property
    def joint(self) -> bool:
        """The catalogue's `together:` policies all check their part of the control."""
        together = self.control.together
        return bool(together) and all(policy in self.partial for policy in together)

    @property
    def status(self) -> str:
        if not self.control.checkable:
            return "not checkable"
        return "covered" if self.full or self.joint else "partial" if self.partial else "missing"


@dataclass(frozen=True)
class Coverage:
    benchmark: Benchmark
    rows: tuple[ControlCoverage, ...]
    unknown: tuple[tuple[str, str], ...]  # (policy id, control id) tags naming no listed control

    def count(self, status: str) -> int:
        return sum(1 for row in self.rows if row.status == status)

    @property
    def checkable(self) -> int:
        return sum(1 for row in self.rows if row.control.checkable)

    @property
    def percent(self) -> float:
        return 100.0 * self.count("covered") / self.checkable if self.checkable else 0.0


def benchmarks_dir() -> Path:
    return builtin_dir() / BENCHMARKS_DIR_NAME


def load_benchmarks(directory: Path | None = None) -> list[Benchmark]:
    directory = directory or benchmarks_dir()
    return [load_benchmark(path) for path in sorted(directory.glob("*.yaml"))]


def load_benchmark(path: Path) -> Benchmark:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise BenchmarkError(f"{path}: cannot read benchmark: {error}") from None
    if not isinstance(data, dict) or not isinstance(data.get("controls"), list):
        raise BenchmarkError(f"{path}: a benchmark is a mapping with standard, title and a controls list")
    controls, seen = [], set()
    for index, item in enumerate(data["controls"]):
        if not isinstance(item, dict) or "id" not in item or "title" not in item or "checkable" not in item:
            raise BenchmarkError(f"{path}: controls[{index}] needs id, title and checkable")
        together = item.get("together") or []
        if not isinstance(together, list) or len(together) == 1:
            raise BenchmarkError(f"{path}: control {item['id']}: together lists two or more policy ids")
        control = Control(str(item["id"]), str(item["title"]), bool(item["checkable"]), str(item.get("reason") or ""),
                          tuple(str(policy) for policy in together))
        if control.id in seen:
            raise BenchmarkError(f"{path}: control {control.id} is listed twice")
        if not control.checkable and not control.reason:
            raise BenchmarkError(f"{path}: control {control.id} is not checkable but gives no reason")
        seen.add(control.id)
        controls.append(control)
    return Benchmark(str(data.get("standard") or path.stem), str(data.get("title") or path.stem),
                     str(data.get("url") or ""), tuple(controls), str(data.get("scope") or ""))


def coverage(benchmark: Benchmark, policies: Iterable[Policy]) -> Coverage:
    policies = sorted(policies, key=lambda p: p.id)
    known = {c.id for c in benchmark.controls}
    unknown = tuple((p.id, c) for p in policies for c in (*p.standards.get(benchmark.standard, ()),
                                                         *p.partial.get(benchmark.standard, ()))
                    if c not in known)
    rows = tuple(ControlCoverage(
        control,
        tuple(p.id for p in policies if control.id in p.standards.get(benchmark.standard, ())),
        tuple(p.id for p in policies if control.id in p.partial.get(benchmark.standard, ())),
    ) for control in benchmark.controls)
    return Coverage(benchmark, rows, unknown)


def coverage_markdown(result: Coverage) -> str:
    bench = result.benchmark
    lines = [
        f"# Coverage: {bench.title}",
        "",
        f"<!-- Generated from the policy files and policies/benchmarks/{bench.standard}.yaml by "
        f"`{COVERAGE_COMMAND}`. Do not edit by hand. -->",
        "",
    ]
    if bench.url:
        lines += [f"Benchmark: <{bench.url}>", ""]
    scope = f" from {bench.scope}" if bench.scope else ""
    lines += [
        f"**{result.percent:.0f}%** of the {result.checkable} controls that are statically checkable{scope} "
        f"are fully checked by a tdv policy ({result.count('covered')} covered, {result.count('partial')} "
        f"checked in part, {result.count('missing')} missing). {result.count('not checkable')} more controls "
        "cannot be checked from the artifacts tdv reads; the table says why.",
        "",
        "A policy lists a control under `standards:` only when it checks all of it, and under `partial:` when "
        "it checks a narrower part. Where the catalogue names policies that check a control *together* (each "
        "one part of it, such as host network, PID and IPC), the control counts as covered when all of them do.",
        "",
        "| control | title | status | tdv policies |",
        "|---|---|---|---|",
    ]
    for row in result.rows:
        if row.status == "not checkable":
            cell = f"not statically checkable: {row.control.reason}"
        elif row.joint:
            rest = [p for p in row.partial if p not in row.control.together]
            cell = ", ".join([*row.full, " + ".join(row.control.together) + " (together)",
                              *(f"{p} (in part)" for p in rest)])
        else:
            cell = ", ".join([*row.full, *(f"{p} (in part)" for p in row.partial)]) or "—"
        lines.append(f"| {row.control.id} | {_cell(row.control.title)} | {row.status} | {_cell(cell)} |")
    return "\n".join(lines) + "\n"


def summary_markdown(results: Iterable[Coverage]) -> str:
    lines = [
        "# Benchmark coverage",
        "",
        f"<!-- Generated by `{COVERAGE_COMMAND}`. Do not edit by hand. -->",
        "",
        "| benchmark | checkable controls | covered | in part | coverage |",
        "|---|---|---|---|---|",
    ]
    for result in results:
        bench = result.benchmark
        lines.append(f"| [{_cell(bench.title)}]({bench.standard}.md) | {result.checkable} | "
                     f"{result.count('covered')} | {result.count('partial')} | {result.percent:.0f}% |")
    return "\n".join(lines) + "\n"


def coverage_documents(policies: Iterable[Policy], directory: Path | None = None) -> dict[str, str]:
    """File name -> Markdown, for every benchmark and the summary (README.md)."""
    policies = list(policies)
    results = [coverage(bench, policies) for bench in load_benchmarks(directory)]
    documents = {f"{r.benchmark.standard}.md": coverage_markdown(r) for r in results}
    documents["README.md"] = summary_markdown(results)
    return documents


def _cell(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split())
