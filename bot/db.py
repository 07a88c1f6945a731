"""Engine, sessions and schema migrations: the one place that knows SQLite from PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, create_engine

MIGRATIONS = str(Path(__file__).with_name("migrations"))


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for the URL; SQLite gets the pragmas a busy single file needs."""
    # A database error's message otherwise carries the statement's bound values, message
    # text included, into the traceback that gunicorn and rq log (seen when PostgreSQL
    # restarted under a burst of webhooks).
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the dashboard read while the worker writes; busy_timeout turns brief lock
    # contention between the web and worker threads into a short wait instead of an error.
    cursor = dbapi_connection.cursor()
    for pragma in (
        "journal_mode=WAL",
        "busy_timeout=10000",
        "foreign_keys=ON",
        "synchronous=NORMAL",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error: no partial writes."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def add_unless_taken(session: Session, row: Any) -> bool:
    """Add `row` under a savepoint; False when a unique key says another got there first.

    The caller's transaction goes on either way, so it can read and use the winner's row.
    """
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to date; safe to run on every start."""
    command.upgrade(alembic_config(engine), revision)


def insert_ignoring_duplicates(session: Session, model: type, conflict_column: str) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING on a unique column, in this session's dialect.

    Two deliveries of the same update racing each other then store one row, with no error
    and no retry, which is what Meta's at-least-once delivery needs. Built on the table, not
    the ORM class, and with values bound at execute time: the webhook runs this for every
    update, and the ORM's per-statement bookkeeping was most of its cost.
    """
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    table = model.__table__  # type: ignore[attr-defined]
    return insert(table).on_conflict_do_nothing(index_elements=[conflict_column])
