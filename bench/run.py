"""Benchmark: `tdv scan` against PyYAML's C loader alone, on the same generated manifests.

Generates N resources (bench/generate.py) into a temporary directory, then times, each in a
fresh process, as the median of several rounds (one run of each per round, so that a
change in the machine's speed affects them alike):

  (a) PyYAML's C loader alone: yaml.load_all(..., Loader=yaml.CSafeLoader) over every file;
  (b) tdv scan DIR -o json=/dev/null, with every built-in policy (by default, one process
      per core);
  (c) the same with --jobs 1: everything in one process;
  (d) and (e) the same as (b), writing JUnit and SARIF instead of JSON (with --reports);
  (f) and (g) with --baseline-tree DIR: (b) and (c) run by another checkout of tdv (say an
      older commit, in a `git worktree`), with its own built-in policies, in the same rounds.

Prints wall and CPU time, resources per second and peak RSS for each, and the ratios of
(b) and (c) to (a). tdv's modules are byte-compiled first, as a wheel install leaves them.
tdv runs with --root at the manifests, so that SARIF's fixes are computed as in a repository.

Usage: python bench/run.py [--resources 5000] [--runs 5] [--keep DIR] [--reports] [--baseline-tree DIR]
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/ holds scripts, not a package
import generate

TARGET_SECONDS = 1.5
TARGET_RATIO = 3.0
TARGET_BASELINE = 2.0  # against the library before it grew (--baseline-tree)

LOADER_ONLY = """
import sys, yaml
from pathlib import Path
count = 0
for path in sorted(Path(sys.argv[1]).glob("*.yaml")):
    count += sum(1 for _ in yaml.load_all(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader))
