"""Loading without Python's cycle collector.

Loading allocates millions of small objects that all stay alive until the scan ends, so
every automatic collection would only walk them again (it made loading several times
slower). Loaded data holds no reference cycles: reference counting still frees garbage.
"""

from __future__ import annotations

import functools
import gc
from typing import Callable, TypeVar

T = TypeVar("T")


def without_cycle_collection(function: Callable[..., T]) -> Callable[..., T]:
    @functools.wraps(function)
    def wrapper(*args, **kwargs) -> T:
        enabled = gc.isenabled()
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            if enabled:
                gc.enable()

    return wrapper
