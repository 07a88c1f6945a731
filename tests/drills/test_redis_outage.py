"""Drill: Redis dies in the middle of a burst of webhooks, and comes back empty.

Webhooks must still be answered 200 and stored (the database, not the queue, holds the work);
once Redis is back, the sweep puts every stored item back on the queue and each is processed
exactly once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tests.drills.checks import (
    assert_no_text_in_logs,
    assert_nothing_lost_or_doubled,
    burst,
    post_all,
    processed,
    stored_ids,
    unfinished,
    warm_up,
)
from tests.drills.services import (
    HavenProcesses,
    PrivateRedis,
    running_stack,
    wait_until,
)

pytestmark = [pytest.mark.drill, pytest.mark.postgres]


@pytest.fixture
def stack(
    tmp_path: Path, migrated_postgres_url: str, private_redis: PrivateRedis
) -> Iterator[tuple[HavenProcesses, Engine]]:
    with running_stack(tmp_path, migrated_postgres_url, private_redis.url) as stack:
        yield stack


def test_redis_killed_mid_burst_loses_nothing(
    stack: tuple[HavenProcesses, Engine], private_redis: PrivateRedis
) -> None:
    processes, engine = stack
    expected = warm_up(processes.port, engine)
    before, during = burst(150, "r"), burst(30, "d")
    answers: list[str] = []
    sender = threading.Thread(target=lambda: answers.extend(post_all(processes.port, before)))
    sender.start()
    # Kill Redis a third of the way in: jobs queued but not yet run are lost with it.
    wait_until(lambda: processed(engine) >= 20, 60, "the burst to be under way")
    private_redis.kill()
    sender.join(120)
    # And a burst that arrives entirely while Redis is gone.
    answers += post_all(processes.port, during)
    assert answers == ["200"] * len(before + during), "a webhook was not answered 200"
    expected |= {d.external_id for d in before + during}
    assert stored_ids(engine) == {external_id: 1 for external_id in expected}
    left = unfinished(engine)
    assert left >= len(during), "the drill did not catch the queue with work in it"

    private_redis.start()  # same port, empty: every job it held is gone
    wait_until(lambda: unfinished(engine) == 0, 120, "the sweep to finish the stored items")
    assert_nothing_lost_or_doubled(engine, expected)
    for worker in processes.workers:
        assert worker.poll() is None, "a worker died with Redis and was not there to finish"
    assert_no_text_in_logs(processes.log_text())
