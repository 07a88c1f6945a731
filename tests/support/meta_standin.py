"""A small local stand-in for Meta's Graph API, for tests that run real worker processes.

`responses` cannot reach into another process, so end-to-end tests point META_GRAPH_URL here.
It answers the calls Haven makes with the documented success shapes, remembers every request,
lists the replies it has accepted (so Haven can check after an interrupted send), and can be
told to be slow, which is how a test kills a worker in the middle of a send. `faults` scripts
Meta's bad moments, one per POST in arrival order (see FAULTS).
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.servers import POLL


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    body: dict[str, Any]


# What each scripted fault does to the POST it meets: answer 500 without acting; act, then
# answer 500 (the ambiguous case); act, then answer too late (a client time-out); refuse with
# 429 and usage headers saying access comes back in a minute; refuse the token (code 190).
FAULTS = ("500", "500-after", "timeout", "429", "token")
RATE_LIMITED = {"error": {"message": "Calls to this api have exceeded the rate limit.",
                          "type": "OAuthException", "code": 32}}  # fmt: skip
BAD_TOKEN = {"error": {"message": "Error validating access token: the session has been "
                       "invalidated.", "type": "OAuthException", "code": 190,
                       "error_subcode": 460}}  # fmt: skip
SERVER_ERROR = {"error": {"message": "An unexpected error has occurred.", "type": "OAuthException",
                          "code": 2, "is_transient": True}}  # fmt: skip


@dataclass
class MetaStandIn:
    requests: list[Request] = field(default_factory=list)
    replies: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    delay_seconds: float = 0.0
    faults: list[str] = field(default_factory=list)
    timeout_seconds: float = 12.0  # longer than the Graph client waits
    # The person's Messenger id, which the Send API gives back for a private reply.
    messaging_id: str = "7392015648120555"
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> MetaStandIn:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                stand_in._answer(self, "GET")

            def do_POST(self) -> None:  # noqa: N802
                stand_in._answer(self, "POST")

            def log_message(self, *args: object) -> None:  # keep test output quiet
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, args=(POLL,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def posts(self) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.method == "POST"]

    def hides(self) -> list[str]:
        """The comments Haven asked Meta to hide."""
        return [p.path.rsplit("/", 1)[1] for p in self.posts() if p.body.get("is_hidden") == "true"]

    def private_replies(self, comment_id: str) -> list[Request]:
        return [
            p
            for p in self.posts()
            if p.path.endswith("/messages")
            and p.body.get("recipient") == {"comment_id": comment_id}
        ]

    def _answer(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length).decode() if length else ""
        if handler.headers.get("Content-Type", "").startswith("application/json"):
            body = json.loads(raw or "{}")
        else:
            body = {k: v[0] for k, v in parse_qs(raw).items()}
        request = Request(method, parts.path, parse_qs(parts.query), body)
        with self._lock:
            self.requests.append(request)
            fault = self.faults.pop(0) if method == "POST" and self.faults else None
        headers: dict[str, str] = {}
        if fault in ("500", "429", "token"):
            status, answer = {"500": (500, SERVER_ERROR), "429": (429, RATE_LIMITED),
                              "token": (400, BAD_TOKEN)}[fault]  # fmt: skip
            if fault == "429":
                account = re.sub(r"^/v\d+\.\d+/(\d+)_.*", r"\1", request.path)
                usage = {"type": "pages", "call_count": 100, "total_time": 40,
                         "total_cputime": 30, "estimated_time_to_regain_access": 1}  # fmt: skip
                headers["X-Business-Use-Case-Usage"] = json.dumps({account: [usage]})
        else:
            status, answer = self._route(request)
        if fault == "500-after":
            status, answer = 500, SERVER_ERROR
        if method == "POST" and (self.delay_seconds or fault == "timeout"):
            # The call has reached "Meta" and is being handled.
            time.sleep(self.timeout_seconds if fault == "timeout" else self.delay_seconds)
        data = json.dumps(answer).encode()
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        try:
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped waiting (a time-out), as clients do

    def _route(self, request: Request) -> tuple[int, dict[str, Any]]:
        path = re.sub(r"^/v\d+\.\d+", "", request.path)
        if "access_token" not in request.query:
            return 400, {"error": {"message": "no token", "type": "OAuthException", "code": 190}}
        if request.method == "POST" and (match := re.fullmatch(r"/([\w.-]+)/comments", path)):
            reply_id = f"{match.group(1)}_r{len(self.requests)}"
            with self._lock:
                self.replies.setdefault(match.group(1), []).append(
                    {"id": reply_id, "message": request.body.get("message", "")}
                )
            return 200, {"id": reply_id}
        if request.method == "GET" and (match := re.fullmatch(r"/([\w.-]+)/comments", path)):
            with self._lock:
                return 200, {"data": list(reversed(self.replies.get(match.group(1), [])))}
        if request.method == "POST" and re.fullmatch(r"/[\w.-]+/messages", path):
            return 200, {"recipient_id": self.messaging_id, "message_id": f"m_{len(self.requests)}"}
        if request.method == "POST" and re.fullmatch(r"/[\w.-]+", path):
            return 200, {"success": True}
        return 404, {"error": {"message": "unknown path", "type": "GraphMethodException",
                               "code": 100}}  # fmt: skip
