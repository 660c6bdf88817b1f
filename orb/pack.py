"""Pack the orb sources in orb/src into one orb.yml, as `circleci orb pack` does.

    python orb/pack.py [--src orb/src] [-o orb.yml]

`@orb.yml` gives the top-level keys. Each YAML file under commands/, executors/, jobs/ and
examples/ becomes an entry named after the file. A string that is exactly
`<<include(PATH)>>` is replaced by the text of PATH, relative to the source directory.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

import yaml

SECTIONS = ("commands", "executors", "jobs", "examples")
INCLUDE = re.compile(r"^<<\s*include\(([^)]+)\)\s*>>$")
DEFAULT_SRC = Path(__file__).resolve().parent / "src"


def pack(src: Path) -> dict[str, Any]:
    orb = _load(src / "@orb.yml")
    for section in SECTIONS:
        folder = src / section
        files = sorted(folder.glob("*.yml")) + sorted(folder.glob("*.yaml")) if folder.is_dir() else []
        if files:
            orb[section] = {path.stem: _include(_load(path), src) for path in files}
    return orb


def _load(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _include(node: Any, src: Path) -> Any:
    if isinstance(node, dict):
        return {key: _include(value, src) for key, value in node.items()}
    if isinstance(node, list):
        return [_include(item, src) for item in node]
    if isinstance(node, str) and (match := INCLUDE.match(node.strip())):
        target = (src / match.group(1).strip()).resolve()
        if src.resolve() not in target.parents:
            raise ValueError(f"include outside the orb sources: {match.group(1)}")
        return target.read_text(encoding="utf-8")
    return node


class _Dumper(yaml.SafeDumper):
    """Writes multi-line strings (included scripts, descriptions) as literal blocks."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def dump(orb: dict[str, Any]) -> str:
    return yaml.dump(orb, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Pack orb sources into a single orb.yml.")
    parser.add_argument("--src", type=Path, default=DEFAULT_SRC, help="orb source directory (default: orb/src)")
    parser.add_argument("-o", "--output", type=Path, help="write here instead of standard output")
    args = parser.parse_args(argv)
    text = dump(pack(args.src))
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
