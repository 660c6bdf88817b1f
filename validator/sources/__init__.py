"""Sources: turn command-line paths into Resources (and InputErrors for what cannot be read).

Each input kind is one module exposing `SUFFIXES`, `accepts(suffix, text)` and
`parse(text, display)`. The first module that accepts a file parses it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Protocol, Iterator

from validator.model import InputError, Resource
from validator.sources import files, kubernetes


class SourceKind(Protocol):
    SUFFIXES: frozenset[str]

    def accepts(self, suffix: str, text: str) -> bool: ...

    def parse(self, text: str, display: str) -> Iterator[Resource | InputError]: ...


class _Kubernetes:
    SUFFIXES = kubernetes.SUFFIXES

    @staticmethod
    def accepts(suffix: str, text: str) -> bool:
        return suffix in kubernetes.SUFFIXES or suffix == ""

    @staticmethod
    def parse(text: str, display: str) -> Iterator[Resource | InputError]:
        return kubernetes.parse_manifests(text, display)


SOURCE_KINDS: list[SourceKind] = [_Kubernetes()]


@dataclass
class Inputs:
    resources: list[Resource] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    files: int = 0


def collect(arguments: Iterable[str], root: Path, max_bytes: int = files.MAX_FILE_BYTES) -> Inputs:
    suffixes = frozenset().union(*(kind.SUFFIXES for kind in SOURCE_KINDS))
    inputs = Inputs()
    for item in files.discover(arguments, root, suffixes):
        if isinstance(item, InputError):
            inputs.errors.append(item)
            continue
        inputs.files += 1
        text = files.read_text(item, max_bytes)
        if isinstance(text, InputError):
            inputs.errors.append(text)
            continue
        for kind in SOURCE_KINDS:
            if kind.accepts(item.suffix, text):
                for parsed in kind.parse(text, item.display):
                    target = inputs.errors if isinstance(parsed, InputError) else inputs.resources
                    target.append(parsed)
                break
    return inputs
