"""Queues. Jobs are named by dotted path and take ids, so the web process never imports workers.

With REDIS_URL, jobs go to rq; without it, an in-process queue and worker thread run the very same
functions with the same retry intervals. Either way the queue only carries notifications: the
database holds the work, and `sweep` puts back anything a lost queue dropped.
"""

from __future__ import annotations

import importlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

log = logging.getLogger(__name__)

QUEUE_NAME = "haven"
# A failed job stays readable in Redis for a week.
FAILURE_TTL = 7 * 24 * 3600
PROCESS_ITEM = "workers.jobs.process_item"
TICK = "workers.jobs.tick"


class Enqueuer(Protocol):
    def enqueue(self, func: str, *args: Any, job_id: str, retry: bool = True) -> None: ...


def import_job(path: str) -> Callable[..., Any]:
    """The function named by a dotted path such as 'workers.jobs.process_item'."""
    module_name, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module_name), name)


class RQEnqueuer:
    """Jobs on Redis for `haven worker` processes, possibly on other machines."""

    def __init__(self, redis_url: str, retry_intervals: Sequence[int]) -> None:
        from redis import Redis
        from rq import Queue
        from rq.serializers import JSONSerializer

        self.connection = Redis.from_url(redis_url)
        self.queue = Queue(QUEUE_NAME, connection=self.connection, serializer=JSONSerializer)
        self.retry_intervals = list(retry_intervals)

    def enqueue(self, func: str, *args: Any, job_id: str, retry: bool = True) -> None:
        from rq.exceptions import DuplicateJobError
        from rq.job import Job, JobStatus

        try:
            self._enqueue(func, args, job_id, retry)
        except DuplicateJobError:
            # A deterministic id means work already waiting is not queued twice. A finished or
            # failed job keeps its id for a while, though, and the sweep must be able to put
            # work back (a worker killed mid-job leaves its job "failed"): replace those.
            existing = Job.fetch(
                job_id, connection=self.connection, serializer=self.queue.serializer
            )
            pending = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}
            if existing.get_status() in pending:
                return
            existing.delete()
            try:
                self._enqueue(func, args, job_id, retry)
            except DuplicateJobError:
                return  # another process put it back first

    def enqueue_new(self, func: str, calls: Sequence[tuple[tuple[Any, ...], str]]) -> None:
        """Queue jobs for rows that were created just now, in one round trip to Redis.

        Nothing can have queued these ids before (their rows did not exist), so rq's per-job
        uniqueness check, a script call of its own for each job, is not needed. Were it
        somehow queued twice, the item's claim (a conditional UPDATE) runs it once.
        """
        if not calls:
            return
        retry = self._retry()
        with self.connection.pipeline() as pipe:
            self.queue.enqueue_many(
                [
                    self.queue.prepare_data(
                        func, args, job_id=ident, retry=retry, failure_ttl=FAILURE_TTL
                    )
                    for args, ident in calls
                ],
                pipeline=pipe,
            )
            pipe.execute()

    def _retry(self) -> Any:
        from rq import Retry

        if not self.retry_intervals:
            return None
        return Retry(max=len(self.retry_intervals), interval=self.retry_intervals)

    def _enqueue(self, func: str, args: tuple[Any, ...], job_id: str, retry: bool) -> None:
        self.queue.enqueue(
            func,
            *args,
            job_id=job_id,
            unique=True,
            retry=self._retry() if retry else None,
            failure_ttl=FAILURE_TTL,
        )


_WAKE = "wake"  # not a job: put by stop() so the worker thread sees it is stopped


@dataclass(order=True)
class _Pending:
    run_at: float
    job_id: str = field(compare=False)
    func: str = field(compare=False)
    args: tuple[Any, ...] = field(compare=False)
    attempt: int = field(default=0, compare=False)
    retry: bool = field(default=True, compare=False)


class LocalEnqueuer:
    """An in-process queue drained by one worker thread, for the embedded default and tests.

    Jobs run after the request has been answered, never inside it, and failed jobs are retried
    after the same intervals rq would use.
    """

    def __init__(self, retry_intervals: Sequence[int], *, start: bool = True) -> None:
        self.retry_intervals = list(retry_intervals)
        self._queue: queue.PriorityQueue[_Pending] = queue.PriorityQueue()
        self._queued: set[str] = set()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._running = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if start:
            self.start()

    def start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._work, name="haven-worker", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        # Wakes the worker thread at once instead of at its next poll (a tenth of a second,
        # paid by every app the tests build).
        self._queue.put(_Pending(float("-inf"), "", _WAKE, ()))
        if self._thread is not None:
            self._thread.join(timeout)

    def enqueue(self, func: str, *args: Any, job_id: str, retry: bool = True) -> None:
        with self._lock:
            if job_id in self._queued:
                return
            self._queued.add(job_id)
        self._queue.put(_Pending(time.monotonic(), job_id, func, args, retry=retry))

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until nothing is queued or running (tests and the demo use it)."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._queued or self._running:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(min(remaining, 0.05))
        return True

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                pending = self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
            if pending.func == _WAKE:
                continue
            delay = pending.run_at - time.monotonic()
            if delay > 0:
                self._queue.put(pending)
                self._stop.wait(min(delay, 0.1))
                continue
            with self._lock:
                self._running += 1
            try:
                self._run(pending)
            finally:
                with self._idle:
                    self._running -= 1
                    self._idle.notify_all()

    def _run(self, pending: _Pending) -> None:
        try:
            import_job(pending.func)(*pending.args)
        except Exception as exc:
            if pending.retry and pending.attempt < len(self.retry_intervals):
                wait = self.retry_intervals[pending.attempt]
                log.warning(
                    "job %s failed (%s); retry %d in %ss",
                    pending.job_id,
                    type(exc).__name__,
                    pending.attempt + 1,
                    wait,
                )
                pending.attempt += 1
                pending.run_at = time.monotonic() + wait
                self._queue.put(pending)
                return
            log.exception("job %s failed for good", pending.job_id)
        with self._lock:
            self._queued.discard(pending.job_id)


