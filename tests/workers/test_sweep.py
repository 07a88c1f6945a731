"""The sweep: the database, not the queue, decides what still needs doing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlmodel import Session, select

from bot.models import Item, utcnow
from tests.helpers import page_comment, signed_post
from workers.sweep import MAX_ATTEMPTS, sweep_stuck_items


class Recorder:
    def __init__(self) -> None:
        self.jobs: list[tuple[str, tuple, str]] = []

    def enqueue(self, func: str, *args: object, job_id: str, retry: bool = True) -> None:
        self.jobs.append((func, args, job_id))


@pytest.fixture
def stored_item(app: Flask) -> int:
    """An item stored by the webhook whose job was lost (the queue recorded, ran nothing)."""
    app.extensions["haven"].enqueuer = Recorder()
    response = signed_post(app.test_client(), page_comment("Is the group on this week?"))
    assert response.status_code == 200
    return 1


def _set(app: Flask, item_id: int, **values: object) -> None:
    with Session(app.extensions["haven"].engine) as session:
        item = session.get(Item, item_id)
        for key, value in values.items():
            setattr(item, key, value)
        session.add(item)
        session.commit()


def _item(app: Flask, item_id: int) -> Item:
    with Session(app.extensions["haven"].engine) as session:
        return session.exec(select(Item).where(Item.id == item_id)).one()


def test_a_fresh_item_is_left_to_its_own_job(app: Flask, stored_item: int) -> None:
    queue = Recorder()
    assert sweep_stuck_items(app.extensions["haven"].engine, queue, stuck_after_seconds=60) == 0


def test_an_item_whose_job_was_lost_is_enqueued_again(app: Flask, stored_item: int) -> None:
    _set(app, stored_item, status_changed_at=utcnow() - timedelta(minutes=5))
    queue = Recorder()
    assert sweep_stuck_items(app.extensions["haven"].engine, queue, stuck_after_seconds=60) == 1
    assert queue.jobs == [("workers.jobs.process_item", (stored_item,), f"item-{stored_item}")]


def test_an_item_a_dead_worker_held_is_reclaimed(app: Flask, stored_item: int) -> None:
    _set(
        app,
        stored_item,
        status="processing",
        attempts=1,
        status_changed_at=utcnow() - timedelta(minutes=5),
    )
    queue = Recorder()
    assert sweep_stuck_items(app.extensions["haven"].engine, queue, stuck_after_seconds=60) == 1
    assert _item(app, stored_item).status == "received"


def test_an_item_that_keeps_killing_workers_is_set_aside(app: Flask, stored_item: int) -> None:
    _set(
        app,
        stored_item,
        status="processing",
        attempts=MAX_ATTEMPTS,
        status_changed_at=utcnow() - timedelta(minutes=5),
    )
    queue = Recorder()
    assert sweep_stuck_items(app.extensions["haven"].engine, queue, stuck_after_seconds=60) == 0
    assert _item(app, stored_item).status == "failed"


def test_a_failed_attempt_hands_the_item_back_for_the_retry(
    app: Flask, stored_item: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workers import batches, jobs

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(batches, "handle_item", explode)  # what a job's batch runs per item
    with pytest.raises(RuntimeError):
        jobs.process_item(stored_item)
    item = _item(app, stored_item)
    assert (item.status, item.attempts, item.error) == ("received", 1, "RuntimeError")
    monkeypatch.undo()
    assert jobs.process_item(stored_item) == "processed"
    assert jobs.process_item(stored_item) == "already claimed"
