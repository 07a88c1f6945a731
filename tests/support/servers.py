"""Real local receivers for alert tests: an SMTP server (aiosmtpd) and an HTTP webhook receiver
that checks Haven's HMAC signature, both on 127.0.0.1 and a free port."""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
import socket
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

# How often a test server looks for shutdown: stop() waits up to this long (the standard
# library's half a second, paid by every test that starts one, added up to minutes).
POLL = 0.02

SMTP_USER, SMTP_PASSWORD = "haven-alerts", "smtp-password-for-tests-7f3a"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def self_signed_cert(folder: Path) -> tuple[Path, Path] | None:
    """A certificate for 127.0.0.1 made with the openssl command; None without openssl."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            # An elliptic-curve key: made in a millisecond, where RSA took a fifth of a second.
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@dataclass
class Mail:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    authenticated_as: str | None

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.raw, policy=policy.default)  # type: ignore[return-value]

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        return self.message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]

    @property
    def everything(self) -> str:
        """Headers and body, decoded, for the tests that look for leaked content."""
        return f"{self.raw.decode('utf-8', 'replace')}\n{self.subject}\n{self.body}"


class _Handler:
    def __init__(self) -> None:
        self.mails: list[Mail] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:  # type: ignore[no-untyped-def]
        login = session.auth_data.login.decode() if session.auth_data else None
        with self.lock:
            self.mails.append(
                Mail(
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    envelope.original_content or envelope.content,
                    login,
                )
            )
        return "250 OK"


def _authenticator(server, session, envelope, mechanism, data) -> AuthResult:  # type: ignore[no-untyped-def]
    ok = (
        isinstance(data, LoginPassword)
        and data.login == SMTP_USER.encode()
        and data.password == SMTP_PASSWORD.encode()
    )
    return AuthResult(success=ok, auth_data=data if ok else None)


def email_section(smtp_port: int) -> dict[str, Any]:
    """Haven's `alerts.email` settings for a plain (no TLS) SMTPServer on `smtp_port`."""
    return {
        "enabled": True,
        "host": "127.0.0.1",
        "port": smtp_port,
        "security": "none",
        "from_address": "haven@example.org",
        "timeout_seconds": 5,
    }


class SMTPServer:
    """aiosmtpd on 127.0.0.1: plain, STARTTLS with AUTH required, or implicit TLS."""

    def __init__(self, mode: str = "plain", cert: tuple[Path, Path] | None = None) -> None:
        self.handler = _Handler()
        self.port = free_port()
        kwargs: dict[str, Any] = {}
        if mode != "plain":
            assert cert is not None
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(str(cert[0]), str(cert[1]))
            if mode == "starttls":
                kwargs = {
                    "tls_context": context,
                    "require_starttls": True,
                    "authenticator": _authenticator,
                    "auth_required": True,
                }
            else:
                kwargs = {"ssl_context": context}
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **kwargs)

    def start(self) -> SMTPServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    @property
    def mails(self) -> list[Mail]:
        with self.handler.lock:
            return list(self.handler.mails)

    def wait_for(self, count: int, timeout: float = 20) -> list[Mail]:
        deadline = time.monotonic() + timeout
        while len(self.mails) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.mails) >= count, f"expected {count} mails, got {len(self.mails)}"
        return self.mails


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes
    signature_ok: bool | None

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    """http.server in a thread; checks X-Haven-Signature when it knows the secret."""

    secret: str | None = None
    status: int = 200
    max_age_seconds: int = 300
    received: list[Delivery] = field(default_factory=list)

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.received.append(
                    Delivery(self.path, dict(self.headers), body, receiver.verify(self, body))
                )
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(POLL,), daemon=True)
        self.thread.start()
        return self

    def verify(self, request: BaseHTTPRequestHandler, body: bytes) -> bool | None:
        """What a receiver should do: recompute the HMAC and refuse stale timestamps."""
        if self.secret is None:
            return None
        header = request.headers.get("X-Haven-Signature", "")
        parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
        timestamp, given = parts.get("t", ""), parts.get("v1", "")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > self.max_age_seconds:
            return False
        expected = hmac.new(self.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
        return hmac.compare_digest(expected.hexdigest(), given)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/haven"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def wait_for(self, count: int, timeout: float = 20) -> list[Delivery]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.received) >= count, f"expected {count} posts, got {len(self.received)}"
        return list(self.received)