print(count)
"""


@dataclass
class Measure:
    label: str
    wall: float  # median seconds
    cpu: float  # median user + system seconds
    peak_rss_mb: float  # largest of the runs

    def rate(self, resources: int) -> float:
        return resources / self.wall


def run_once(command: list[str] | tuple[list[str], Path]) -> tuple[float, float, float, int]:
    """Wall seconds, CPU seconds, peak RSS in MB and exit status of one run of `command`, or
    of (command, tree): the command run in the tdv checkout `tree`, which it then imports."""
    env = cwd = None
    if isinstance(command, tuple):  # `python -m` puts the working directory first on sys.path
        command, cwd = command
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, (str(cwd), os.environ.get("PYTHONPATH")))))
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=cwd)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
    if process.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed with exit code {process.returncode}:\n{stderr}")
    peak_mb = usage.ru_maxrss / 1024  # kilobytes on Linux
    return wall, usage.ru_utime + usage.ru_stime, peak_mb, process.returncode


def measure(commands: dict[str, list[str] | tuple[list[str], Path]], runs: int) -> list[Measure]:
    """Run each command once (to warm the caches), then `runs` rounds of all of them."""
    for command in commands.values():
        run_once(command)
    samples: dict[str, list] = {label: [] for label in commands}
    for _ in range(runs):
        for label, command in commands.items():
            samples[label].append(run_once(command))
    return [Measure(label, statistics.median(s[0] for s in runs_), statistics.median(s[1] for s in runs_),
                    max(s[2] for s in runs_)) for label, runs_ in samples.items()]


def tdv_command(directory: Path, report: str, *options: str, output: str = "json") -> list[str]:
    return [sys.executable, "-m", "validator", "scan", str(directory), "--no-config", "--root", str(directory),
            "-o", f"{output}={report}", *options]


def check_scan(directory: Path, expected: int, tree: Path | None = None) -> tuple[int, int]:
    """Run tdv (that of `tree`, when given) once for real and check it read everything;
    returns (policies, findings)."""
    with tempfile.TemporaryDirectory() as scratch:
        report_path = Path(scratch) / "report.json"
        command = tdv_command(directory, str(report_path))
        run_once((command, tree) if tree else command)
        summary = json.loads(report_path.read_text())["summary"]
    if summary["resources"] != expected or summary["inputErrors"]:
        raise SystemExit(f"tdv scanned {summary['resources']} resources with {summary['inputErrors']} input errors;"
                         f" expected {expected} and none")
    return summary["policies"], summary["findings"]


BUSY_WORK = "d = [[{'a': i, 'b': str(i), 'c': [i]} for i in range(50000)] for _ in range(30)]"


def parallel_capacity() -> float:
    """How many cores' worth of sustained work the machine delivers to this many processes:
    the time of one busy process against that of `cores()` of them at once. A VM whose
    vCPUs share one physical core (or a host-level quota) gives about 1.0."""
    command = [sys.executable, "-c", BUSY_WORK]
    alone = run_once(command)[0]
    started = time.perf_counter()
    processes = [subprocess.Popen(command) for _ in range(cores())]
    for process in processes:
        process.wait()
    together = time.perf_counter() - started
    return cores() * alone / together


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def report(resources: int, files: int, megabytes: float, policies: int, findings: int,
           loader: Measure, tdv: Measure, one_process: Measure, runs: int, capacity: float,
           other_reports: list[Measure], baseline: tuple[int, int, Measure, Measure] | None = None) -> str:
    ratio = tdv.wall / loader.wall
    heading = (f"{resources} resources in {files} files ({megabytes:.1f} MB), {policies} policies,"
               f" {findings} findings; {cores()} cores delivering {capacity:.1f}x one core's sustained"
               f" throughput; median of {runs} runs")
    rows = [heading, "", f"{'':38} {'wall':>8} {'cpu':>8} {'resources/s':>12} {'peak RSS':>10}"]
    for item in (loader, tdv, one_process, *other_reports):
        rows.append(f"{item.label:38} {item.wall:7.2f}s {item.cpu:7.2f}s {item.rate(resources):12,.0f}"
                    f" {item.peak_rss_mb:7.0f} MB")
    verdict = "met" if ratio < TARGET_RATIO else "MISSED"
    speed = ("met" if tdv.wall < TARGET_SECONDS else "MISSED") if resources == 5_000 else "not comparable"
    rows += [
        "",
        f"ratio (b)/(a): {ratio:.2f}x wall, {tdv.cpu / loader.cpu:.2f}x cpu   (target < {TARGET_RATIO:g}x: {verdict})",
        f"ratio (c)/(a): {one_process.wall / loader.wall:.2f}x wall (one process each)",
        f"tdv wall:      {tdv.wall:.2f}s   (target < {TARGET_SECONDS:g}s for 5,000 resources: {speed})",
    ]
    if baseline:
        old_policies, old_findings, old_tdv, old_one = baseline
        rows += [
            f"baseline tree: {old_policies} policies, {old_findings} findings",
            f"ratio (b)/(f): {tdv.wall / old_tdv.wall:.2f}x wall, {tdv.cpu / old_tdv.cpu:.2f}x cpu"
            f"   (target < {TARGET_BASELINE:g}x: {'met' if tdv.wall / old_tdv.wall < TARGET_BASELINE else 'MISSED'})",
            f"ratio (c)/(g): {one_process.wall / old_one.wall:.2f}x wall, {one_process.cpu / old_one.cpu:.2f}x cpu"
            " (one process each)",
        ]
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="write the manifests here and keep them")
    parser.add_argument("--reports", action="store_true", help="also time JUnit and SARIF reports")
    parser.add_argument("--baseline-tree", type=Path, metavar="DIR",
                        help="also time the tdv of this checkout (e.g. a git worktree of an older commit)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tdv-bench-") as scratch:
        directory = (args.keep or Path(scratch) / "manifests").resolve()
        written = generate.write(args.resources, directory)
        megabytes = sum(f.stat().st_size for f in written) / 1e6
        compileall.compile_dir(Path(__file__).resolve().parent.parent / "validator", quiet=1)
        policies, findings = check_scan(directory, args.resources)
        baseline_counts = None
        if args.baseline_tree:
            tree = args.baseline_tree.resolve()
            compileall.compile_dir(tree / "validator", quiet=1)
            baseline_counts = check_scan(directory, args.resources, tree)
        capacity = parallel_capacity()
        commands = {
            "(a) PyYAML CSafeLoader alone": [sys.executable, "-c", LOADER_ONLY, str(directory)],
            "(b) tdv scan -o json=/dev/null": tdv_command(directory, "/dev/null"),
            "(c) tdv scan ... --jobs 1": tdv_command(directory, "/dev/null", "--jobs", "1"),
        }
        if args.reports:
            commands["(d) tdv scan -o junit=/dev/null"] = tdv_command(directory, "/dev/null", output="junit")
            commands["(e) tdv scan -o sarif=/dev/null"] = tdv_command(directory, "/dev/null", output="sarif")
        if args.baseline_tree:
            commands["(f) baseline tree: (b)"] = (tdv_command(directory, "/dev/null"), tree)
            commands["(g) baseline tree: (c)"] = (tdv_command(directory, "/dev/null", "--jobs", "1"), tree)
        loader, tdv, one_process, *others = measure(commands, args.runs)
        baseline = None
        if args.baseline_tree:
            *others, old_tdv, old_one = others
            baseline = (*baseline_counts, old_tdv, old_one)
    print(report(args.resources, len(written), megabytes, policies, findings, loader, tdv, one_process, args.runs,
                 capacity, others + ([baseline[2], baseline[3]] if baseline else []), baseline))


if __name__ == "__main__":
    main()
