"""Peak memory of the reporters alone: a scan of N generated resources is made once, then
each of JSON, SARIF and JUnit is written three ways, and tracemalloc's peak is taken over
each (what was allocated during the writing and not yet freed, at its highest):

- **chunks**: `reporter_chunks` written to /dev/null piece by piece, as `tdv scan -o FMT=FILE`
  writes a report;
- **render**: `render()` as one string, then written;
- **whole**: the document built whole before it is serialized, as tdv wrote reports before
  they were written in pieces (JSON and SARIF: `build()` then `dumps_indented`; JUnit:
  junit-xml's suite of every test case, indented and serialized at once).

    python bench/render_memory.py                  # 5,000 resources
    python bench/render_memory.py --resources 20000 --formats junit --ways chunks

What every format shares and the report caches (its partition of the results, the findings'
fingerprints) is computed before the measures, so it counts in none of them. tracemalloc
slows Python down a lot: the times printed are for comparison between ways only
(`--untraced` times them without it).
"""

from __future__ import annotations

import argparse
import gc
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import junit_xml  # noqa: E402

from validator.fingerprint import for_report  # noqa: E402
from validator.pipeline import scan  # noqa: E402
from validator.reporters import FormatOptions, indented_json, json_report, junit, reporter_chunks, sarif  # noqa: E402
from validator.reporters.attrs_json import to_json_data  # noqa: E402

OPTIONS = FormatOptions()


def whole(fmt: str, report) -> str:
    if fmt == "json":
        return json_report.dumps_one_entry_per_line(json_report.build(report), json_report.ONE_LINE_ENTRIES) + "\n"
    if fmt == "sarif":
        data = to_json_data(sarif.build(report), sarif.ALWAYS_WRITTEN)
        return indented_json.dumps_indented(data, frozenset({"results"})) + "\n"
    suite = junit_xml.TestSuite(junit.SUITE_NAME, junit.test_cases(report), properties=junit._properties(report))
    return junit._report_xml(suite)


def write(fmt: str, way: str, report) -> int:
    """Write the report to /dev/null; the number of characters written."""
    written = 0
    with open("/dev/null", "w", encoding="utf-8") as sink:
        if way == "chunks":
            for chunk in reporter_chunks(fmt, report, OPTIONS):
                written += sink.write(chunk)
        else:
            text = whole(fmt, report) if way == "whole" else _render(fmt, report)
            written = sink.write(text)
    return written


def _render(fmt: str, report) -> str:
    return {"json": json_report, "sarif": sarif, "junit": junit}[fmt].render(report, OPTIONS)


def measure(fmt: str, way: str, report, trace: bool = True) -> tuple[float, float, int]:
    """Peak MB traced while writing (0 untraced), seconds, characters."""
    gc.collect()
    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    characters = write(fmt, way, report)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    tracemalloc.stop()
    return peak / 1e6, seconds, characters


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=5000)
    parser.add_argument("--manifests", type=Path, help="scan these instead of generating them")
    parser.add_argument("--formats", default="json,sarif,junit")
    parser.add_argument("--ways", default="chunks,render,whole")
    parser.add_argument("--untraced", action="store_true", help="time the ways without tracemalloc (no peaks)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        directory = args.manifests or Path(scratch) / "manifests"
        if not args.manifests:
            subprocess.run([sys.executable, str(HERE / "generate.py"), str(args.resources), str(directory)],
                           check=True, stdout=subprocess.DEVNULL)
        report = scan([str(directory)], root=directory, jobs=1)
    results = sum(1 for _ in report.results)
    findings = sum(len(result.violations) for result in report.failures)
    print(f"{report.resources_scanned} resources, {results} checks, {findings} findings", flush=True)
    for_report(report)  # shared by JSON and SARIF, cached on the report
    for fmt in args.formats.split(","):
        cells = []
        for way in args.ways.split(","):
            peak, seconds, characters = measure(fmt, way, report, not args.untraced)
            cells.append(f"{way} {seconds:5.2f} s" if args.untraced else f"{way} {peak:7.1f} MB ({seconds:5.1f} s)")
        print(f"{fmt:6} {characters / 1e6:6.1f} M characters: " + "; ".join(cells), flush=True)


if __name__ == "__main__":
    main()
