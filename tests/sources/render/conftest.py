import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from validator.cli import main

RENDER_DATA = Path(__file__).resolve().parents[2] / "data" / "render"
KEY_AT = re.compile(r"""(?:-\s+)?["']?([A-Za-z0-9_.$/-]+)["']?\s*:""")


@pytest.fixture
def render_data() -> Path:
    """Real charts and overlays copied from public projects (see tests/SOURCES.tsv)."""
    return RENDER_DATA


def scan(*arguments: str, root: Path | None = None) -> tuple[int, dict, str]:
    """Exit code, JSON report and stderr of `tdv scan` (paths reported relative to `root`)."""
    extra = ["--root", str(root)] if root else []
    result = CliRunner().invoke(main, ["scan", "--no-config", *extra, *arguments, "-o", "json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, json.loads(result.stdout), result.stderr


def findings(report: dict) -> list[dict]:
    return report["findings"]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def key_at(file: Path, line: int, column: int) -> str | None:
    """The YAML key written at a position of a file, if one is; `-` for a list item."""
    text = file.read_text(encoding="utf-8").splitlines()[line - 1]
    if text[: column - 1].rstrip().endswith("-"):
        return "-"
    match = KEY_AT.match(text, column - 1)
    return match.group(1) if match else None
