"""Print pip constraints that pin every dependency pyproject.toml declares (runtime and
extras) to the lowest version it allows, so CI can prove those floors still work."""

import re
import sys
import tomllib
from pathlib import Path

project = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())["project"]
requirements = list(project["dependencies"])
for extra in project.get("optional-dependencies", {}).values():
    requirements += extra
pins = {}
for requirement in requirements:
    found = re.match(r"\s*([A-Za-z0-9._-]+)(?:\[[^\]]*\])?\s*[^;]*?>=\s*([0-9][^,;\s]*)", requirement)
    if not found:
        sys.exit(f"floors: no lower bound in {requirement!r}: every dependency needs one")
    pins[found.group(1).lower()] = found.group(2)
print("\n".join(f"{name}=={version}" for name, version in sorted(pins.items())))
