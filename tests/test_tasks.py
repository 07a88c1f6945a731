"""Both queues run jobs by dotted path, once per id, with the same retries."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from redis import Redis
from rq import Queue
from rq.serializers import JSONSerializer

from bot.tasks import QUEUE_NAME, LocalEnqueuer, RQEnqueuer, rq_worker_class
from tests import jobs_for_tests
from tests.helpers import REPO


def _wait(predicate, timeout: float = 5.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def test_the_local_queue_runs_jobs_by_name_after_enqueue() -> None:
    jobs_for_tests.calls.clear()
    queue = LocalEnqueuer([0])
    try:
        queue.enqueue("tests.jobs_for_tests.remember", 7, job_id="a")
        assert queue.wait_idle()
        assert jobs_for_tests.calls == [("remember", (7,))]
    finally:
        queue.stop()


def test_the_local_queue_does_not_queue_the_same_id_twice() -> None:
    jobs_for_tests.calls.clear()
    queue = LocalEnqueuer([0], start=False)
    queue.enqueue("tests.jobs_for_tests.remember", 1, job_id="same")
    queue.enqueue("tests.jobs_for_tests.remember", 1, job_id="same")
    queue.start()
    try:
        assert queue.wait_idle()
        assert jobs_for_tests.calls == [("remember", (1,))]
    finally:
        queue.stop()


def test_the_local_queue_retries_with_the_configured_intervals_then_gives_up() -> None:
    jobs_for_tests.calls.clear()
    jobs_for_tests.failures_left["n"] = 2
    queue = LocalEnqueuer([0, 0.2])
    try:
        started = time.monotonic()
        queue.enqueue("tests.jobs_for_tests.flaky", "x", job_id="f")
        assert queue.wait_idle()
        assert len(jobs_for_tests.calls) == 3  # two failures, then success
        assert time.monotonic() - started >= 0.2  # the second retry waited its interval
        jobs_for_tests.calls.clear()
        jobs_for_tests.failures_left["n"] = 5
        queue.enqueue("tests.jobs_for_tests.flaky", "y", job_id="g")
        assert queue.wait_idle()
        assert len(jobs_for_tests.calls) == 3  # one try and two retries, then it stops
    finally:
        jobs_for_tests.failures_left["n"] = 0
        queue.stop()


def test_rq_keeps_one_pending_job_per_id_and_requeues_finished_ones(redis_url: str) -> None:
    enqueuer = RQEnqueuer(redis_url, [1])
    connection = Redis.from_url(redis_url)
    queue = Queue(QUEUE_NAME, connection=connection, serializer=JSONSerializer)
    enqueuer.enqueue("tests.jobs_for_tests.remember", 5, job_id="item-5")
    enqueuer.enqueue("tests.jobs_for_tests.remember", 5, job_id="item-5")
    assert queue.count == 1
    # A real rq worker process runs it (burst: it stops when the queue is empty).
    subprocess.run(
        [
            sys.executable,
            "-m",
            "rq.cli",
            "worker",
            "--burst",
            "--url",
            redis_url,
            "--serializer",
            "rq.serializers.JSONSerializer",
            "--worker-class",
            "tests.jobs_for_tests.Worker",
            QUEUE_NAME,
        ],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=True,
        capture_output=True,
        timeout=60,
    )
    assert queue.count == 0
    # The finished job still holds its id; the sweep must still be able to queue the work.
    enqueuer.enqueue("tests.jobs_for_tests.remember", 5, job_id="item-5")
    assert queue.count == 1
    connection.close()
    enqueuer.connection.close()


def _subscribed_worker(redis_url: str):  # type: ignore[no-untyped-def]
    connection = Redis.from_url(redis_url)
    queue = Queue(QUEUE_NAME, connection=connection, serializer=JSONSerializer)
    worker = rq_worker_class()([queue], connection=connection, serializer=JSONSerializer)
    worker.subscribe()
    assert _wait(lambda: worker.pubsub.subscribed)
    return worker


def test_a_stopping_rq_worker_ends_its_listener_thread(redis_url: str) -> None:
    worker = _subscribed_worker(redis_url)
    started = time.monotonic()
    worker.unsubscribe()
    assert time.monotonic() - started < 1.0
    assert not worker.pubsub_thread.is_alive()
    worker.connection.close()


def test_a_stopping_rq_worker_does_not_wait_for_a_listener_that_missed_the_stop(
    redis_url: str,
) -> None:
    """The race that kept `haven worker` from exiting (and made a burst `rq worker` overrun
    its minute): the listener reads the unsubscribe reply while it is still meant to run, then
    waits 60 s for a subscription. rq's own stop() (redis-py 8) joins it with no timeout."""
    worker = _subscribed_worker(redis_url)
    worker.pubsub.unsubscribe()
    assert _wait(lambda: not worker.pubsub.subscribed)  # the listener took the reply
    assert worker.pubsub_thread.is_alive()
    started = time.monotonic()
    worker.unsubscribe()
    assert time.monotonic() - started < 5.0
    assert worker.pubsub_thread.daemon  # still waiting, but it cannot keep the process alive
    worker.connection.close()
