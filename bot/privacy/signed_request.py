"""Meta's `signed_request` (data-deletion callback): checked before anything in it is read.

"<base64url signature>.<base64url JSON>", the signature an HMAC-SHA256 of the second part, as
sent, under the app secret. The order matters: the shape is checked with a regular expression,
then the HMAC in constant time over the raw second part, and only a request Meta signed is
decoded (bounded, bot.untrusted) and dated. facebook-sdk's `parse_signed_request` decoded the
JSON first, compared with `!=` and ignored `issued_at` (docs/decisions.md).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Any

from bot.untrusted import UntrustedInput, json_loads

# 43 characters are 32 bytes of base64url (the HMAC); Meta leaves out the padding.
SHAPE = re.compile(r"([A-Za-z0-9_-]{43})=?\.([A-Za-z0-9_-]{8,8000}={0,2})")
ALGORITHM = "HMAC-SHA256"
USER_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")
# A request dated this far ahead of our clock is still taken: clocks drift.
CLOCK_SKEW_SECONDS = 300


class Malformed(ValueError):
    """Not a signed request, or a signed one Haven cannot read: a 400."""


class Refused(ValueError):
    """Not signed with this app's secret, or not fresh: a 403."""


@dataclass(frozen=True)
class DeletionRequest:
    user_id: str
    issued_at: int


def read_signed_request(
    signed_request: str, secret: str, *, now: float, max_age_seconds: int
) -> DeletionRequest:
    """The verified, fresh request; raises Malformed or Refused."""
    shape = SHAPE.fullmatch(signed_request)
    if shape is None:
        raise Malformed("malformed signed_request")
    signature_part, payload_part = shape.groups()
    signature = _b64decode(signature_part)
    expected = hmac.new(secret.encode(), payload_part.encode("ascii"), hashlib.sha256).digest()
    if not hmac.compare_digest(expected, signature):
        raise Refused("signature does not match")
    try:
        payload = json_loads(_b64decode(payload_part).decode("utf-8"))
    except (UnicodeDecodeError, UntrustedInput):
        raise Malformed("signed_request does not hold JSON") from None
    if not isinstance(payload, dict):
        raise Malformed("signed_request does not hold a JSON object")
    if payload.get("algorithm") != ALGORITHM:
        raise Refused("signed_request is not signed with HMAC-SHA256")
    issued_at = _issued_at(payload)
    if not now - max_age_seconds <= issued_at <= now + CLOCK_SKEW_SECONDS:
        raise Refused("signed_request is too old, or dated in the future")
    user_id = payload.get("user_id")
    if isinstance(user_id, bool) or not isinstance(user_id, str | int):
        raise Malformed("signed_request has no user_id")
    if not USER_ID.fullmatch(str(user_id)):
        raise Malformed("signed_request has no user_id")
    return DeletionRequest(user_id=str(user_id), issued_at=issued_at)


def _issued_at(payload: dict[str, Any]) -> int:
    value = payload.get("issued_at")
    if not isinstance(value, int) or isinstance(value, bool):
        raise Malformed("signed_request has no issued_at time")
    return value


def _b64decode(part: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(part.rstrip("=") + "=" * (-len(part.rstrip("=")) % 4))
    except (binascii.Error, ValueError):
        raise Malformed("malformed signed_request") from None
