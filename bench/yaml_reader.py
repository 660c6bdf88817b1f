"""Benchmark: could rapidyaml (PyPI `rapidyaml`, the C++ ryml library) read YAML for tdv?

Generates N resources (bench/generate.py), then times in one process, interleaved over
several rounds (median), the same files read by:

  (a) PyYAML's C loader alone (yaml.load_all with CSafeLoader): the usual floor;
  (b) tdv's reader (validator.sources.yaml_loader.load_documents): libyaml's composer plus
      positions, YAML 1.1 scalars, duplicate keys, alias and depth limits;
  (c) ryml's parser alone (parse_in_place), building its own tree and nothing else;
  (d) ryml's parser, then a Python walk of its tree into dicts, lists and strings: no scalar
      resolution, no checks, no positions. The least a reader built on it must do;
  (e) (d) plus the line of every value, from the byte offset of ryml's view into the
      source buffer (the positions tdv reports).

tdv would adopt ryml if a reader built on it were at least 2x faster than (b) with identical
results; (d) and (e) bound such a reader from below, since they leave out the scalar
resolution and checks that (b) does. Prints the medians and the ratios (b)/(d) and (b)/(e).

Usage: python bench/yaml_reader.py [--resources 5000] [--runs 3]
"""

from __future__ import annotations

import argparse
import bisect
import ctypes
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/ holds scripts, not a package
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import generate

from validator.sources.yaml_loader import load_documents


class _PyBuffer(ctypes.Structure):
    """CPython's Py_buffer: ryml's views are read-only memoryviews, whose address ctypes
    cannot take directly."""

    _fields_ = [("buf", ctypes.c_void_p), ("obj", ctypes.c_void_p), ("len", ctypes.c_ssize_t),
                ("itemsize", ctypes.c_ssize_t), ("readonly", ctypes.c_int), ("ndim", ctypes.c_int),
                ("format", ctypes.c_char_p), ("shape", ctypes.c_void_p), ("strides", ctypes.c_void_p),
                ("suboffsets", ctypes.c_void_p), ("internal", ctypes.c_void_p)]


_get_buffer = ctypes.pythonapi.PyObject_GetBuffer
_get_buffer.argtypes = [ctypes.py_object, ctypes.POINTER(_PyBuffer), ctypes.c_int]
_release = ctypes.pythonapi.PyBuffer_Release
_release.argtypes = [ctypes.POINTER(_PyBuffer)]


def _address(view: memoryview) -> int:
    buffer = _PyBuffer()
    _get_buffer(view, ctypes.byref(buffer), 0)
    try:
        return buffer.buf
    finally:
        _release(ctypes.byref(buffer))


def ryml_walk(ryml: Any, text: bytes, positions: bool) -> list[Any]:
    """The documents of `text` as plain values (strings for every scalar)."""
    source = bytearray(text)
    base = ctypes.addressof(ctypes.c_char.from_buffer(source))
    tree = ryml.parse_in_place(source)
    none = ryml.NONE
    starts = [0]
    if positions:
        found = source.find(b"\n")
        while found >= 0:
            starts.append(found + 1)
            found = source.find(b"\n", found + 1)

    def value(node: int) -> Any:
        if tree.is_map(node) or tree.is_seq(node):
            is_map = tree.is_map(node)
            items: Any = {} if is_map else []
            child = tree.first_child(node)
            while child != none:
                if is_map:
                    items[bytes(tree.key(child)).decode()] = value(child)
                else:
                    items.append(value(child))
                child = tree.next_sibling(child)
            return items
        view = tree.val(node)
        if view is None:
            return None
        if positions and len(view):
            bisect.bisect_right(starts, _address(view) - base)  # the value's line
        return bytes(view).decode()

    root = tree.root_id()
    if not tree.is_stream(root):
        return [value(root)]
    documents, child = [], tree.first_child(root)
    while child != none:
        documents.append(value(child))
        child = tree.next_sibling(child)
    return documents


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--resources", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    try:
        import ryml
    except ImportError:
        sys.exit("rapidyaml is not installed: pip install rapidyaml")
    with tempfile.TemporaryDirectory() as directory:
        generate.write(args.resources, Path(directory))
        texts = [path.read_bytes() for path in sorted(Path(directory).glob("*.yaml"))]
    size = sum(map(len, texts)) / 1e6
    readers: dict[str, Callable[[], int]] = {
        "(a) PyYAML C loader": lambda: sum(len(list(yaml.load_all(t, Loader=yaml.CSafeLoader))) for t in texts),
        "(b) tdv's reader": lambda: sum(len(list(load_documents(t.decode()))) for t in texts),
        "(c) ryml parse only": lambda: sum(1 for t in texts if ryml.parse_in_place(bytearray(t)).size()),
        "(d) ryml + Python walk": lambda: sum(len(ryml_walk(ryml, t, False)) for t in texts),
        "(e) (d) + value lines": lambda: sum(len(ryml_walk(ryml, t, True)) for t in texts),
    }
    times: dict[str, list[float]] = {name: [] for name in readers}
    for _ in range(args.runs):
        for name, read in readers.items():
            start = time.perf_counter()
            read()
            times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"{args.resources} resources, {len(texts)} files, {size:.1f} MB; median of {args.runs} rounds")
    for name, seconds in medians.items():
        print(f"  {name:28s} {seconds:7.3f} s")
    b = medians["(b) tdv's reader"]
    print(f"tdv's reader / (d) = {b / medians['(d) ryml + Python walk']:.2f}x, "
          f"/ (e) = {b / medians['(e) (d) + value lines']:.2f}x (adoption needs a reader 2x faster than (b))")


if __name__ == "__main__":
    main()
