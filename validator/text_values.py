"""Text the CEL runtime can take: no lone UTF-16 surrogates.

The runtime holds text as UTF-8: a string with a lone UTF-16 surrogate (which only a JSON
escape such as `"\\ud800"` can produce) makes any evaluation touching the document fail,
whatever field the policy reads. So such text is replaced, surrogate by surrogate, with
U+FFFD before the document reaches CEL: odd text in one field never costs a finding on
another.
"""

from __future__ import annotations

import json
import re
from typing import Any

REPLACEMENT = "\ufffd"
_SURROGATE = re.compile("[\ud800-\udfff]")


def text_safe(document: Any) -> Any:
    """`document` itself when all its text is valid Unicode, else a copy with each lone
    surrogate (in keys and values) replaced by U+FFFD."""
    try:
        # One pass in C: the encoder keeps surrogates as they are, and UTF-8 refuses them.
        json.dumps(document, ensure_ascii=False, check_circular=False).encode("utf-8")
    except UnicodeEncodeError:
        return _replaced(document)
    except (TypeError, ValueError):
        return _replaced(document)  # not JSON-like (not from a source kind): walk it
    except RecursionError:
        pass  # beyond every source's nesting limit: left to the runtime as it is
    return document


def _replaced(value: Any) -> Any:
    if isinstance(value, str):
        return value if value.isascii() else _SURROGATE.sub(REPLACEMENT, value)
    if isinstance(value, dict):
        return {_replaced(key): _replaced(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_replaced(item) for item in value]
    return value
