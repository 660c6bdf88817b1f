"""Benchmark: what one check costs, split into evaluation, message and locating.

A check is one policy applied to one resource (one `Result`). The generated manifests
(bench/generate.py) are read once, then the engine runs every built-in policy over them in
this process: a first run compiles the policies and the per-kind batches (not counted), then
`--runs` timed runs. In the timed runs, thin wrappers installed by this script (never in the
production code path) time, with time.perf_counter:

  - converting each resource to CEL values (CelEvaluator._activation, once per resource);
  - evaluating each failing check's message (CompiledCelPolicy._message, once per violation:
    the messageExpression, or the fixed message);
  - locating each violation's field in the source (Resource.locate, once per violation).

Evaluation is the rest of Engine.run: selecting the policies of each resource, the batched
verdicts and the per-check verdicts, including the CEL conversion above. Each figure is the
median over the runs, in microseconds per check (and per violation for message and locating).
Each run is paired with one of PyYAML's C loader over the same files, in the same process:
the ratios to it hold still when the machine's speed drifts, as it does on shared machines.

With --top N, one more run without batches (each check evaluated on its own, as for a kind
with fewer than BATCH_MIN_RESOURCES resources) lists the N policies that cost most in all.

--tree DIR measures the tdv of another checkout (its engine and its built-in policies), for
comparing libraries on the same files: run this script once per tree.

Usage: python bench/per_check.py [--resources 5000] [--runs 3] [--manifests DIR] [--top 10] [--tree DIR]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/ holds scripts, not a package
import generate


class Timer:
    """Wraps `owner.name` so that each call adds its duration to `self.seconds`."""

    def __init__(self, owner: type, name: str):
        self.owner, self.name, self.original = owner, name, getattr(owner, name)
        self.seconds, self.calls = 0.0, 0
        original, clock = self.original, time.perf_counter

        def timed(*args, **kwargs):
            started = clock()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds += clock() - started
                self.calls += 1

        setattr(owner, name, timed)

    def reset(self) -> None:
        self.seconds, self.calls = 0.0, 0

    def remove(self) -> None:
        setattr(self.owner, self.name, self.original)


def load_yaml(texts: list[str]) -> float:
    """Seconds PyYAML's C loader takes to load every file: the yardstick of each run."""
    import yaml

    started = time.perf_counter()
    for text in texts:
        for _ in yaml.load_all(text, Loader=yaml.CSafeLoader):
            pass
    return time.perf_counter() - started


def read_resources(directory: Path) -> list:
    from validator.model import Resource
    from validator.sources.kubernetes import parse_manifests

    resources = []
    for path in sorted(directory.glob("*.yaml")):
        for item in parse_manifests(path.read_text(encoding="utf-8"), path.name):
            if not isinstance(item, Resource):
                raise SystemExit(f"{path}: {item}")
            resources.append(item)
    return resources


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--manifests", type=Path, help="read these manifests (else generate --resources of them)")
    parser.add_argument("--top", type=int, default=0, help="also list the N policies that cost most, unbatched")
    parser.add_argument("--tree", type=Path, help="measure the tdv of this checkout instead of this one")
    args = parser.parse_args()
    if args.tree:
        sys.path.insert(0, str(args.tree.resolve()))
    import validator.engine as engine_module
    from validator.engine import Engine
    from validator.engine.cel import CelEvaluator, CompiledCelPolicy
    from validator.engine.library import load_policies
    from validator.model import Resource, Status

    with tempfile.TemporaryDirectory(prefix="tdv-bench-") as scratch:
        directory = args.manifests
        if directory is None:
            directory = Path(scratch) / "manifests"
            generate.write(args.resources, directory)
        resources = read_resources(directory)
        texts = [path.read_text(encoding="utf-8") for path in sorted(directory.glob("*.yaml"))]
    policies = load_policies([], builtin_tests=False)
    engine = Engine.build(policies, eager=False)
    engine.run(resources)  # compiles the policies it needs and the batches: not counted

    timers = {"conversion": Timer(CelEvaluator, "_activation"), "message": Timer(CompiledCelPolicy, "_message"),
              "locating": Timer(Resource, "locate")}
    samples: dict[str, list[float]] = defaultdict(list)
    results: list = []
    for _ in range(args.runs):
        samples["loader"].append(load_yaml(texts))
        for timer in timers.values():
            timer.reset()
        started = time.perf_counter()
        results = engine.run(resources)
        total = time.perf_counter() - started
        samples["total"].append(total)
        samples["evaluation"].append(total - timers["message"].seconds - timers["locating"].seconds)
        for name, timer in timers.items():
            samples[name].append(timer.seconds)
    counts = {name: timer.calls for name, timer in timers.items()}
    for timer in timers.values():
        timer.remove()

    checks = len(results)
    failing = sum(1 for r in results if r.status is Status.FAIL)
    errors = sum(1 for r in results if r.status is Status.ERROR)
    violations = counts["locating"]
    kinds = Counter(r.kind for r in resources)
    k8s = sum(1 for p in policies if "kubernetes" in Path(p.source).parts)
    median = {name: statistics.median(values) for name, values in samples.items()}
    per_check = {name: seconds / checks * 1e6 for name, seconds in median.items()}
    print(f"{len(resources)} resources ({', '.join(f'{n} {k}' for k, n in kinds.most_common())}),"
          f" {len(policies)} policies ({k8s} Kubernetes); {checks:,} checks, {failing:,} failing,"
          f" {errors} errors, {violations:,} violations; median of {args.runs} runs, in one process")
    print()
    print(f"{'':34} {'s per run':>10} {'µs/check':>9} {'share':>6} {'/loader':>8}")
    for name, label in (("total", "Engine.run"), ("evaluation", "evaluation (all but the next two)"),
                        ("conversion", "  of which CEL conversion"), ("message", "message"), ("locating", "locating")):
        print(f"{label:34} {median[name]:10.3f} {per_check[name]:9.2f} {median[name] / median['total']:6.0%}"
              f" {median[name] / median['loader']:8.3f}")
    print(f"{'PyYAML C loader, same files':34} {median['loader']:10.3f}")
    print(f"\nper check, in millionths of the loader's time: evaluation {per_check['evaluation'] / median['loader']:.2f},"
          f" message {per_check['message'] / median['loader']:.2f}, locating {per_check['locating'] / median['loader']:.2f}")
    if violations:
        print(f"\nper violation: message {median['message'] / violations * 1e6:.2f} µs,"
              f" locating {median['locating'] / violations * 1e6:.2f} µs")

    if args.top:
        engine_module.BATCH_MIN_RESOURCES = float("inf")
        results = engine.run(resources)
        cost: dict[str, float] = defaultdict(float)
        applied: Counter = Counter()
        for result in results:
            cost[result.policy.id] += result.duration
            applied[result.policy.id] += 1
        unbatched = sum(cost.values())
        print(f"\nunbatched: {unbatched:.3f} s in checks, {unbatched / checks * 1e6:.2f} µs per check;"
              f" the {args.top} policies that cost most:")
        for policy_id, seconds in sorted(cost.items(), key=lambda item: -item[1])[:args.top]:
            print(f"  {policy_id:24} {seconds:7.3f} s {seconds / unbatched:5.1%}"
                  f"  {seconds / applied[policy_id] * 1e6:7.1f} µs/check over {applied[policy_id]:,}")


if __name__ == "__main__":
    main()
