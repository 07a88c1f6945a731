"""A local stand-in for Meta's CDN: real HTTPS on 127.0.0.1 with a self-signed certificate the
tests trust, serving pictures, redirects, slow and oversized answers as each test sets them up.

Real TLS and a real socket (not `responses`) so the fetcher's limits are tested as they work:
a server that drips bytes is really slow, a redirect is really followed (or not) by hand.
"""

from __future__ import annotations

import ssl
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

from tests.support.servers import POLL, self_signed_cert

HOST = "localhost"


@dataclass(frozen=True)
class Answer:
    """What the stand-in sends for one path."""

    body: bytes = b""
    status: int = 200
    location: str | None = None
    content_length: int | None = None  # None: the real length; -1: no header (read to the end)
    drip_seconds: float = 0.0  # pause before each byte
    content_type: str = "image/jpeg"


class LocalCDN:
    def __init__(self, folder: Path) -> None:
        cert = self_signed_cert(folder)
        assert cert is not None, "openssl is needed to make the test certificate"
        self.cert, key = cert
        self.answers: dict[str, Answer] = {}
        self.requests: list[str] = []
        cdn = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                cdn.requests.append(self.path)
                answer = cdn.answers.get(self.path.split("?")[0], Answer(status=404))
                self.send_response(answer.status)
                if answer.location is not None:
                    self.send_header("Location", answer.location)
                self.send_header("Content-Type", answer.content_type)
                length = answer.content_length
                if length is None:
                    length = len(answer.body)
                if length >= 0:
                    self.send_header("Content-Length", str(length))
                self.end_headers()
                try:
                    if answer.drip_seconds:
                        for index in range(len(answer.body)):
                            time.sleep(answer.drip_seconds)
                            self.wfile.write(answer.body[index : index + 1])
                            self.wfile.flush()
                    else:
                        self.wfile.write(answer.body)
                except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                    pass  # the fetcher gave up on us, as it should

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(POLL,), daemon=True)

    def start(self) -> LocalCDN:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def serve(self, path: str, answer: Answer) -> str:
        """Answer `path` so; returns its https URL."""
        self.answers[path] = answer
        return self.url(path)

    def url(self, path: str) -> str:
        return f"https://{HOST}:{self.port}{path}"

    def session(self) -> requests.Session:
        """A requests session that trusts this stand-in's certificate (and only that)."""
        http = requests.Session()
        # Per request, requests prefers REQUESTS_CA_BUNDLE from the environment over the
        # session's own verify; not reading the environment makes this certificate the one.
        http.trust_env = False
        http.verify = str(self.cert)
        return http
