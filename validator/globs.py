"""Glob patterns for policy ids, resource names and file paths.

Only `*` (any run of characters) and `?` (one character) are special; brackets are literal,
because Terraform addresses contain them (`aws_s3_bucket.logs["eu"]`). In a path pattern
`*` and `?` stay within one directory, `**` spans any number of them, and a pattern that
matches a directory matches everything below it (`vendor` matches `vendor/a/b.yaml`).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable

GLOB_CHARACTERS = frozenset("*?")


def is_glob(pattern: str) -> bool:
    return any(char in GLOB_CHARACTERS for char in pattern)


@lru_cache(maxsize=1024)
def compile_glob(pattern: str, path: bool = False, ignore_case: bool = False) -> re.Pattern[str]:
    if path:
        pattern = pattern.strip().removeprefix("./").rstrip("/")
    parts: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if path and pattern.startswith("**", index):
            index += 2
            if pattern.startswith("/", index):  # `**/`: zero or more directories
                parts.append("(?:.*/)?")
                index += 1
            else:
                parts.append(".*")
            continue
        if char == "*":
            parts.append("[^/]*" if path else ".*")
        elif char == "?":
            parts.append("[^/]" if path else ".")
        else:
            parts.append(re.escape(char))
        index += 1
    suffix = "(?:/.*)?" if path else ""
    return re.compile("".join(parts) + suffix, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def matches_any(patterns: Iterable[str], text: str, path: bool = False, ignore_case: bool = False) -> bool:
    if path:
        text = text.removeprefix("./")
    return any(compile_glob(p, path, ignore_case).fullmatch(text) for p in patterns)
