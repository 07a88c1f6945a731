"""Drills: a worker killed with SIGKILL mid-job, PostgreSQL restarted mid-burst, and the web
process restarted mid-burst, each on `haven serve` (gunicorn) + `haven worker` + `haven tick`.

A webhook is answered 200 only once its delivery is committed; anything else (a 5xx, a refused
or dropped connection) Meta delivers again, which the drill does after the fault. In the end
every delivery is stored once and processed once.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.models import Item
from tests.drills.checks import (
    Delivery,
    assert_no_text_in_logs,
    assert_nothing_lost_or_doubled,
    burst,
    post,
    post_all,
    stored_ids,
    unfinished,
    warm_up,
)
from tests.drills.services import (
    HavenProcesses,
    PrivateCluster,
    PrivateRedis,
    running_stack,
    wait_until,
)

pytestmark = pytest.mark.drill


@pytest.fixture
def running(
    request: pytest.FixtureRequest, tmp_path: Path, private_redis: PrivateRedis
) -> Iterator[tuple[HavenProcesses, Engine]]:
    """The stack on the drill's own PostgreSQL cluster (which it may restart), or on a fresh
    database of the shared server for drills that leave PostgreSQL alone."""
    if getattr(request, "param", "shared") == "own":
        database_url = request.getfixturevalue("private_cluster").url
    else:
        database_url = request.getfixturevalue("migrated_postgres_url")
    with running_stack(tmp_path, database_url, private_redis.url) as stack:
        yield stack


def _in_processing(engine: Engine) -> list[int]:
    with Session(engine) as session:
        return list(session.exec(select(Item.id).where(Item.status == "processing")).all())


@dataclass
class Burst:
    """Deliveries being sent from a thread, the answers so far, and every id to be stored."""

    deliveries: list[Delivery]
    expected: set[str]
    answers: list[str] = field(default_factory=list)
    sender: threading.Thread | None = None

    def join(self) -> None:
        assert self.sender is not None
        self.sender.join(120)


def _start_burst(processes: HavenProcesses, engine: Engine, size: int, tag: str) -> Burst:
    """Warm the stack up, then send `size` new deliveries from a thread of their own."""
    expected = warm_up(processes.port, engine)
    deliveries = burst(size, tag)
    sending = Burst(deliveries, expected | {d.external_id for d in deliveries})

    def send() -> None:
        sending.answers.extend(post_all(processes.port, deliveries, 4, pause=0.02))

    sending.sender = threading.Thread(target=send)
    sending.sender.start()
    return sending


def _redeliver_until_stored(port: int, deliveries: list[Delivery], answers: list[str]) -> int:
    """What Meta does with a webhook not answered 200: send it again (here, at once)."""
    again = [d for d, answer in zip(deliveries, answers, strict=True) if answer != "200"]
    for delivery in again:
        assert wait_until(lambda d=delivery: post(port, d.body) == "200", 60, "a redelivery")
    return len(again)


def test_worker_killed_mid_job_loses_and_repeats_nothing(
    running: tuple[HavenProcesses, Engine],
) -> None:
    processes, engine = running
    sending = _start_burst(processes, engine, 150, "k")
    killed_holding: list[int] = []
    for _ in range(10):  # until a kill lands while the worker holds an item
        wait_until(lambda: _in_processing(engine), 60, "the worker to be busy", every=0.002)
        processes.workers[-1].send_signal(signal.SIGKILL)
        processes.workers[-1].wait(timeout=10)
        killed_holding = _in_processing(engine)
        processes.start_worker()
        if killed_holding:
            break
    assert killed_holding, "no kill landed in the middle of a job"
    sending.join()
    assert sending.answers == ["200"] * len(sending.deliveries)
    wait_until(lambda: unfinished(engine) == 0, 120, "the sweep to reclaim the killed job")
    assert_nothing_lost_or_doubled(engine, sending.expected)
    assert_no_text_in_logs(processes.log_text())
    with Session(engine) as session:
        for item_id in killed_holding:
            assert session.get(Item, item_id).attempts == 2  # reclaimed once, judged once


def test_worker_killed_mid_batch_loses_and_repeats_nothing(
    running: tuple[HavenProcesses, Engine],
) -> None:
    """A worker killed while it holds a batch (several items claimed at once, written in one
    transaction): the sweep hands every one of them back, and each is judged exactly once."""
    processes, engine = running
    sending = _start_burst(processes, engine, 200, "b")
    killed_holding: list[int] = []
    for _ in range(10):  # until a kill lands while the worker holds a batch of several
        wait_until(lambda: len(_in_processing(engine)) >= 2, 60, "a batch", every=0.002)
        processes.workers[-1].send_signal(signal.SIGKILL)
        processes.workers[-1].wait(timeout=10)
        killed_holding = _in_processing(engine)
        processes.start_worker()
        if len(killed_holding) >= 2:
            break
    assert len(killed_holding) >= 2, "no kill landed in the middle of a batch"
    sending.join()
    assert sending.answers == ["200"] * len(sending.deliveries)
    wait_until(lambda: unfinished(engine) == 0, 120, "the sweep to reclaim the killed batch")
    assert_nothing_lost_or_doubled(engine, sending.expected)
    assert_no_text_in_logs(processes.log_text())
    with Session(engine) as session:
        for item_id in killed_holding:
            assert session.get(Item, item_id).attempts == 2  # reclaimed once, judged once


@pytest.mark.parametrize("running", ["own"], indirect=True)
def test_postgres_restarted_mid_burst(
    running: tuple[HavenProcesses, Engine], private_cluster: PrivateCluster
) -> None:
    processes, engine = running
    sending = _start_burst(processes, engine, 200, "p")
    wait_until(lambda: sum(stored_ids(engine).values()) >= 50, 60, "the burst to be under way")
    private_cluster.stop("fast")  # every connection dropped, as in a restart or failover
    time.sleep(2)
    private_cluster.start()
    sending.join()
    engine.dispose()  # the test's own pooled connections died with the server
    refused = set(sending.answers) - {"200"}
    assert refused, "PostgreSQL was down, yet every webhook was answered 200"
    _all_stored_once_after_redelivery(processes, engine, sending)


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["graceful", "killed"])
def test_web_restarted_mid_burst(running: tuple[HavenProcesses, Engine], how: int) -> None:
    processes, engine = running
    sending = _start_burst(processes, engine, 200, "g")
    wait_until(lambda: sum(stored_ids(engine).values()) >= 60, 60, "the burst to be under way")
    processes.stop_web(how)
    time.sleep(1)
    processes.start_web()
    sending.join()
    _all_stored_once_after_redelivery(processes, engine, sending)


def _all_stored_once_after_redelivery(
    processes: HavenProcesses, engine: Engine, sending: Burst
) -> None:
    """No false 200; Meta's redeliveries then store the rest; each is processed exactly once."""
    _assert_no_false_acknowledgement(engine, sending.deliveries, sending.answers)
    _redeliver_until_stored(processes.port, sending.deliveries, sending.answers)
    wait_until(lambda: unfinished(engine) == 0, 120, "every stored item to be processed")
    assert_nothing_lost_or_doubled(engine, sending.expected)
    assert_no_text_in_logs(processes.log_text())


def _assert_no_false_acknowledgement(
    engine: Engine, deliveries: list[Delivery], answers: list[str]
) -> None:
    """200 means stored; anything else must be a 5xx or a failed connection, never a 4xx
    (which Meta would not retry)."""
    stored = stored_ids(engine)
    for delivery, answer in zip(deliveries, answers, strict=True):
        if answer == "200":
            assert stored[delivery.external_id] == 1, "answered 200 but not stored"
        else:
            assert not answer.isdigit() or answer.startswith("5"), answer
