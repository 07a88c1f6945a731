"""X-Hub-Signature-256 verification over the raw body bytes."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest

from webhooks.signature import sign, verify_signature

APP_SECRET = "meta-app-secret-for-tests"
INSTAGRAM_SECRET = "instagram-login-secret-for-tests"
FIXTURES = Path(__file__).parents[1] / "fixtures" / "meta"


def load_fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


BODY = load_fixture("fb_comment_add.json")


def test_sign_is_lowercase_hex_hmac_sha256_of_the_bytes() -> None:
    expected = hmac.new(APP_SECRET.encode(), BODY, hashlib.sha256).hexdigest()
    assert sign(BODY, APP_SECRET) == f"sha256={expected}"


def test_valid_signature_is_accepted() -> None:
    assert verify_signature(BODY, sign(BODY, APP_SECRET), [APP_SECRET])


def test_wrong_secret_is_refused() -> None:
    assert not verify_signature(BODY, sign(BODY, "someone-else"), [APP_SECRET])


def test_instagram_login_secret_is_accepted_as_second_secret() -> None:
    header = sign(BODY, INSTAGRAM_SECRET)
    assert verify_signature(BODY, header, [APP_SECRET, INSTAGRAM_SECRET])
    assert not verify_signature(BODY, header, [APP_SECRET])


def test_empty_secrets_are_ignored_and_never_validate() -> None:
    signed_with_empty_key = sign(BODY, "")
    assert not verify_signature(BODY, signed_with_empty_key, ["", APP_SECRET])
    assert not verify_signature(BODY, signed_with_empty_key, [])
    assert not verify_signature(BODY, signed_with_empty_key, None)  # type: ignore[arg-type]
    assert verify_signature(BODY, sign(BODY, APP_SECRET), ["", APP_SECRET])


def test_bare_string_is_one_secret_not_a_sequence_of_characters() -> None:
    assert verify_signature(BODY, sign(BODY, APP_SECRET), APP_SECRET)
    assert not verify_signature(BODY, sign(BODY, APP_SECRET[0]), APP_SECRET)


@pytest.mark.parametrize(
    "tampered",
    [
        BODY.replace(b"food drive", b"food drivE"),
        BODY + b" ",
        BODY[:-1],
        b"",
    ],
    ids=["one-byte-changed", "trailing-space", "truncated", "empty"],
)
def test_tampered_body_is_refused(tampered: bytes) -> None:
    assert not verify_signature(tampered, sign(BODY, APP_SECRET), [APP_SECRET])


VALID_HEX = sign(BODY, APP_SECRET).removeprefix("sha256=")
LEGACY_SHA1 = hmac.new(APP_SECRET.encode(), BODY, hashlib.sha1).hexdigest()


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "   ",
        "sha256=",
        VALID_HEX,
        f"sha1={LEGACY_SHA1}",
        f"sha1={VALID_HEX}",
        f"md5={VALID_HEX}",
        f"sha256:{VALID_HEX}",
        f"sha256 = {VALID_HEX}",
        f"sha256={VALID_HEX[:-1]}",
        f"sha256={VALID_HEX}00",
        "sha256=" + "z" * 64,
        f"sha256={VALID_HEX},sha256={VALID_HEX}",
        "sha256=" + "\u00e9" * 64,
    ],
    ids=[
        "missing",
        "empty",
        "blank",
        "no-digest",
        "no-prefix",
        "legacy-sha1",
        "sha1-prefix-with-sha256-digest",
        "other-algorithm",
        "wrong-separator",
        "spaces-around-equals",
        "too-short",
        "too-long",
        "not-hex",
        "two-values",
        "non-ascii",
    ],
)
def test_missing_legacy_or_garbled_header_is_refused(header: str | None) -> None:
    assert not verify_signature(BODY, header, [APP_SECRET])


def test_uppercase_hex_and_surrounding_whitespace_are_tolerated() -> None:
    assert verify_signature(BODY, f"sha256={VALID_HEX.upper()}", [APP_SECRET])
    assert verify_signature(BODY, f"  sha256={VALID_HEX}\r\n", [APP_SECRET])


def test_unicode_body_is_verified_over_raw_bytes_never_reserialised() -> None:
    # Meta's body escapes non-ASCII (\u00e4\u00f6\u00e5) and has its own spacing; the
    # signature only holds for those exact bytes.
    raw = load_fixture("fb_comment_unicode.json")
    assert b"\\u00e4\\u00f6\\u00e5" in raw
    header = sign(raw, APP_SECRET)
    assert verify_signature(raw, header, [APP_SECRET])
    decoded = json.loads(raw)
    for reserialised in (
        json.dumps(decoded).encode(),
        json.dumps(decoded, ensure_ascii=False).encode("utf-8", "surrogatepass"),
        json.dumps(decoded, separators=(",", ":")).encode(),
    ):
        assert reserialised != raw
        assert not verify_signature(reserialised, header, [APP_SECRET])


def test_literal_utf8_body_is_signed_as_its_bytes() -> None:
    raw = '{"object":"page","entry":[{"message":"äöå 💛"}]}'.encode()
    assert verify_signature(raw, sign(raw, APP_SECRET), [APP_SECRET])
    escaped = raw.decode().encode("ascii", "backslashreplace")
    assert not verify_signature(escaped, sign(raw, APP_SECRET), [APP_SECRET])


def test_decoded_body_is_refused_loudly() -> None:
    with pytest.raises(TypeError, match="raw request body bytes"):
        verify_signature(BODY.decode(), sign(BODY, APP_SECRET), [APP_SECRET])  # type: ignore[arg-type]


def test_large_body_verifies() -> None:
    raw = b'{"object":"page","entry":[' + b" " * (2 * 1024 * 1024) + b"]}"
    assert verify_signature(raw, sign(raw, APP_SECRET), [APP_SECRET])


def test_bytearray_and_memoryview_bodies_hash_like_bytes() -> None:
    header = sign(BODY, APP_SECRET)
    assert verify_signature(bytearray(BODY), header, [APP_SECRET])  # type: ignore[arg-type]
    assert verify_signature(memoryview(BODY), header, [APP_SECRET])  # type: ignore[arg-type]
