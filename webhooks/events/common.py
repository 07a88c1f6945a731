"""Defensive field readers, time parsing and delivery keys shared by the payload parsers (pure)."""

from __future__ import annotations

import hashlib
import json
import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from webhooks.events.types import UNKNOWN_TIME

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Meta mixes units: feed created_time and feed/IG-comment entry.time are seconds, messaging
# timestamp and entry.time are milliseconds, and the IG dashboard "Test" button sends seconds
# as a string where real DMs send milliseconds. Magnitude settles it: 1e11 seconds is the
# year 5138 and 1e11 milliseconds is 1973, so no plausible date is ambiguous.
_MILLISECONDS_FROM = 10**11
# Anything outside this window is junk (Meta platform ids, test values); fall back instead.
_PLAUSIBLE_FROM = datetime(2000, 1, 1, tzinfo=UTC)
_PLAUSIBLE_UNTIL = datetime(2100, 1, 1, tzinfo=UTC)

_SURROGATES = re.compile("[\ud800-\udfff]")
_NUMBER = re.compile(r"[0-9]{1,20}(\.[0-9]{1,9})?")
# Key parts made of these characters are kept readable; anything else (or longer) is hashed,
# so keys stay short and ':' always separates parts.
_SAFE_KEY_PART = re.compile(r"[A-Za-z0-9_.=+/-]{1,64}")
_KEY_HASH_HEX = 32  # 128 bits: collisions are not a practical concern for idempotency


def as_dict(value: Any) -> dict:
    """Return value when it is a dict, else an empty dict (absent and malformed look alike)."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list:
    """Return value when it is a list, else an empty list."""
    return value if isinstance(value, list) else []


def clean_text(value: Any) -> str | None:
    """Return value as a string that is safe to store, or None when it is not text.

    json.loads accepts lone surrogates ("\\ud800") that UTF-8 encoders refuse, and PostgreSQL
    text refuses NUL; both become U+FFFD so storing never fails. Numbers are kept as text
    (a message of digits must still be moderated); objects and lists are not text.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        try:
            value = str(value)
        except ValueError:  # int beyond Python's str conversion limit
            return None
    if not isinstance(value, str):
        return None
    if not value.isascii():
        value = _SURROGATES.sub("\ufffd", value)
    return value.replace("\x00", "\ufffd")


def clean_id(value: Any) -> str | None:
    """Return a platform id as a non-empty string, or None.

    Meta sends ids as strings, but echo app_id, test-button payloads and hand-built events
    carry ints; coercing both to str keeps keys and lookups identical. Non-integral floats
    and containers are not ids.
    """
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            return None
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        text = clean_text(value)
    elif isinstance(value, str):
        text = clean_text(value)
        text = text.strip() if text is not None else None
    else:
        return None
    return text or None


def flag(value: Any) -> bool:
    """Return True only for an explicit true (true, 1 or "true"); anything odd is False."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value == 1
    return isinstance(value, str) and value.strip().lower() == "true"


def to_utc(value: Any) -> datetime | None:
    """Return a timezone-aware UTC datetime from epoch seconds/milliseconds or ISO text."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if _NUMBER.fullmatch(text):
            value = float(text) if "." in text else int(text)
        else:
            return _from_iso(text)
    if not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    try:
        if value >= _MILLISECONDS_FROM:
            moment = _EPOCH + timedelta(milliseconds=value)
        else:
            moment = _EPOCH + timedelta(seconds=value)
    except (OverflowError, ValueError):
        return None
    return moment if _PLAUSIBLE_FROM <= moment < _PLAUSIBLE_UNTIL else None


def _from_iso(text: str) -> datetime | None:
    """Parse Graph-style ISO text ('2025-03-22T18:20:04+0000'); naive times are taken as UTC."""
    if len(text) > 40:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:
        return None
    return moment if _PLAUSIBLE_FROM <= moment < _PLAUSIBLE_UNTIL else None


def first_time(*candidates: Any) -> datetime:
    """Return the first candidate that parses as a time, else UNKNOWN_TIME."""
    for candidate in candidates:
        moment = to_utc(candidate)
        if moment is not None:
            return moment
    return UNKNOWN_TIME


def epoch_part(value: Any) -> str | None:
    """Return a time as integer milliseconds text for use inside a key, or None."""
    moment = to_utc(value)
    if moment is None:
        return None
    return str((moment - _EPOCH) // timedelta(milliseconds=1))


def url_identity(url: str | None) -> str | None:
    """Return a media URL without its query string.

    CDN links (scontent, lookaside.fbsbx.com) carry expiring signature parameters in the
    query; the path names the asset. Hashing the path keeps keys stable if a URL is re-signed.
    """
    return url.split("?", 1)[0] if url else url


def content_version(*parts: Any) -> str:
    """Return a short, deterministic hash of the parts that distinguish one update from another."""
    encoded = json.dumps(parts, ensure_ascii=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode("ascii")).hexdigest()[:16]


def delivery_key(channel: str, verb: str, external_id: str, version: str | None = None) -> str:
    """Return '<channel>:<verb>:<id>[:<version>]', hashing any part that is long or odd.

    The key names the update, not the delivery, so Meta's retries (same body, up to 36 h)
    map to the same key; version tells apart several updates of one verb to one item.
    The account id is deliberately left out: the same DM can arrive through both the
    Messenger-platform and the Instagram-login connection with different entry ids, and
    Meta's ids are globally unique anyway.
    """
    parts = [channel, verb, _key_part(external_id)]
    if version:
        parts.append(_key_part(version))
    return ":".join(parts)


def _key_part(value: str) -> str:
    if _SAFE_KEY_PART.fullmatch(value):
        return value
    # '#' is outside the safe set, so a hashed part can never equal a readable one.
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
    return "#" + digest[:_KEY_HASH_HEX]


def short(value: Any, limit: int = 40) -> str:
    """Return a short repr for reasons, so attacker-sized strings never end up in logs."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