def job_id(kind: str, row_id: int, attempts: int = 0) -> str:
    """One pending job per row and attempt, whoever asks.

    The sweep puts work back once the database says an attempt was orphaned (a worker killed
    mid-job). rq may still list that dead attempt's job as started, and would refuse the same
    id, so a new attempt gets a new id; the row's own claim keeps the work from running twice.
    """
    return f"{kind}-{row_id}" if not attempts else f"{kind}-{row_id}-attempt-{attempts}"


def enqueue_item(enqueuer: Enqueuer, item_id: int, *, attempts: int = 0) -> None:
    """Ask for an item to be processed."""
    enqueuer.enqueue(PROCESS_ITEM, item_id, job_id=job_id("item", item_id, attempts))


def enqueue_new_items(enqueuer: Enqueuer, item_ids: Sequence[int]) -> None:
    """Ask for items stored just now to be processed: one round trip to Redis for them all."""
    if isinstance(enqueuer, RQEnqueuer):
        enqueuer.enqueue_new(PROCESS_ITEM, [((i,), job_id("item", i)) for i in item_ids])
        return
    for item_id in item_ids:
        enqueue_item(enqueuer, item_id)


def _stop_listener(thread: Any) -> None:
    """Tell rq's pubsub listener thread to end, without waiting for it."""
    try:
        thread.stop(timeout=0)  # redis-py 8 joins in stop(), by default for ever
    except TypeError:  # redis-py before 8: stop() takes no timeout and never waited
        thread.stop()


def rq_worker_class() -> type:
    """rq's SimpleWorker, stopping its pubsub listener in bounded time.

    rq listens for commands on a thread that blocks up to 60 s on a read, and on stopping it
    unsubscribes, then calls the thread's stop(), which since redis-py 8 waits for the thread
    with no timeout. If the thread has read the unsubscribe reply before stop() cleared its
    flag, it goes back to waiting up to 60 s for a subscription that never comes, and a worker
    asked to stop hangs that long (until a supervisor or a test kills it). Here the flag is
    cleared first, so the thread ends on that reply; the wait is bounded anyway, and the
    thread is a daemon, so a listener stuck elsewhere cannot keep the process alive.
    """
    from rq import SimpleWorker

    class HavenWorker(SimpleWorker):
        def unsubscribe(self) -> None:
            thread, pubsub = self.pubsub_thread, self.pubsub
            if thread is None or pubsub is None:
                return
            log.info("worker %s: unsubscribing from %s", self.name, self.pubsub_channel_name)
            _stop_listener(thread)
            pubsub.unsubscribe()
            thread.join(timeout=LISTENER_STOP_SECONDS)
            pubsub.close()

    return HavenWorker


# How long a stopping worker waits for its pubsub listener thread (normally milliseconds).
LISTENER_STOP_SECONDS = 1.0


def run_rq_worker(queue: Any, *, burst: bool = False, wait_seconds: float = 1.0) -> None:
    """`haven worker`: an rq SimpleWorker with its scheduler (which runs delayed retries).

    rq quits when Redis goes away while a job is finishing. The job's work is committed by
    then and the sweep re-enqueues whatever Redis lost, so the worker only has to come back:
    it waits for Redis and starts again, rather than leaving nobody to do the work.
    """
    from redis.exceptions import RedisError
    from rq.exceptions import StopRequested

    worker_class = rq_worker_class()
    while True:
        worker = worker_class([queue], connection=queue.connection, serializer=queue.serializer)
        try:
            worker.work(burst=burst, with_scheduler=True)
        except RedisError as exc:  # raised from rq's own clean-up when Redis is gone
            log.warning("worker lost Redis (%s)", type(exc).__name__)
        # rq notes a SIGTERM/SIGINT here (no public accessor): a requested stop is final.
        if burst or getattr(worker, "_shutdown_requested_date", None) is not None:
            return
        log.warning("rq worker stopped unasked; starting again when Redis answers")
        try:
            while True:
                time.sleep(wait_seconds)
                try:
                    queue.connection.ping()
                    break
                except RedisError:
                    continue
        except StopRequested:  # rq's signal handler, still installed: asked to stop meanwhile
            return


def make_enqueuer(redis_url: str | None, retry_intervals: Sequence[int]) -> Enqueuer:
    """The one branch between embedded and production queues."""
    if redis_url:
        return RQEnqueuer(redis_url, retry_intervals)
    return LocalEnqueuer(retry_intervals)
