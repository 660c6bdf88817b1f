"""Running without Python's cycle collector.

Loading and evaluating allocate millions of small objects that all stay alive until the
scan ends, so every automatic collection would only walk them again (it made loading
several times slower). They hold no reference cycles: reference counting still frees
garbage.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused_cycle_collection() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
