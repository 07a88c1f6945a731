"""Meta webhook signatures: X-Hub-Signature-256 over the raw request body (pure, stdlib only)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

_PREFIX = "sha256"
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_SHA256_HEX_LENGTH = 64


def sign(raw: bytes, secret: str) -> str:
    """Return the X-Hub-Signature-256 header value Meta would send for these exact bytes."""
    digest = hmac.new(secret.encode("utf-8"), _as_bytes(raw), hashlib.sha256).hexdigest()
    return f"{_PREFIX}={digest}"


def verify_signature(raw: bytes, header: str | None, secrets: Sequence[str]) -> bool:
    """Return True when the header is a valid HMAC-SHA256 of raw under any non-empty secret.

    raw must be the request body exactly as received (Flask: request.get_data()). Meta signs
    its own serialisation (non-ASCII already escaped as \\uXXXX); json.loads + json.dumps
    produces different bytes, so never hash a re-serialised body.

    secrets holds the Meta app secret and, when configured, the Instagram-login app secret:
    Instagram-login apps sign with their own secret. A bare str is taken as one secret,
    not as a sequence of one-character secrets.
    """
    digest = _parse_header(header)
    if digest is None:
        return False
    body = _as_bytes(raw)
    if isinstance(secrets, str | bytes):
        secrets = [secrets]  # type: ignore[list-item]
    elif not secrets:
        return False  # nothing configured (or None): fail closed
    matched = False
    for secret in secrets:
        if not secret or not isinstance(secret, str | bytes):
            continue  # an unset optional secret must never validate anything
        key = secret if isinstance(secret, bytes) else secret.encode("utf-8")
        expected = hmac.new(key, body, hashlib.sha256).hexdigest().encode("ascii")
        # No early return: every configured secret costs the same, whichever one matches.
        matched |= hmac.compare_digest(expected, digest)
    return matched


def _parse_header(header: str | None) -> bytes | None:
    """Return the lowercase hex digest from 'sha256=<hex>', or None when absent or malformed."""
    if not isinstance(header, str):
        return None
    algorithm, separator, digest = header.strip().partition("=")
    # Only the -256 header is accepted: the legacy X-Hub-Signature uses 'sha1=' and must not
    # be usable as a downgrade, whatever header name the caller read it from.
    if separator != "=" or algorithm.lower() != _PREFIX:
        return None
    if len(digest) != _SHA256_HEX_LENGTH or not set(digest) <= _HEX_DIGITS:
        return None
    return digest.lower().encode("ascii")


def _as_bytes(raw: bytes) -> bytes:
    """Return raw as bytes; refuse str, which means someone decoded or re-serialised the body."""
    if isinstance(raw, bytes):
        return raw
    if isinstance(raw, bytearray | memoryview):
        return bytes(raw)
    raise TypeError("sign the raw request body bytes, not a decoded or re-serialised body")
