"""The one end-to-end harness: Haven running as a charity runs it, driven like Meta and staff.

`running_stack` gives the web app in this process, on either stack Haven supports:

- embedded: SQLite and the in-process queue (what `haven serve` runs without REDIS_URL);
- production: PostgreSQL and Redis, with real `haven worker` processes (and, if asked,
  `haven tick` and gunicorn), as the Procfile runs them. They are forked from a Python that
  has imported Haven already (tests/support/warm_start.py), which spares each start-up its
  imports and the rules' compiling.

Meta is the local stand-in (tests/support/meta_standin.py) when the test gives its URL. Every
process writes its log to a file of its own, and whatever was written there is checked for the
message texts the test names (what people wrote never reaches a log). However the test ends,
every process is stopped, leftovers too.
"""

from __future__ import annotations

import itertools
import os
import signal
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from bot.app import create_app
from bot.config import load_settings
from bot.models import Item, OutboundAction, ReplyDraft, utcnow
from tests.helpers import (
    PAGE_ID,
    environ_for_tests,
    page_comment,
    signed_post,
    use_production_services,
)
from tests.support.warm_start import WarmProcess, WarmStarter
from tests.web.dashboard.support import add_user, sign_in

# The stacks an end-to-end test runs on: `@pytest.fixture(params=MODES)`. The production one
# starts processes, so `make test-fast` leaves it out (marker `stack`).
MODES = [
    "embedded",
    pytest.param("production", marks=[pytest.mark.stack, pytest.mark.postgres, pytest.mark.redis]),
]
POST = "900000000000001"


def comment_id(number: int) -> str:
    """The Graph id of a comment on the test page's post."""
    return f"{POST}_{number}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def run_tick(enqueuer: Any, timeout: float = 20) -> None:
    """Enqueue the periodic tick (what `haven tick` does every minute) on the production
    stack's queue, and wait until a worker has finished it."""
    from rq.job import Job

    from bot.tasks import TICK

    enqueuer.enqueue(TICK, job_id="tick", retry=False)

    def finished() -> bool:
        job = Job.fetch(
            "tick", connection=enqueuer.connection, serializer=enqueuer.queue.serializer
        )
        return job.is_finished

    wait_until(finished, timeout, "the tick job to finish")


def wait_until(check: Callable[[], Any], timeout: float, what: str, every: float = 0.05) -> Any:
    """Poll `check` until it returns something true, and return that."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class HavenProcesses:
    """`haven serve` (gunicorn), `haven worker` and `haven tick`, as the Procfile runs them,
    each with its log in a file of its own under `logs`, each in a process group of its own
    (`started`: every one this test started, stopped with whatever it started)."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = {**os.environ, **env}
        self.logs = logs
        self.port = int(env.get("PORT") or 0)
        self.web: WarmProcess | None = None
        self.workers: list[WarmProcess] = []
        self.others: list[WarmProcess] = []
        self.started: list[WarmProcess] = []

    def _spawn(self, name: str, *args: str) -> WarmProcess:
        self.started.append(
            WarmStarter.shared().start(list(args), self.env, self.logs / f"{name}.log")
        )
        return self.started[-1]

    def start_web(self) -> WarmProcess:
        self.web = self._spawn("web", "serve")
        wait_until(lambda: port_open(self.port), 30, "gunicorn to listen", every=0.1)
        return self.web

    def stop_web(self, sig: int = signal.SIGTERM) -> None:
        """SIGTERM: gunicorn finishes the requests in hand and stops. SIGKILL: it just dies
        (its worker processes get SIGTERM from die_with_parent-like cleanup)."""
        assert self.web is not None
        self.web.send_signal(sig)
        self.web.wait(timeout=30)
        wait_until(lambda: not port_open(self.port), 30, "gunicorn's workers to stop", every=0.1)

    def start_worker(self) -> WarmProcess:
        worker = self._spawn(f"worker{len(self.workers)}", "worker")
        self.workers.append(worker)
        return worker

    def start_tick(self) -> None:
        self.others.append(self._spawn("tick", "tick"))

    def stop_all(self) -> None:
        """Kill every process at once, with whatever it started (rq's scheduler is a child of
        the worker, and outlives a worker a drill killed; gunicorn has its workers).

        A graceful stop costs seconds of fixed waiting at the end of every stack (rq's warm
        shutdown and its scheduler about 2.8 s, gunicorn's control server about 3.4 s, even on
        a quiet machine) and no test asserts on it here: tests/test_tasks.py tests how a
        worker stops, and the drills stop gunicorn gracefully on purpose (`stop_web`). Every
        log line is already in its file (logging flushes each record), so the check for
        message text in the logs reads all of it."""
        for process in self.started:
            process.kill_group()
        for process in self.started:
            process.wait(timeout=30)

    def log_text(self) -> bytes:
        return b"".join(path.read_bytes() for path in sorted(self.logs.glob("*.log")))


