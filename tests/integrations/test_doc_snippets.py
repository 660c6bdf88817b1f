"""CI snippets in the docs are copies of the tested files in examples/ci/.

A snippet is marked by `<!-- include: examples/ci/FILE -->` on the line before its fenced
block, in README.md or docs/ci.md; the block must equal the file. Each file in examples/ci/
is checked for its CI system by the integration tests (schema, or a real run).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCS = ("README.md", "docs/ci.md")
MARKED = re.compile(r"^<!-- include: (\S+) -->\n```[\w-]*\n(.*?)^```$", re.M | re.S)
MARKER = re.compile(r"<!-- include: (\S+) -->")


def snippets(doc: str) -> list[tuple[str, str, str]]:
    text = (REPO / doc).read_text(encoding="utf-8")
    found = [(doc, m.group(1), m.group(2)) for m in MARKED.finditer(text)]
    assert len(found) == len(MARKER.findall(text)), f"{doc}: an include marker is not followed by a fenced block"
    return found


SNIPPETS = [item for doc in DOCS for item in snippets(doc)]


@pytest.mark.parametrize("doc,source,block", SNIPPETS, ids=[f"{d}:{s}" for d, s, _ in SNIPPETS])
def test_snippet_is_identical_to_its_example_file(doc, source, block):
    assert source.startswith("examples/ci/"), source
    assert block == (REPO / source).read_text(encoding="utf-8"), f"{doc}: snippet differs from {source}"


def test_ci_guide_shows_every_example():
    shown = {source for doc, source, _ in SNIPPETS if doc == "docs/ci.md"}
    assert shown == {f"examples/ci/{p.name}" for p in (REPO / "examples" / "ci").iterdir()}
