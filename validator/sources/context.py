"""What a source kind may need beyond the text of one file, shared by one scan."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from validator.sources.files import MAX_FILE_BYTES


@dataclass
class SourceContext:
    root: Path  # display paths are relative to it
    max_bytes: int = MAX_FILE_BYTES
    tf_root: Path | None = None  # where a plan's root module `.tf` files are (default: next to the plan)
    caches: dict[str, Any] = field(default_factory=dict)  # per-scan state kept by source kinds, by name
