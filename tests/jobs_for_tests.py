"""Jobs the queue tests enqueue by dotted path, as the app enqueues workers.jobs."""

from __future__ import annotations

import threading

from bot.tasks import rq_worker_class

calls: list[tuple[str, tuple[object, ...]]] = []
_lock = threading.Lock()
failures_left = {"n": 0}
# The worker class `haven worker` runs, for the tests' own `rq worker` processes (`-w`).
Worker = rq_worker_class()


def remember(*args: object) -> str:
    with _lock:
        calls.append(("remember", args))
    return "ok"


def flaky(*args: object) -> str:
    with _lock:
        calls.append(("flaky", args))
        if failures_left["n"] > 0:
            failures_left["n"] -= 1
            raise RuntimeError("failing on purpose")
    return "ok"
