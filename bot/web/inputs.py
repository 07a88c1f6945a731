"""Numbers in URLs and query strings, read one way (bot.untrusted.ascii_int) for every page.

Werkzeug's `<int:...>` matches `\\d+`, which in Python is any script's digits ("٣" reaches
case 3), and passes ids that overflow the database. `install` replaces it on the app, so every
`<int:...>` in every blueprint reads ASCII digits within a row id's range, and anything else is
a 404. A number in a query string that does not parse is a 400; forms keep their own messages
and call `ascii_int` directly.
"""

from __future__ import annotations

import re

from flask import Flask, abort, request
from werkzeug.routing import IntegerConverter, ValidationError

from bot.untrusted import MAX_ROW_ID, ascii_int

# A Meta id (a Page's or an Instagram account's): opaque, but always ASCII digits.
META_ID = re.compile(r"[0-9]{1,64}", re.ASCII)


class AsciiIdConverter(IntegerConverter):
    """`<int:name>`: a row id in ASCII digits, 0 to MAX_ROW_ID."""

    regex = r"[0-9]+"

    def to_python(self, value: str) -> int:
        number = ascii_int(value, high=MAX_ROW_ID if self.max is None else self.max)
        if number is None or (self.min is not None and number < self.min):
            raise ValidationError()
        return number


def install(app: Flask) -> None:
    """Make `<int:...>` the ASCII converter; must run before any blueprint is registered."""
    app.url_map.converters["int"] = AsciiIdConverter


def query_int(name: str, default: int, *, low: int = 0, high: int = MAX_ROW_ID) -> int:
    """A number from the query string: `default` when absent or empty, 400 when malformed."""
    raw = request.args.get(name, "")
    if not raw:
        return default
    number = ascii_int(raw, low=low, high=high)
    if number is None:
        abort(400, description=f"'{name}' must be a whole number from {low} to {high}.")
    return number


def query_meta_id(name: str, known: set[str]) -> str | None:
    """A page or account id from the query string: None when absent or empty, 400 when it is
    not ASCII digits or not one of `known` (the pages Haven looks after)."""
    raw = request.args.get(name, "")
    if not raw:
        return None
    if not META_ID.fullmatch(raw):
        abort(400, description=f"'{name}' must be a page's id, in digits.")
    if raw not in known:
        abort(400, description=f"Haven looks after no page with the id {raw}.")
    return raw
