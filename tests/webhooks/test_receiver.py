"""The receiver on both databases and a real Redis: stored once, whole or not at all, then queued.

On PostgreSQL a delivery is stored by one statement (webhooks/one_statement.py); on SQLite, and
on PostgreSQL when an erased person is in it, by webhooks/store.py. Each test runs on both.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from bot.app import create_app
from bot.db import session_scope
from bot.models import InboundEvent, Item
from bot.models.privacy import REMOVED_BODY
from bot.privacy.erased import record_erasure
from bot.tasks import QUEUE_NAME
from tests.helpers import PAGE_ID, make_settings, page_comment, signed_post
from webhooks.events import parse_payload
from webhooks.one_statement import ROW_KEYS, store_in_one_statement
from webhooks.store import item_row, store_delivery


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def app(request: pytest.FixtureRequest, tmp_path: Path, redis_url: str) -> Iterator[Flask]:
    """The web app as production runs it (a real Redis queue, no worker), on each database."""
    env = {"REDIS_URL": redis_url}
    if request.param == "postgresql":
        env["DATABASE_URL"] = request.getfixturevalue("migrated_postgres_url")
    flask_app = create_app(make_settings(tmp_path, **env), migrate=True)
    yield flask_app
    _dispose(flask_app)


def _dispose(flask_app: Flask) -> None:
    """Close both pools, so no connection is left for the garbage collector."""
    receiver = flask_app.extensions["haven.webhooks"]
    if receiver.one_statement_engine is not None:
        receiver.one_statement_engine.dispose()
    flask_app.extensions["haven"].engine.dispose()


def _engine(app: Flask) -> Engine:
    return app.extensions["haven"].engine


def _counts(app: Flask) -> tuple[int, int]:
    with Session(_engine(app)) as session:
        events = session.exec(select(func.count()).select_from(InboundEvent)).one()
        items = session.exec(select(func.count()).select_from(Item)).one()
    return events, items


def _queued(redis_url: str, app: Flask) -> list[str]:
    """The ids of the jobs waiting on Haven's rq queue for this database's items, in order.

    Only this database's: an in-process worker left running by an earlier test (one that
    timed out waiting for it) runs its jobs with the newest app's context, this one's.
    """
    ours = {f"item-{item_id}" for item_id in _item_ids(app)}
    with Redis.from_url(redis_url) as redis:
        queued = [j.decode() for j in redis.lrange(f"rq:queue:{QUEUE_NAME}", 0, -1)]
    return [job for job in queued if job in ours]


def _item_ids(app: Flask) -> list[int]:
    with Session(_engine(app)) as session:
        return list(session.exec(select(Item.id).order_by(Item.id)).all())


def _batch(count: int, *, first: int = 0) -> dict:
    """One delivery carrying `count` comments, as Meta batches them."""
    batch = page_comment("first")
    change = batch["entry"][0]["changes"][0]
    batch["entry"][0]["changes"] = []
    for n in range(first, first + count):
        extra = copy.deepcopy(change)
        extra["value"]["comment_id"] = f"900000000000001_{n}"
        extra["value"]["message"] = f"Is the group on this week? ({n})"
        batch["entry"][0]["changes"].append(extra)
    return batch


def test_a_redelivery_is_stored_once_and_queued_once(
    app: Flask, client: FlaskClient, redis_url: str
) -> None:
    payload = page_comment("Is the Tuesday group on?")
    raw = json.dumps(payload).encode()
    answers = [signed_post(client, raw).get_json() for _ in range(3)]
    # Meta's retry need not be byte-identical: the same update in another serialisation.
    answers.append(signed_post(client, json.dumps(payload, indent=1).encode()).get_json())
    assert [a["stored"] for a in answers] == [1, 0, 0, 0]
    assert [a["duplicates"] for a in answers] == [0, 1, 1, 1]
    assert _counts(app) == (2, 1)  # two distinct bodies kept, one item
    assert _queued(redis_url, app) == [f"item-{_item_ids(app)[0]}"]


def test_a_batch_is_stored_whole_and_queued_in_order(
    app: Flask, client: FlaskClient, redis_url: str
) -> None:
    assert signed_post(client, _batch(1, first=5)).get_json()["stored"] == 1
    answer = signed_post(client, _batch(300)).get_json()
    # Comment 5 was stored by the first delivery: a duplicate, not a second row.
    assert (answer["stored"], answer["duplicates"]) == (299, 1)
    assert _counts(app) == (2, 300)
    assert _queued(redis_url, app) == [f"item-{i}" for i in _item_ids(app)]


def _refuse_comment(engine: Engine, external_id: str) -> None:
    """A fault in the database itself: it refuses one item, as a full disk or a bug would."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(
                text(
                    "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN "
                    f"IF NEW.external_id = '{external_id}' THEN RAISE EXCEPTION 'refused'; "
                    "END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
                )
            )
            connection.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON items "
                    "FOR EACH ROW EXECUTE FUNCTION refuse()"
                )
            )
        else:
            connection.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON items "
                    f"WHEN NEW.external_id = '{external_id}' "
                    "BEGIN SELECT RAISE(ABORT, 'refused'); END"
                )
            )


