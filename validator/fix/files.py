"""Reading the files to fix and writing them back, safely.

A file is edited only when its real path (symbolic links resolved) is inside the root, it
is not generated (rendered Helm output, or a `Code generated ... DO NOT EDIT` header), and
it is UTF-8 text. It is written atomically (a temporary file in the same directory, then a
rename) with its permissions, its byte order marks and its line breaks kept.

The byte order marks at the start of a file (one, or several: a file concatenated from
others) are not part of the text the editors see, since the YAML and HCL readers skip them
without counting them in their positions; they are written back as they were.
"""

from __future__ import annotations

import codecs
import os
import re
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from validator.fix.textedit import Refused

_HELM_SOURCE = re.compile(r"^# Source: \S", re.MULTILINE)
_GENERATED = re.compile(r"^\s*(?:#|//)\s*Code generated\b.*\bDO NOT EDIT\b", re.MULTILINE | re.IGNORECASE)
_HEADER_LINES = 20  # where a generated-file header is looked for


@dataclass(frozen=True)
class SourceText:
    path: Path  # the real file, inside the root
    display: str
    text: str
    bom: int  # how many byte order marks the file starts with
    mode: int  # permission bits


def resolve(display: str, root: Path) -> Path:
    """The real path of a file the scan shows as `display` (relative to the root), checked
    to be inside the root."""
    if display.startswith("<"):
        raise Refused("it was read from standard input")
    real_root = Path(os.path.realpath(root))
    real = Path(os.path.realpath(root / display))
    if real != real_root and real_root not in real.parents:
        raise Refused(f"it is outside the root {real_root.as_posix()} (symbolic links resolved); use --root")
    for directory in real.parents:
        if (directory / "Chart.yaml").is_file() and real.relative_to(directory).parts[0] == "templates":
            raise Refused("it is a Helm template; fix the chart's templates or values by hand")
        if directory == real_root:
            break
    return real


def read(display: str, root: Path) -> SourceText:
    path = resolve(display, root)
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise Refused("it is not a regular file")
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        raise Refused(f"it cannot be read: {error.strerror or error}") from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise Refused("it is UTF-16 text; tdv edits UTF-8 files only")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused("it is not valid UTF-8 text") from None
    marks = len(text) - len(text.lstrip("\ufeff"))
    text = text[marks:]
    problem = generated(text)
    if problem:
        raise Refused(problem)
    return SourceText(path, display, text, marks, stat.S_IMODE(info.st_mode))


def generated(text: str) -> str | None:
    """Why a file must not be edited by hand, or None."""
    if _HELM_SOURCE.search(text):
        return "it is rendered by Helm (`# Source:` comments); fix the chart's templates or values instead"
    header = "\n".join(text.splitlines()[:_HEADER_LINES])
    if _GENERATED.search(header):
        return "it is a generated file (`Code generated ... DO NOT EDIT`); fix what generates it instead"
    return None


def write(source: SourceText, text: str) -> None:
    """Replace the file atomically; raises OSError."""
    data = codecs.BOM_UTF8 * source.bom + text.encode("utf-8")
    directory = source.path.parent
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{source.path.name}.", suffix=".tdv-fix")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, source.mode)
        os.replace(temporary, source.path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
