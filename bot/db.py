"""Engine, sessions and schema migrations: the one place that knows SQLite from PostgreSQL."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from sqlalchemy import event, inspect, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import make_transient_to_detached
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
    # A ping on every checkout survives a database restart; the webhook, which pays for it on
    # every delivery, turns it off and retries once instead (webhooks/receiver.py).
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


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
    """Insert `row` now; False when a unique key says another got there first.

    The caller's transaction goes on either way, so it can read and use the winner's row.
    One `INSERT ... ON CONFLICT DO NOTHING RETURNING id` (PostgreSQL and SQLite alike): a
    savepoint around a plain INSERT did the same in three statements, and a worker adds a case,
    an alert or an action this way for most items it judges. Only a unique key is forgiven;
    any other integrity error (a missing foreign key) still raises, as it should.
    """
    mapper = inspect(type(row))
    (key,) = mapper.primary_key
    values, defaulted = {}, []
    for prop in mapper.column_attrs:
        column, value = prop.columns[0], getattr(row, prop.key)
        # As the ORM's INSERT: a column left None takes its default (the id, its sequence).
        if value is None and (column.default is not None or column.server_default is not None):
            defaulted.append(prop.key)
        elif value is not None or column is not key:
            values[column.name] = value
    dialect_insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = dialect_insert(mapper.local_table).values(values).on_conflict_do_nothing()
    # Nothing pending need go first: a row refers to others by id, and an unwritten row has
    # none yet; and the rows of every table that uses this are all inserted through it, so no
    # pending one can hold the key. What is pending is written later, with the rest, in fewer
    # statements.
    with session.no_autoflush:
        inserted = session.execute(statement.returning(key)).scalar()
    if inserted is None:
        return False
    setattr(row, mapper.get_property_by_column(key).key, inserted)
    # Stored as it stands: the session now holds it as a loaded row, not one to insert.
    make_transient_to_detached(row)
    session.add(row)
    if defaulted:
        session.expire(row, defaulted)  # what the database filled in is read when wanted
    return True


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to date; safe to run on every start."""
    if revision == "head" and _revision_of(engine) == head_revision():
        # Every start (and every app the tests build) lands here: one query instead of
        # Alembic loading and walking its scripts.
        return
    command.upgrade(alembic_config(engine), revision)


def _revision_of(engine: Engine) -> str | None:
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


@functools.cache
def head_revision() -> str:
    """The revision this version of Haven migrates to."""
    head = ScriptDirectory(MIGRATIONS).get_current_head()
    assert head is not None, "bot/migrations has no revisions"
    return head


def is_known_revision(revision: str) -> bool:
    """True when this version's migrations include `revision` (False: a newer Haven made it)."""
    try:
        return ScriptDirectory(MIGRATIONS).get_revision(revision) is not None
    except RevisionError:
        return False


def schema_revision(url: str) -> str | None:
    """The revision the database at `url` is migrated to, or None when it has no schema.

    Creates nothing: connecting to a SQLite path makes an empty file there, so a missing file
    is answered without connecting and an existing one is opened read-only. A server that
    cannot be reached raises SQLAlchemy's OperationalError.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database)
        if not path.is_file():
            return None
        parsed = parsed.set(database=path.absolute().as_uri(), query={"mode": "ro", "uri": "true"})
    # A plain engine, not make_engine: its SQLite pragmas (journal_mode=WAL) write to the file.
    engine = create_engine(parsed, hide_parameters=True)
    try:
        # Read alembic's table directly: its MigrationContext logs at INFO on every command.
        return _revision_of(engine)
    finally:
        engine.dispose()


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
