"""Counts in human output: "1 resource", "2 resources"."""

from __future__ import annotations

_IRREGULAR = {"policy": "policies", "is": "are"}


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """`number` and `noun`, the noun in the plural unless the number is 1."""
    return f"{number} {noun if number == 1 else plural or plural_of(noun)}"


def plural_of(noun: str) -> str:
    last = noun.rsplit(" ", 1)[-1]
    if last in _IRREGULAR:
        return noun[: len(noun) - len(last)] + _IRREGULAR[last]
    return noun + "s"
