"""docs/policies.md is generated from the policy files and must be regenerated when they change."""

import difflib
import re
from pathlib import Path

import pytest

from validator.docs import CATALOGUE_COMMAND, catalogue_markdown
from validator.engine.library import load_policies

CATALOGUE = Path(__file__).resolve().parent.parent / "docs" / "policies.md"


def test_the_policy_catalogue_is_up_to_date():
    expected = catalogue_markdown(load_policies([]))
    actual = CATALOGUE.read_text(encoding="utf-8") if CATALOGUE.is_file() else ""
    if actual != expected:
        diff = list(difflib.unified_diff(actual.splitlines(), expected.splitlines(), "committed", "generated", lineterm=""))
        pytest.fail(f"docs/policies.md is stale; regenerate it with `{CATALOGUE_COMMAND}`\n" + "\n".join(diff[:30]))


def test_every_policy_has_a_stable_anchor_the_table_links_to():
    text = catalogue_markdown(load_policies([]))
    anchors = re.findall(r'<a id="([^"]+)"></a>', text)
    links = re.findall(r"^\| \[[^\]]+\]\(#([^)]+)\)", text, re.MULTILINE)
    ids = [p.id for p in load_policies([])]
    assert anchors == links == [i.lower() for i in sorted(ids)]
