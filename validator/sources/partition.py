"""Splitting a scan's inputs over several CI executors: `tdv scan --shard I/N`.

The inputs are cut into units that are read together, and the units are dealt out to N
shards, balanced by size: the largest unit first, each to the shard with the least bytes so
far (ties to the lower shard number). Units and sizes come from the tree alone, so every
executor that checks out the same tree computes the same partition without talking to the
others.

A unit is:
- a manifest file that is read on its own (see `sources.can_defer`);
- a Helm chart, or a Kustomize overlay, with every other overlay that shares a base or a
  file with it (a base shared unchanged is evaluated once, as in a scan in one piece);
- all Terraform inputs together (`.tf` files, and the JSON files that may be plans): a plan
  claims the `.tf` files of any module directory it calls, so they are never split;
- standard input.
An unreadable path given on the command line is a unit of its own, so that its error is
reported once.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from validator.model import InputProblem
from validator.sources.files import InputFile, display_path
from validator.sources.render.plan import Target

TERRAFORM = "terraform"
STDIN = "stdin"
_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class Part:
    """Shard `index` of `total` (1-based, as CI systems number their executors from 0 or 1:
    see the examples in docs/ci.md). With `others`, the inputs of every other shard: read only
    for the inventory of cross-resource policies."""

    index: int
    total: int
    others: bool = False

    @classmethod
    def parse(cls, text: str) -> "Part":
        """`I/N`, with 1 <= I <= N. Raises ValueError."""
        match = _SPEC.match(text)
        if not match:
            raise ValueError(f"{text!r} is not a shard: write I/N, such as 2/5 for the second of five")
        index, total = int(match.group(1)), int(match.group(2))
        if total < 1 or not 1 <= index <= total:
            raise ValueError(f"shard {index}/{total} does not exist: I/N needs 1 <= I <= N")
        return cls(index, total)

    def complement(self) -> "Part":
        return Part(self.index, self.total, others=True)

    def holds(self, shard: int) -> bool:
        return (shard == self.index) != self.others

    def __str__(self) -> str:
        return f"{self.index}/{self.total}"


@dataclass
class Selection:
    """What one part of a partition reads."""

    items: list[InputFile | InputProblem]
    targets: list[Target]
    consumed: int  # the files of its charts and overlays


def select(part: Part, items: Sequence[InputFile | InputProblem], targets: Sequence[Target],
           consumed: Sequence[InputFile], root: Path, reads_alone: Callable[[InputFile], bool]) -> Selection:
    """The items, targets and consumed files (those of charts and overlays) of `part`."""
    item_keys = [_item_key(item, reads_alone) for item in items]
    target_keys = _target_keys(targets, root)
    consumed_keys = [_owner(item, targets, target_keys) for item in consumed]
    sizes: Counter[str] = Counter()
    for item, key in zip(items, item_keys):
        sizes[key] += _size(item)
    for key in target_keys:
        sizes[key] += 0
    for item, key in zip(consumed, consumed_keys):
        sizes[key] += _size(item)
    shard_of = assign(sizes, part.total)
    return Selection(
        items=[item for item, key in zip(items, item_keys) if part.holds(shard_of[key])],
        targets=[target for target, key in zip(targets, target_keys) if part.holds(shard_of[key])],
        consumed=sum(1 for key in consumed_keys if part.holds(shard_of[key])),
    )


def assign(sizes: dict[str, int], total: int) -> dict[str, int]:
    """The shard (1-based) of each unit: largest first, each to the least loaded shard."""
    loads = [0] * total
    shard_of: dict[str, int] = {}
    for key in sorted(sizes, key=lambda k: (-sizes[k], k)):
        lightest = min(range(total), key=lambda n: (loads[n], n))
        loads[lightest] += sizes[key]
        shard_of[key] = lightest + 1
    return shard_of


def _item_key(item: InputFile | InputProblem, reads_alone: Callable[[InputFile], bool]) -> str:
    if isinstance(item, InputProblem):
        return f"problem:{item.path}"
    if item.path is None:
        return STDIN
    return f"file:{item.display}" if reads_alone(item) else TERRAFORM


def _target_keys(targets: Sequence[Target], root: Path) -> list[str]:
    """Each target's unit: overlays that share a file or folder are one unit, named after the
    first of them."""
    parent = list(range(len(targets)))

    def find(n: int) -> int:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    first_user: dict[Path, int] = {}
    for number, target in enumerate(targets):
        for path in sorted({target.directory, *target.uses}):
            other = first_user.setdefault(path, number)
            if other != number:
                a, b = find(other), find(number)
                parent[max(a, b)] = min(a, b)
    return [f"render:{display_path(targets[find(n)].directory, root)}" for n in range(len(targets))]


def _owner(item: InputFile, targets: Sequence[Target], target_keys: list[str]) -> str:
    """The unit of a chart's or overlay's file: the first target it lies in or that uses it."""
    path = Path(os.path.abspath(item.path)) if item.path is not None else None
    if path is not None:
        for target, key in zip(targets, target_keys):
            if any(folder == path or folder in path.parents for folder in (target.directory, *target.uses)):
                return key
    return "render:"  # a file no rendered target reads (a Component nothing uses)


def _size(item: InputFile | InputProblem) -> int:
    if isinstance(item, InputProblem) or item.path is None:
        return 0
    try:
        return os.stat(item.path).st_size
    except OSError:
        return 0
