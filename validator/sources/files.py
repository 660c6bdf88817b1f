"""Finding input files and reading them as text, safely.

Directories are walked recursively, skipping hidden and VCS folders. Symbolic links are
followed only while they stay inside the tree being scanned; a link that leaves it, or a
loop, is reported as an input error.
"""

from __future__ import annotations

import codecs
import errno
import os
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from validator.model import InputProblem

MAX_FILE_BYTES = 16 * 1024 * 1024
STDIN = "-"
STDIN_NAME = "<stdin>"


@dataclass(frozen=True)
class InputFile:
    path: Path | None  # None for stdin
    display: str  # relative to the scan root, with forward slashes

    @property
    def suffix(self) -> str:
        return self.path.suffix.lower() if self.path else ""


def display_path(path: Path, root: Path) -> str:
    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(root).as_posix()
    except ValueError:
        return absolute.as_posix()


def discover(
    arguments: Iterable[str], root: Path, suffixes: frozenset[str], names: frozenset[str] = frozenset()
) -> Iterator[InputFile | InputProblem]:
    """Expand command-line arguments into input files, in a stable order. A directory yields
    its files with one of `suffixes`, and those named one of `names` (e.g. `Kustomization`)."""
    for argument in arguments:
        if argument == STDIN:
            yield InputFile(None, STDIN_NAME)
            continue
        path = Path(argument)
        display = display_path(path, root)
        if not os.path.lexists(path):
            yield InputProblem(display, "no such file or directory")
        elif path.is_dir():
            yield from _walk(path, root, suffixes, names)
        elif path.is_symlink() and (problem := _unresolvable(path)):
            yield InputProblem(display, problem)
        elif path.is_file():
            yield InputFile(path, display)
        else:
            yield InputProblem(display, "not a regular file")


def _unresolvable(path: Path) -> str | None:
    """Why a symbolic link cannot be followed, or None when it can."""
    try:
        path.resolve(strict=True)
    except RuntimeError:
        return "symbolic link loop"
    except OSError as error:
        return "symbolic link loop" if error.errno == errno.ELOOP else "broken symbolic link"
    return None


def _walk(  # noqa: C901 - the walk's order, link and boundary rules in one loop
        top: Path, root: Path, suffixes: frozenset[str], names: frozenset[str] = frozenset()
) -> Iterator[InputFile | InputProblem]:
    """Depth-first, in name order. Links to directories are walked last, and only when
    the directory they point to was not walked already (so each is walked once, under its
    own name when it is in the tree)."""
    boundary = Path(os.path.realpath(top))
    visited = {boundary}
    stack = [top]
    linked: deque[Path] = deque()
    while stack or linked:
        if not stack:
            link = linked.popleft()
            real = Path(os.path.realpath(link))
            if real not in visited:
                visited.add(real)
                stack.append(link)
            continue
        directory = stack.pop()
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name, reverse=True)
        except OSError as error:
            yield InputProblem(display_path(directory, root), f"cannot read directory: {error.strerror}")
            continue
        files: list[InputFile | InputProblem] = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            is_link = entry.is_symlink()
            if is_link:
                problem = _link_problem(path, boundary)
                if problem:
                    if path.suffix.lower() in suffixes or _points_to_dir(path):
                        files.append(InputProblem(display_path(path, root), problem))
                    continue
            if entry.is_dir():
                if is_link:
                    linked.append(path)
                    continue
                visited.add(Path(os.path.realpath(path)))
                stack.append(path)
            elif (path.suffix.lower() in suffixes or entry.name in names) and entry.is_file():
                files.append(InputFile(path, display_path(path, root)))
        yield from reversed(files)


def _points_to_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False


def _link_problem(path: Path, boundary: Path) -> str | None:
    problem = _unresolvable(path)
    if problem:
        return problem
    target = path.resolve()
    if target != boundary and boundary not in target.parents:
        return "symbolic link leaves the scanned tree; not followed"
    return None


def read_text(source: InputFile, max_bytes: int = MAX_FILE_BYTES) -> str | InputProblem:
    """Read a file as text: UTF-8 (with or without BOM) or UTF-16 with a BOM."""
    try:
        if source.path is None:
            data = sys.stdin.buffer.read(max_bytes + 1)
        else:
            with open(source.path, "rb") as handle:
                data = handle.read(max_bytes + 1)
    except OSError as error:
        return InputProblem(source.display, f"cannot read file: {error.strerror or error}")
    if len(data) > max_bytes:
        return InputProblem(source.display, f"file is larger than {_size(max_bytes)}; not scanned")
    return decode(data, source.display)


def _size(count: int) -> str:
    mebibytes, rest = divmod(count, 1024 * 1024)
    return f"{mebibytes} MiB" if mebibytes and not rest else f"{count} bytes"


def decode(data: bytes, display: str) -> str | InputProblem:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return InputProblem(display, "invalid UTF-16 text")
    if b"\x00" in data:
        return InputProblem(display, "binary file (contains NUL bytes); not scanned")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        return InputProblem(display, f"not valid UTF-8 text (byte 0x{data[error.start]:02x})", line)
