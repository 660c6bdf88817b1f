"""The one encoding in which a shard's results cross a process boundary.

Each class that travels is declared in `ENCODED` and travels as the values of all its
dataclass fields, in declaration order: a field added to a class travels without anyone
listing it. A payload starts with the field names of every declared class as the sender
knew them; a receiver whose classes differ (a field missing, one it does not know, another
order) refuses the payload with an error naming the class, before reading anything else.
Only declared classes, the enumerations of the model and plain values are read back; any
other class is refused too. Policies travel as their index in the engine's list, which both
processes hold.
"""

from __future__ import annotations

import dataclasses
import enum
import io
import operator
import pickle
from typing import Any, Sequence

from validator import model
from validator.checks import Checks, Passed
from validator.fix.preview import FindingFix
from validator.fix.textedit import Replacement
from validator.inventory import Entry
from validator.model import (
    InputProblem,
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
from validator.sources.terraform_refs import Link, ResourceLinks
from validator.sources.terraform_relations import Entry as TerraformEntry


class EncodingError(Exception):
    """A payload that does not match the classes of this process."""


ENCODED: tuple[type, ...] = (ShardResult, Checks, Passed, Result, Violation, Location, Position, Resource, StartOnly,
                             SkipRule, Suppression, InputProblem, FindingFix, Replacement, RelatedLocation, Entry,
                             ResourceLinks, Link, TerraformEntry)
_FIELDS = {cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in ENCODED}
_HEADER = {f"{cls.__module__}.{cls.__qualname__}": names for cls, names in _FIELDS.items()}
# What a payload may name besides the declared classes: the model's enumerations and plain types.
_ALLOWED = {(cls.__module__, cls.__qualname__) for cls in ENCODED} | {
    (model.__name__, name) for name, value in vars(model).items()
    if isinstance(value, type) and issubclass(value, enum.Enum) and value.__module__ == model.__name__} | {
    ("builtins", "frozenset"), ("builtins", "set"), ("builtins", "complex"), ("datetime", "date"),
    (__name__, "_policy_at")}


def encode(value: Any, policies: Sequence[Any]) -> bytes:
    buffer = io.BytesIO()
    pickler = _Pickler(buffer, policies)
    pickler.dump(_HEADER)
    pickler.dump(value)
    return buffer.getvalue()


def decode(payload: bytes, policies: Sequence[Any]) -> Any:
    """Raises EncodingError for a payload this process cannot read."""
    global _policies
    _policies = policies
    try:
        reader = _Unpickler(io.BytesIO(payload))
        _check(reader.load())
        return reader.load()
    except EncodingError:
        raise
    except Exception as error:
        raise EncodingError(f"unreadable results: {type(error).__name__}: {error}") from None
    finally:
        _policies = ()


def _check(header: Any) -> None:
    """The sender's classes must be this process's, field for field."""
    if not isinstance(header, dict):
        raise EncodingError("unreadable results: no field list")
    for name, names in _HEADER.items():
        sent = header.get(name)
        if sent is None:
            raise EncodingError(f"{name}: the sender does not know this class")
        if tuple(sent) != names:
            raise EncodingError(f"{name}: the sender's fields ({', '.join(sent)}) are not this process's"
                                f" ({', '.join(names)})")
    unknown = sorted(set(header) - set(_HEADER))
    if unknown:
        raise EncodingError(f"unknown class {unknown[0]} in the results")


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
            table[cls] = lambda obj, cls=cls, values=values: (cls, values(obj))
        self.dispatch_table = table


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED:
            raise EncodingError(f"unknown class {module}.{name} in the results")
        return super().find_class(module, name)


_policies: Sequence[Any] = ()


def _policy_at(index: int) -> Any:
    try:
        return _policies[index]
    except IndexError:
        raise EncodingError(f"a result names policy #{index}; this process has {len(_policies)}") from None
