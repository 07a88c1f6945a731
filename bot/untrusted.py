"""Reading what strangers send: JSON within bounds, and numbers in ASCII digits only (pure).

Python's own readers are generous in ways that end in a 500. `json.loads` raises ValueError
(not JSONDecodeError) for an integer past 4,300 digits and RecursionError for deep nesting, and
what it does decode may still be deep enough to break the next piece of code that walks it.
`str.isdigit()` and `int()` accept "²", "٣" and "１２３", and a row id past 2**31 overflows
both databases. Webhook bodies, Meta's signed requests, URLs and form fields are read here, so
each is refused one way: `UntrustedInput` (a ValueError) or None, which callers answer with a
4xx.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Meta's payloads nest about ten deep (object > entry > messaging > message > attachments >
# payload > elements > buttons); anything far deeper is not from Meta.
MAX_JSON_DEPTH = 64
# Row ids are 32-bit on PostgreSQL (SERIAL) and compared as such on SQLite.
MAX_ROW_ID = 2**31 - 1
_ASCII_NUMBER = re.compile(r"[0-9]{1,19}")


class UntrustedInput(ValueError):
    """Input that is malformed, too large or too deep to be read."""


def json_loads(text: str | bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Decode JSON text, or raise UntrustedInput for any failure at all, depth included."""
    try:
        value = json.loads(text)
    # ValueError covers JSONDecodeError, UnicodeDecodeError and the int-length limit.
    except (ValueError, RecursionError) as exc:
        raise UntrustedInput(f"malformed JSON: {type(exc).__name__}") from None
    if _depth_exceeds(value, max_depth):
        raise UntrustedInput(f"malformed JSON: nested deeper than {max_depth}")
    return value


def _depth_exceeds(value: Any, limit: int) -> bool:
    """True when containers nest deeper than `limit`; walked without recursion."""
    stack = [(value, 1)] if isinstance(value, dict | list) else []
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


def ascii_int(text: str | None, *, low: int = 0, high: int = MAX_ROW_ID) -> int | None:
    """The number `text` spells in ASCII digits (no sign, space or other script), within
    [low, high]; None for anything else."""
    if text is None or not _ASCII_NUMBER.fullmatch(text):
        return None
    number = int(text)
    return number if low <= number <= high else None
