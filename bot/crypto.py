"""Encryption at rest for what people wrote: Fernet keys from HAVEN_DATA_KEYS, newest first.

A column typed `EncryptedText` holds `enc1:<Fernet token>`; the database, its backups and anyone
with a SQL prompt see only that. Values written before encryption was switched on have no
marker and are read as they are, so an existing install keeps working and `haven keys rotate`
seals them. The keys live in this process only: each process installs them once at start
(`install_from_settings`), and nothing here reads the environment or writes a key anywhere.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Text
from sqlalchemy.sql import operators
from sqlalchemy.types import TypeDecorator

ENV_NAME = "HAVEN_DATA_KEYS"
# Fernet tokens always start "gAAAAA"; our own marker says "sealed by Haven" without guessing.
MARKER = "enc1:"
DIGEST_PURPOSE = b"haven keyed digest v1"
_NO_KEY_HELP = (
    f"{ENV_NAME} is not set: message texts are encrypted at rest and need a key. "
    f"Make one with `haven keys generate` and set {ENV_NAME} to it"
)


class DataKeyError(RuntimeError):
    """No key is installed, or a stored value cannot be opened with any installed key."""


class _Keys:
    """The installed keys: encrypt with the first, decrypt with any."""

    def __init__(self, keys: Sequence[str]) -> None:
        self.newest = Fernet(keys[0])
        self.any = MultiFernet([Fernet(k) for k in keys])
        self.count = len(keys)
        # One HMAC key per data key for keyed digests, derived so that it is never the key
        # that encrypts (a digest must not help anyone with the ciphertexts).
        self.digest_keys = [
            hmac.new(base64.urlsafe_b64decode(k), DIGEST_PURPOSE, hashlib.sha256).digest()
            for k in keys
        ]


_installed: _Keys | None = None


def parse_keys(text: str | None) -> tuple[str, ...]:
    """The comma-separated keys of HAVEN_DATA_KEYS, each checked; errors never echo a key."""
    keys = tuple(part.strip() for part in (text or "").split(",") if part.strip())
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:
            raise ValueError(
                f"{ENV_NAME}: key {position} of {len(keys)} is not a Fernet key "
                "(32 url-safe base64-encoded bytes; make one with `haven keys generate`)"
            ) from None
    return keys


def install_keys(keys: Sequence[str]) -> None:
    """Use these keys in this process from now on (an empty sequence uninstalls them)."""
    global _installed
    _installed = _Keys(list(keys)) if keys else None


def install_from_settings(settings: Any) -> None:
    """Install the keys a process was configured with; without any, leave things as they are.

    Called by every composition root (app factory, worker, CLI). Not clearing on an empty
    list keeps one configured process from being disarmed by a stray settings object.
    """
    keys = [k.get_secret_value() for k in getattr(settings, "data_keys", ())]
    if keys:
        install_keys(keys)


def require_keys(settings: Any) -> None:
    """Refuse to run a long-lived process that would store message text without a key."""
    if not getattr(settings, "data_keys", ()):
        raise DataKeyError(_NO_KEY_HELP)


def keys_installed() -> int:
    """How many keys this process holds (0: none)."""
    return _installed.count if _installed else 0


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")


def keyed_digests(message: str) -> list[str]:
    """HMAC-SHA256 of `message` under each installed key, newest first (hex).

    For recognising a value later without keeping it (an erased person's id): write the first,
    look up all, so a record made before a key rotation is still found while the old key is
    installed. Once a key is retired, digests made under it match nothing.
    """
    data = message.encode("utf-8")
    return [hmac.new(k, data, hashlib.sha256).hexdigest() for k in _keys().digest_keys]


def is_encrypted(stored: str | None) -> bool:
    return stored is not None and stored.startswith(MARKER)


def _keys() -> _Keys:
    if _installed is None:
        raise DataKeyError(_NO_KEY_HELP)
    return _installed


def encrypt(plain: str) -> str:
    return MARKER + _keys().newest.encrypt(plain.encode("utf-8")).decode("ascii")


def decrypt(stored: str) -> str:
    """The plain text of a stored value; a legacy plaintext value comes back unchanged."""
    if not is_encrypted(stored):
        return stored
    try:
        return _keys().any.decrypt(stored[len(MARKER) :].encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError):
        raise DataKeyError(
            f"a stored value cannot be decrypted with any key in {ENV_NAME}: the key it was "
            "sealed with is missing (was it removed before `haven keys rotate` finished?) "
            "or the value was altered"
        ) from None


def sealed_with_newest(stored: str) -> bool:
    """True when the value is already encrypted with the first key (rotation skips it)."""
    if not is_encrypted(stored):
        return False
    try:
        _keys().newest.decrypt(stored[len(MARKER) :].encode("ascii"))
    except InvalidToken:
        return False
    return True


class _NoSearchComparator(TypeDecorator.Comparator):  # type: ignore[type-arg]
    """Ciphertext is random: comparing it in SQL silently matches nothing, so it is refused."""

    _ALLOWED = frozenset({operators.is_, operators.is_not})

    def operate(self, op: Any, *other: Any, **kwargs: Any) -> Any:
        null_test = op in (operators.eq, operators.ne) and other and other[0] is None
        if op not in self._ALLOWED and not null_test:
            raise TypeError(
                f"{self.expr} is encrypted at rest and cannot be searched in SQL; "
                "filter on a plain column, or in Python after loading"
            )
        return super().operate(op, *other, **kwargs)

    def reverse_operate(self, op: Any, other: Any, **kwargs: Any) -> Any:
        return self.operate(op, other, **kwargs)


class EncryptedText(TypeDecorator[str]):
    """TEXT holding `enc1:<token>`; Python sees the plain text (legacy plaintext passes)."""

    impl = Text
    cache_ok = True
    comparator_factory = _NoSearchComparator

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else encrypt(value)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else decrypt(value)
