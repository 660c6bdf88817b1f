"""Baseline: the findings a repository already had, recorded so that only new ones fail.

The file is versioned JSON (see docs/suppressions.md): one entry per finding with its
fingerprint (validator.fingerprint: no line numbers; unique in the report) and, for people
reading the file, the policy id, resource, field, message and file. Messages are the
ones every report shows; no value from the scanned files is written.

Matching takes a fingerprint and message together first, then the fingerprint alone, so
a finding whose message changed (say, a new image tag) is still known, and two findings
that share a fingerprint are counted one by one: a third one is new.

Version 2 files hold fingerprints of the current scheme (with the file, without names that
change at each render). A version 1 file, written by an earlier tdv, is still read: its
entries are matched with fingerprints of the old scheme, and a warning asks to write the
baseline again with `--write-baseline`.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable

from validator.document_reader import DocumentReader
from validator.fingerprint import fingerprint_v1, fingerprints
from validator.model import BaselineState, Result, Status, format_path
from validator.sources.yaml_loader import YamlError, load_documents

FORMAT = "tdv-baseline"
VERSION = 2
READS = (1, 2)  # version 1: fingerprints of scheme 1 (see validator.fingerprint)
log = logging.getLogger(__name__)
_FINGERPRINT = re.compile(r"^[0-9a-f]{32}$")
_ENTRY_KEYS = {"fingerprint": True, "policyId": True, "resource": False, "field": False, "message": False,
               "path": False}


class BaselineError(Exception):
    def __init__(self, path: str, message: str, line: int | None = None):
        super().__init__(f"{path}:{line}: {message}" if line else f"{path}: {message}")
        self.path, self.message, self.line = path, message, line


class _Reader(DocumentReader):
    error = BaselineError


@dataclass(frozen=True)
class Entry:
    fingerprint: str
    policy_id: str
    resource: str = ""
    field: str = ""
    message: str = ""
    path: str = ""

    def to_json(self) -> dict[str, str]:
        return {"policyId": self.policy_id, "resource": self.resource, "field": self.field,
                "message": self.message, "path": self.path, "fingerprint": self.fingerprint}


@dataclass
class Baseline:
    display: str  # the file, as shown in messages
    entries: list[Entry]
    version: int = VERSION


def entries(results: Iterable[Result]) -> list[Entry]:
    """One entry per finding that counts: failures not suppressed."""
    results = list(results)
    keys = fingerprints(results)
    found = [
        Entry(keys[(id(r), n)], r.policy.id, r.resource.ref, format_path(v.field_path), v.message, v.location.path)
        for r in results if _is_active(r)
        for n, v in enumerate(r.violations)
    ]
    return sorted(found, key=lambda e: (e.policy_id, e.resource, e.field, e.message, e.fingerprint, e.path))


def _is_active(result: Result) -> bool:
    return result.status is Status.FAIL and result.suppression is None


def render(found: list[Entry]) -> str:
    data = {"format": FORMAT, "version": VERSION, "findings": [e.to_json() for e in found]}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def write(path: Path, found: list[Entry], display: str | None = None) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(found), encoding="utf-8")
    except OSError as error:
        raise BaselineError(display or str(path), f"cannot write baseline: {error.strerror or error}") from None


def load(path: Path, display: str | None = None) -> Baseline:
    display = display or str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise BaselineError(display, f"cannot read baseline: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise BaselineError(display, "baseline is not UTF-8 text") from None
    documents = list(load_documents(text))
    if len(documents) != 1:
        raise BaselineError(display, "not a tdv baseline (expected one JSON object)")
    document = documents[0]
    if isinstance(document, YamlError):
        raise BaselineError(display, document.message.replace("YAML", "JSON"), document.line)
    reader = _Reader(document, display)
    data = document.data
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BaselineError(display, f"not a tdv baseline (expected \"format\": \"{FORMAT}\")", document.line)
    reader.check_keys(data, (), {"format": True, "version": True, "findings": True})
    version = data["version"]
    if type(version) is not int or version not in READS:
        reader.fail(("version",), f"unsupported baseline version (this tdv reads versions"
                                  f" {', '.join(map(str, READS))})")
    items = reader.sequence(data["findings"], ("findings",))
    entries = [_entry(reader, item, index) for index, item in enumerate(items)]
    if version < VERSION:  # only once the file is known to be readable: an error is the one line a bad file gets
        log.warning("%s: a baseline of version %d (written by an earlier tdv): its findings are matched as that"
                    " version identified them; write it again with --write-baseline", display, version)
    return Baseline(display, entries, version)


def _entry(reader: _Reader, item: object, index: int) -> Entry:
    path = ("findings", index)
    item = reader.mapping(item, path)
    reader.check_keys(item, path, _ENTRY_KEYS)
    key = reader.string(item, path + ("fingerprint",))
    if not _FINGERPRINT.match(key):
        reader.fail(path + ("fingerprint",), "fingerprint must be 32 lower-case hex digits")
    texts = {name: reader.string(item, path + (name,), required=False) for name in _ENTRY_KEYS if name in item}
    return Entry(key, reader.string(item, path + ("policyId",)), texts.get("resource", ""), texts.get("field", ""),
                 texts.get("message", ""), texts.get("path", ""))


def apply(results: list[Result], baseline: Baseline, policy_ids: Iterable[str] | None = None
          ) -> tuple[list[Result], list[Entry]]:
    """Mark each finding that counts (a failure not suppressed) new or unchanged; returns the
    results and the entries no longer found. With `policy_ids` (the policies the scan
    reports on), entries of other policies are never called absent."""
    remaining: dict[str, list[Entry]] = {}
    for entry in baseline.entries:
        remaining.setdefault(entry.fingerprint, []).append(entry)
    keys = fingerprints(results) if baseline.version >= 2 else {
        (id(r), n): fingerprint_v1(r.policy.id, r.resource, v.field_path)
        for r in results for n, v in enumerate(r.violations)}
    findings = [
        (r_index, v_index, keys[(id(r), v_index)], v.message)
        for r_index, r in enumerate(results) if _is_active(r)
        for v_index, v in enumerate(r.violations)
    ]
    known: set[tuple[int, int]] = set()
    for exact in (True, False):
        for r_index, v_index, key, message in findings:
            candidates = remaining.get(key)
            if (r_index, v_index) in known or not candidates:
                continue
            match = next((e for e in candidates if e.message == message), None) if exact else candidates[0]
            if match is not None:
                candidates.remove(match)
                known.add((r_index, v_index))
    marked = list(results)
    for r_index, result in enumerate(results):
        if _is_active(result):
            marked[r_index] = replace(result, violations=[
                replace(v, baseline=BaselineState.UNCHANGED if (r_index, v_index) in known else BaselineState.NEW)
                for v_index, v in enumerate(result.violations)
            ])
    in_scope = set(policy_ids) if policy_ids is not None else None
    absent = [entry for group in remaining.values() for entry in group
              if in_scope is None or entry.policy_id in in_scope]
    return marked, absent
