"""Functions shared by the rendering tests."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.helpers import DATA, tdv

RENDER_DATA = DATA / "render"
KEY_AT = re.compile(r"""(?:-\s+)?["']?([A-Za-z0-9_.$/-]+)["']?\s*:""")


def scan(*arguments: str, root: Path | None = None) -> tuple[int, dict, str]:
    """Exit code, JSON report and stderr of `tdv scan` (paths reported relative to `root`)."""
    extra = ["--root", str(root)] if root else []
    result = tdv("scan", "--no-config", *extra, *arguments, "-o", "json")
    return result.exit_code, json.loads(result.stdout), result.stderr


def findings(report: dict) -> list[dict]:
    return report["findings"]


def key_at(file: Path, line: int, column: int) -> str | None:
    """The YAML key written at a position of a file, if one is; `-` for a list item."""
    text = file.read_text(encoding="utf-8").splitlines()[line - 1]
    if text[: column - 1].rstrip().endswith("-"):
        return "-"
    match = KEY_AT.match(text, column - 1)
    return match.group(1) if match else None
