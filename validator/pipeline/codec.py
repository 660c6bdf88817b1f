"""The one encoding in which a shard's results cross a process boundary.

Each class that travels is declared in `ENCODED`, and travels as its tag and the values of
all its dataclass fields, in declaration order: a field added to a class travels without
anyone listing it, and a payload whose values do not match the receiving class's fields (a
field missing, or one it does not know) fails to decode with an error naming the class.
Policies travel as their index in the engine's list, which both processes hold.
"""

from __future__ import annotations

import dataclasses
import io
import operator
import pickle
from typing import Any, Sequence

from validator.fix.preview import FindingFix
from validator.fix.textedit import Replacement
from validator.inventory import Entry
from validator.model import (
    InputError,
    Location,
    Position,
    RelatedLocation,
    Resource,
    Result,
    SkipRule,
    StartOnly,
    Suppression,
    Violation,
)
from validator.pipeline.work import ShardResult


class EncodingError(Exception):
    """A payload that does not match the classes of this process."""


ENCODED: tuple[type, ...] = (ShardResult, Result, Violation, Location, Position, Resource, StartOnly, SkipRule,
                             Suppression, InputError, FindingFix, Replacement, RelatedLocation, Entry)
_FIELDS = {cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in ENCODED}
_TAGS = {cls: tag for tag, cls in enumerate(ENCODED)}


def encode(value: Any, policies: Sequence[Any]) -> bytes:
    buffer = io.BytesIO()
    _Pickler(buffer, policies).dump(value)
    return buffer.getvalue()


def decode(payload: bytes, policies: Sequence[Any]) -> Any:
    """Raises EncodingError for a payload this process cannot read."""
    global _policies
    _policies = policies
    try:
        return pickle.loads(payload)
    except EncodingError:
        raise
    except Exception as error:
        raise EncodingError(f"unreadable results: {type(error).__name__}: {error}") from None
    finally:
        _policies = ()


class _Pickler(pickle.Pickler):
    def __init__(self, file: Any, policies: Sequence[Any]):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        indexes = {id(policy): index for index, policy in enumerate(policies)}
        # Consulted only for objects pickle has no built-in rule for (not str, dict, ...).
        table: dict[type, Any] = {type(policy): lambda policy: (_policy_at, (indexes[id(policy)],))
                                  for policy in policies}
        for cls in ENCODED:
            names = _FIELDS[cls]
            values = operator.attrgetter(*names) if len(names) > 1 else (lambda obj, n=names[0]: (getattr(obj, n),))
            tag = _TAGS[cls]
            table[cls] = lambda obj, tag=tag, values=values: (_make, (tag, values(obj)))
        self.dispatch_table = table


_policies: Sequence[Any] = ()


def _policy_at(index: int) -> Any:
    try:
        return _policies[index]
    except IndexError:
        raise EncodingError(f"a result names policy #{index}; this process has {len(_policies)}") from None


def _make(tag: int, values: tuple[Any, ...]) -> Any:
    try:
        cls = ENCODED[tag]
    except IndexError:
        raise EncodingError(f"unknown class #{tag} in the results") from None
    names = _FIELDS[cls]
    if len(values) != len(names):
        raise EncodingError(f"{cls.__name__}: {len(values)} values for its {len(names)} fields"
                            f" ({', '.join(names)})")
    return cls(*values)