def test_a_batch_the_database_refuses_part_of_stores_nothing_and_is_not_acknowledged(
    app: Flask, redis_url: str
) -> None:
    engine = _engine(app)
    _refuse_comment(engine, "900000000000001_37")
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answered as gunicorn would: a 500
    answer = signed_post(app.test_client(), _batch(50))
    assert answer.status_code == 500  # Meta delivers it again later
    assert _counts(app) == (0, 0) and _queued(redis_url, app) == []
    with engine.begin() as connection:
        connection.execute(
            text(
                "DROP TRIGGER refuse" + (" ON items" if engine.dialect.name == "postgresql" else "")
            )
        )
    again = signed_post(app.test_client(), _batch(50)).get_json()
    assert again["stored"] == 50 and _counts(app) == (1, 50) and len(_queued(redis_url, app)) == 50


@pytest.mark.parametrize(
    "body",
    [b'{"object": "page", "entry": [', b"\xff\xfe not utf-8", b"[" * 200 + b"]" * 200],
    ids=["truncated", "not-utf-8", "too-deep"],
)
def test_bad_input_is_a_400_and_leaves_nothing(
    app: Flask, client: FlaskClient, redis_url: str, body: bytes
) -> None:
    answer = signed_post(client, body)
    assert answer.status_code == 400 and "malformed JSON" in answer.get_json()["status"]
    assert _counts(app) == (0, 0) and _queued(redis_url, app) == []


def test_with_redis_down_a_delivery_is_still_stored_before_it_is_acknowledged(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    for database in ("sqlite", "postgresql"):
        env = {"REDIS_URL": "redis://127.0.0.1:9/0"}  # nothing listens there
        if database == "postgresql":
            env["DATABASE_URL"] = request.getfixturevalue("migrated_postgres_url")
        flask_app = create_app(make_settings(tmp_path / database, **env), migrate=True)
        answer = signed_post(flask_app.test_client(), page_comment("are you there?"))
        assert answer.status_code == 200 and answer.get_json()["stored"] == 1
        with Session(_engine(flask_app)) as session:
            (item,) = session.exec(select(Item)).all()
        assert item.status == "received"  # the sweep will queue it once Redis is back
        _dispose(flask_app)


def test_an_erased_persons_redelivery_is_stored_the_careful_way(
    app: Flask, client: FlaskClient, redis_url: str
) -> None:
    with session_scope(_engine(app)) as session:
        record_erasure(session, "facebook", "6000000000000042")
    # Written before the erasure, redelivered after it: the item is left out, the body emptied.
    answer = signed_post(client, page_comment("my address is 1 High St")).get_json()
    assert (answer["stored"], answer["erased"]) == (0, 1)
    with Session(_engine(app)) as session:
        (event,) = session.exec(select(InboundEvent)).all()
    assert event.body == REMOVED_BODY and _queued(redis_url, app) == []


@pytest.mark.postgres
def test_a_connection_lost_with_a_database_restart_is_retried_once(
    tmp_path: Path, migrated_postgres_url: str, redis_url: str
) -> None:
    settings = make_settings(tmp_path, DATABASE_URL=migrated_postgres_url, REDIS_URL=redis_url)
    flask_app = create_app(settings)
    client = flask_app.test_client()
    assert signed_post(client, page_comment("one", comment="1")).status_code == 200
    with _engine(flask_app).connect() as connection:  # what a restart does to every session
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    answer = signed_post(client, page_comment("two", comment="2"))
    assert answer.status_code == 200 and answer.get_json()["stored"] == 1
    assert _counts(flask_app) == (2, 2)
    _dispose(flask_app)


def test_closing_the_apps_pool_closes_the_webhooks_too(
    tmp_path: Path, migrated_postgres_url: str, redis_url: str
) -> None:
    settings = make_settings(tmp_path, DATABASE_URL=migrated_postgres_url, REDIS_URL=redis_url)
    flask_app = create_app(settings)
    assert signed_post(flask_app.test_client(), page_comment("hello")).status_code == 200
    pool = flask_app.extensions["haven.webhooks"].one_statement_engine.pool
    assert pool.checkedin() >= 1
    _engine(flask_app).dispose()  # what every test and shutdown does with the app's engine
    assert pool.checkedin() == 0  # its connections closed, not left for the collector


def test_the_statement_fills_every_column_the_careful_path_does(
    migrated_postgres_url: str,
) -> None:
    from bot.db import make_engine

    engine = make_engine(migrated_postgres_url)
    raw = json.dumps(page_comment("Call me on 07700 900123", comment="1"))
    parsed = parse_payload(json.loads(raw))
    assert set(item_row(parsed.items[0], True)) == set(ROW_KEYS)
    with session_scope(engine) as session:
        store_delivery(session, raw, parsed, {PAGE_ID})
    other = raw.replace("900000000000001_1", "900000000000001_2")
    with engine.connect() as connection:
        store_in_one_statement(connection, other, parse_payload(json.loads(other)), {PAGE_ID})
        connection.commit()
    with Session(engine) as session:
        careful, quick = session.exec(select(Item).order_by(Item.id)).all()
    differ = {"id", "event_id", "delivery_key", "external_id", "received_at", "status_changed_at"}
    for column in Item.__table__.columns.keys():  # type: ignore[attr-defined]
        if column not in differ:
            assert getattr(careful, column) == getattr(quick, column), column
    engine.dispose()