class HavenStack:
    """The web app in this process (its test client is the webhook and the dashboard), the
    processes beside it, and what a test does with them."""

    def __init__(self, mode: str, app: Flask, env: dict[str, str], processes: HavenProcesses):
        self.mode, self.app, self.env, self.processes = mode, app, env, processes
        self._numbers = itertools.count(8100)

    @property
    def engine(self):  # type: ignore[no-untyped-def]
        return self.app.extensions["haven"].engine

    @property
    def settings(self):  # type: ignore[no-untyped-def]
        return self.app.extensions["haven"].settings

    @property
    def config(self):  # type: ignore[no-untyped-def]
        return self.settings.config

    @property
    def enqueuer(self):  # type: ignore[no-untyped-def]
        return self.app.extensions["haven"].enqueuer

    @property
    def workers(self) -> list[WarmProcess]:
        return self.processes.workers

    def start_worker(self) -> WarmProcess:
        return self.processes.start_worker()

    def wait_for(self, predicate: Callable[[Session], Any], timeout: float = 30) -> Any:
        """What `predicate` finds in the database, once it finds something."""

        def found() -> Any:
            with Session(self.engine) as session:
                return predicate(session)

        return wait_until(found, timeout, f"the {self.mode} stack")

    def rows(self, model: type, *where: Any) -> list[Any]:
        with Session(self.engine) as session:
            return list(session.exec(select(model).where(*where)).all())

    def post(self, payload: Any) -> Any:
        """A delivery signed as Meta signs it, through the real webhook endpoint."""
        response = signed_post(self.app.test_client(), payload)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response

    def comment(self, text: str, *, author: str, name: str = "Jo Visitor") -> Item:
        """A Page comment through the signed webhook, once the worker has judged it."""
        number = next(self._numbers)
        payload = page_comment(
            text, comment=str(number), author=author, created_time=int(utcnow().timestamp())
        )
        payload["entry"][0]["changes"][0]["value"]["from"]["name"] = name
        self.post(payload)
        return self.judged(comment_id(number))

    def message(self, text: str, *, sender: str, mid: str | None = None, **extra: Any) -> Item:
        """A Messenger message to the Page (`extra`: e.g. a quick_reply), once judged."""
        mid = mid or f"m_flow_{next(self._numbers)}"
        self.post(messenger_delivery(sender, {"mid": mid, "text": text, **extra}))
        return self.judged(mid)

    def judged(self, external_id: str) -> Item:
        return self.wait_for(
            lambda s: s.exec(
                select(Item).where(Item.external_id == external_id, Item.status == "processed")
            ).first()
        )

    def drafts(self, item: Item) -> dict[str, ReplyDraft]:
        return {d.kind: d for d in self.rows(ReplyDraft, ReplyDraft.item_id == item.id)}

    def staff(self, name: str, role: str) -> FlaskClient:
        """A member of staff signed in to the dashboard (with their second factor)."""
        client = self.app.test_client()
        sign_in(client, self.app, name, add_user(self.app, name, role))
        return client

    def approve(
        self, client: FlaskClient, draft: ReplyDraft, text: str | None = None, *, wait: bool = True
    ) -> ReplyDraft:
        """Approve a draft from the dashboard, as written unless `text` is given; returns it
        once sent to Meta (unless told not to wait)."""
        data = {"text": draft.text if text is None else text}
        response = client.post(f"/drafts/{draft.id}/approve", data=data)
        assert response.status_code == 302, response.get_data(as_text=True)
        return self.sent(draft) if wait else draft

    def sent(self, draft: ReplyDraft) -> ReplyDraft:
        """The draft, once Haven has sent it to Meta."""
        return self.wait_for(
            lambda s: s.exec(
                select(ReplyDraft).where(ReplyDraft.id == draft.id, ReplyDraft.status == "sent")
            ).first()
        )

    def actions(self, item: Item) -> list[OutboundAction]:
        return self.rows(OutboundAction, OutboundAction.item_id == item.id)


def messenger_delivery(sender: str, message: dict[str, Any]) -> dict[str, Any]:
    """A Messenger message to the test page in the documented webhook shape."""
    at_ms = int(time.time() * 1000)
    event = {"sender": {"id": sender}, "recipient": {"id": PAGE_ID}, "timestamp": at_ms,
             "message": message}  # fmt: skip
    return {"object": "page", "entry": [{"id": PAGE_ID, "time": at_ms, "messaging": [event]}]}


@contextmanager
def running_stack(
    mode: str,
    tmp_path: Path,
    config: Path,
    *,
    services: Callable[[], tuple[str, str]] | None = None,
    workers: int = 1,
    tick: bool = False,
    secrets_in_log: tuple[str, ...] = (),
    **env: str,
) -> Iterator[HavenStack]:
    """Haven with the config file `config`, on `mode`'s stack. In production `services` gives
    the PostgreSQL and Redis URLs (migrated as `haven init-db` leaves them) and `workers`
    worker processes start; `env` adds to the processes' environment (META_GRAPH_URL...)."""
    environ = environ_for_tests(tmp_path, HAVEN_CONFIG=str(config), **env)
    if mode == "production":
        assert services is not None, "the production stack needs PostgreSQL and Redis"
        use_production_services(environ, *services())
    app = create_app(load_settings(None, environ))
    app.config["WTF_CSRF_ENABLED"] = False
    logs = tmp_path / "logs"
    logs.mkdir(exist_ok=True)
    processes = HavenProcesses(environ, logs)
    try:
        if mode == "production":
            for _ in range(workers):
                processes.start_worker()
            if tick:
                processes.start_tick()
        yield HavenStack(mode, app, environ, processes)
    finally:
        processes.stop_all()
        enqueuer = app.extensions["haven"].enqueuer
        if mode == "embedded":
            enqueuer.stop()
        else:
            enqueuer.connection.close()
        app.extensions["haven"].engine.dispose()
    # What people wrote never reaches a process's log.
    output = processes.log_text()
    leaked = [text for text in secrets_in_log if text.encode() in output]
    assert not leaked, f"message text in a log: {leaked}"


def production_services(request: pytest.FixtureRequest) -> Callable[[], tuple[str, str]]:
    """The shared PostgreSQL (a migrated database of the test's own) and Redis, on demand."""
    return lambda: (
        request.getfixturevalue("migrated_postgres_url"),
        request.getfixturevalue("redis_url"),
    )
