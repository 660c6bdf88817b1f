"""Text from the inputs, made safe to print: control characters are shown escaped.

A name or message read from a manifest can hold a carriage return (which, on a terminal or
in a CI log, overwrites the line it is on, e.g. with "0 findings"), escape sequences (ESC,
the 8-bit CSI), NUL, BEL, or Unicode bidirectional overrides that reorder what is shown.
`printable` writes each as `\\r`, `\\x1b`, `\\u202e`... so what is shown is what is there.
"""

from __future__ import annotations

import re

# C0 controls, DEL, C1 controls, and the Unicode characters that change the direction or
# the lines of what follows them (bidi marks, embeddings, overrides and isolates; line and
# paragraph separators).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` on one line, with every control character escaped."""
    return _UNSAFE.sub(_escaped, text) if _UNSAFE.search(text) else text

