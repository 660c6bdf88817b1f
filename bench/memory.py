"""Peak memory of `tdv scan` as the input grows: 1k, 5k, 20k and 50k generated resources,
writing JSON, SARIF and JUnit, each in a fresh process.

    python bench/memory.py                       # the whole curve (a few minutes)
    python bench/memory.py --sizes 1000,5000 --jobs 1

Peak RSS comes from `wait4` (the largest resident set of the process; with worker processes,
the largest of the parent and its children). The ratio to the 5k figure is printed beside
each: the target is at most 1.5x at 20k.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
FORMATS = ("json", "sarif", "junit")


def peak_mb(command: list[str]) -> float:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed with status {os.waitstatus_to_exitcode(status)}")
    return usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,5000,20000,50000")
    parser.add_argument("--jobs", default="0", help="tdv scan --jobs (0: one process per core)")
    parser.add_argument("--keep", type=Path, help="generate the manifests here and keep them")
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as scratch:
        base = args.keep or Path(scratch)
        rows: dict[int, dict[str, float]] = {}
        for size in sizes:
            directory = base / f"g{size}"
            if not directory.exists():
                subprocess.run([sys.executable, str(HERE / "generate.py"), str(size), str(directory)], check=True,
                               stdout=subprocess.DEVNULL)
            rows[size] = {}
            for fmt in FORMATS:
                rows[size][fmt] = peak_mb([sys.executable, "-m", "validator", "scan", str(directory), "--no-config",
                                           "--root", str(directory), "--jobs", args.jobs, "-o", f"{fmt}=/dev/null"])
            reference = rows.get(5000)
            cells = [f"{fmt} {mb:6.0f} MB" + (f" ({mb / reference[fmt]:.2f}x 5k)" if reference else "")
                     for fmt, mb in rows[size].items()]
            print(f"{size:>6} resources: " + "; ".join(cells), flush=True)


if __name__ == "__main__":
    main()
