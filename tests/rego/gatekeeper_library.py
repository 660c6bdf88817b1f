"""Run the Gatekeeper library's own suites (`suite.yaml`, gator's format) through tdv's
Gatekeeper loader and Rego engine, and count the assertions that give gator's verdict
(docs/rego.md, "How well the Gatekeeper library runs"); also time the checks.

    python tests/rego/gatekeeper_library.py PATH/TO/gatekeeper-library [--verbose] [--timing] [--cel]

Each case's object is reviewed against its template and constraint, with a scan inventory
made of the case's `inventory` files (as gator verify adds them to data.inventory). An
assertion is `violations: yes | no | N`, optionally with `message` (a regular expression the
counted violations' messages must match).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from validator.engine import Engine
from validator.gatekeeper.loader import policies_from_manifests
from validator.inventory import build_from
from validator.model import Resource, Status
from validator.sources.kubernetes import parse_manifests
from validator.sources.yaml_loader import load_documents


@dataclass
class Tally:
    passed: int = 0
    failed: list[str] = field(default_factory=list)
    timings: dict[str, list[float]] = field(default_factory=dict)


def resources(path: Path) -> list[Resource]:
    return [r for r in parse_manifests(path.read_text(encoding="utf-8"), path.name) if isinstance(r, Resource)]


def cel_only(documents: list[Any]) -> bool:
    """Drop the Rego of a template that also has K8sNativeValidation code (--cel); whether it had."""
    found = False
    for document in documents:
        for target in (document.data.get("spec") or {}).get("targets") or []:
            code = target.get("code") or []
            if any(c.get("engine") == "K8sNativeValidation" for c in code):
                target.pop("rego", None)
                target.pop("libs", None)
                target["code"] = [c for c in code if c.get("engine") != "Rego"]
                found = True
    return found


def run_suite(suite_path: Path, tally: Tally, cel: bool = False) -> None:
    [suite] = [d.data for d in load_documents(suite_path.read_text(encoding="utf-8"))]
    root = suite_path.parent
    for test in suite.get("tests") or []:
        files = [(str(root / test[key]), list(load_documents((root / test[key]).read_text(encoding="utf-8"))))
                 for key in ("template", "constraint")]
        if cel and not cel_only(files[0][1]):
            continue
        policies = policies_from_manifests(files)
        cases = test.get("cases") or []
        assertions = [(case, a) for case in cases for a in case.get("assertions") or []]
        [policy] = policies if len(policies) == 1 else [None]
        if policy is None or not hasattr(policy, "modules"):
            for case, _ in assertions:
                tally.failed.append(f"{suite_path.parent.name}/{case['name']}: {policies}")
            continue
        engine = Engine.build([policy])
        for case in cases:
            judge_case(root, suite_path.parent.name, engine, case, tally)


def judge_case(root: Path, suite: str, engine: Engine, case: dict[str, Any], tally: Tally) -> None:
    [item] = resources(root / case["object"])
    known = build_from([r for path in case.get("inventory") or [] for r in resources(root / path)])
    started = time.perf_counter()
    results = engine.run([item], known)
    tally.timings.setdefault(suite, []).append(time.perf_counter() - started)
    errors = [r.error for r in results if r.status is Status.ERROR]
    messages = [v.message for r in results for v in r.violations]
    for assertion in case.get("assertions") or []:
        wanted = assertion.get("violations", "yes")  # gator's default
        pattern = assertion.get("message")
        counted = [m for m in messages if pattern is None or re.search(pattern, m)]
        if wanted in ("yes", True):
            ok = len(counted) > 0
        elif wanted in ("no", False):
            ok = not counted
        else:
            ok = len(counted) == int(wanted)
        if ok and not errors:
            tally.passed += 1
        else:
            tally.failed.append(f"{suite}/{case['name']}: wanted {wanted} {pattern or ''}, got {messages} {errors}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("library", type=Path)
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--timing", action="store_true")
    parser.add_argument("--cel", action="store_true", help="only the templates with K8sNativeValidation code,"
                                                           " run as CEL")
    arguments = parser.parse_args()
    tally = Tally()
    for suite_path in sorted((arguments.library / "library").glob("*/*/suite.yaml")):
        run_suite(suite_path, tally, arguments.cel)
    total = tally.passed + len(tally.failed)
    print(f"{tally.passed} of {total} assertions give gator's verdict ({100 * tally.passed / total:.1f}%)")
    if arguments.verbose:
        for line in tally.failed:
            print("  FAILED", line)
    if arguments.timing:
        for suite, times in sorted(tally.timings.items()):
            print(f"  {suite}: median {statistics.median(times) * 1e6:.0f} us per check")
    return 0


if __name__ == "__main__":
    sys.exit(main())
