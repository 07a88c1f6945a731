"""`alerts.email.security: none` sends the SMTP password in clear: only to this machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings


def _load_email(tmp_path: Path, host: str, security: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "config.yaml"
    path.write_text(
        "alerts:\n  email:\n"
        f"    enabled: true\n    host: '{host}'\n    security: {security}\n"
        "    username: haven\n    password_env: SMTP_PASSWORD\n",
        encoding="utf-8",
    )
    return load_settings(path, {"HAVEN_INSTANCE_PATH": str(tmp_path / "instance")})


@pytest.mark.parametrize("host", ["smtp.example.org", "192.0.2.25", "2001:db8::25", "10.0.0.5"])
def test_no_encryption_to_a_remote_mail_server_is_refused_at_load(
    tmp_path: Path, host: str
) -> None:
    with pytest.raises(ConfigError, match="alerts.email") as raised:
        _load_email(tmp_path, host, "none")
    assert "starttls" in str(raised.value) and "tls" in str(raised.value)


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST.", "127.0.0.1", "127.0.1.1", "::1"])
def test_no_encryption_to_a_relay_on_this_machine_is_allowed(tmp_path: Path, host: str) -> None:
    email = _load_email(tmp_path, host, "none").config.alerts.email
    assert email.security == "none" and email.host == host


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_a_remote_mail_server_with_tls_loads(tmp_path: Path, security: str) -> None:
    assert _load_email(tmp_path, "smtp.example.org", security).config.alerts.email.host
