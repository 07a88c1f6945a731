"""The clock that drives the timers: it only enqueues the tick job, by name.

The timers themselves live in the database, so a tick missed while Redis or the worker was
down is simply made up by the next one.
"""

from __future__ import annotations

import logging
import threading

from bot.tasks import TICK, Enqueuer

log = logging.getLogger(__name__)


def tick_once(enqueuer: Enqueuer) -> None:
    try:
        # One id for every tick: a tick still waiting in the queue is not queued twice.
        enqueuer.enqueue(TICK, job_id="tick", retry=False)
    except Exception as exc:  # the queue is down; the next tick tries again
        log.warning("could not enqueue the tick (%s)", type(exc).__name__)


def run_ticks(enqueuer: Enqueuer, every_seconds: float, stop: threading.Event) -> None:
    """Tick now and then every `every_seconds` until `stop` is set."""
    while not stop.is_set():
        tick_once(enqueuer)
        stop.wait(every_seconds)


def start_ticker(enqueuer: Enqueuer, every_seconds: float) -> threading.Event:
    """Tick in a daemon thread (the embedded default); set the returned event to stop."""
    stop = threading.Event()
    threading.Thread(
        target=run_ticks, args=(enqueuer, every_seconds, stop), name="haven-ticker", daemon=True
    ).start()
    return stop
