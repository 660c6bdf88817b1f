"""The scan pipeline: settings resolved once (options), the policies (library), one unit of
work for every shard (work, executor, codec), and the stages assembled in one place (scan).
See docs/architecture.md."""

from validator.pipeline.options import ScanFlags, ScanOptions, read_config, resolve
from validator.pipeline.scan import run, scan

__all__ = ["ScanFlags", "ScanOptions", "read_config", "resolve", "run", "scan"]
