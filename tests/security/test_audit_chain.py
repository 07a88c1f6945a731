"""The audit log is a hash chain: verified, tampering found, never forked by racing writers."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.audit import record
from bot.audit.chain import GENESIS, verify
from bot.db import make_engine, session_scope, upgrade
from bot.models import AuditEntry
from tests.helpers import REPO, environ_for_tests
from tests.support.databases import copy_sqlite_template


def _append(engine: Engine, count: int, actor: str = "system") -> None:
    for n in range(count):
        with session_scope(engine) as session:
            record(session, actor, "test.step", "case", n, step=n, tags=("a", "b"))


def _verify(engine: Engine):  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return verify(session, batch_size=7)


def _as_attacker(engine: Engine, *statements: str) -> None:
    """Change the log behind Haven's back, past the append-only triggers."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            # Superuser only: replica mode skips ordinary triggers for this transaction.
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            for statement in statements:
                connection.execute(text(statement))
        else:
            connection.execute(text("DROP TRIGGER audit_log_no_update"))
            connection.execute(text("DROP TRIGGER audit_log_no_delete"))
            for statement in statements:
                connection.execute(text(statement))


def test_entries_are_chained_and_verify(engine: Engine) -> None:
    _append(engine, 20)
    with Session(engine) as session:
        entries = session.exec(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert entries[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.entry_hash for a, b in zip(entries, entries[1:], strict=False))
    verdict = _verify(engine)
    assert verdict.ok and verdict.checked == 20 and verdict.head == entries[-1].entry_hash


def test_an_altered_entry_is_named(engine: Engine) -> None:
    _append(engine, 10)
    _as_attacker(engine, "UPDATE audit_log SET actor = 'someone else' WHERE id = 4")
    verdict = _verify(engine)
    assert not verdict.ok and verdict.broken_id == 4 and verdict.checked == 3
    assert "altered" in (verdict.reason or "")


def test_a_removed_entry_is_found(engine: Engine) -> None:
    _append(engine, 10)
    _as_attacker(engine, "DELETE FROM audit_log WHERE id = 6")
    verdict = _verify(engine)
    assert not verdict.ok and verdict.broken_id == 7 and "removed" in (verdict.reason or "")


def test_a_forked_chain_is_refused_by_the_database(engine: Engine) -> None:
    _append(engine, 2)
    with engine.connect() as connection:
        first = connection.execute(text("SELECT prev_hash FROM audit_log WHERE id = 1")).scalar()
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO audit_log (at, actor, action, subject_type, detail, prev_hash, "
                "entry_hash) VALUES (CURRENT_TIMESTAMP, 'x', 'x', 'x', '{}', :prev, :prev)"
            ),
            {"prev": first},
        )


def test_recorded_entries_follow_the_transaction(engine: Engine) -> None:
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        record(session, "system", "never.happened", "case", 1)
        raise RuntimeError("the change failed")
    with session_scope(engine) as session:
        record(session, "system", "kept", "case", 1)
        with pytest.raises(RuntimeError), session.begin_nested():
            raise RuntimeError("a lost race inside a savepoint")
    with Session(engine) as session:
        assert session.exec(select(AuditEntry.action)).all() == ["kept"]
    assert _verify(engine).ok


def test_a_savepoint_does_not_append_to_the_chain_before_the_commit(engine: Engine) -> None:
    """A savepoint released mid-transaction (`begin_nested`) does not append the entries; they
    are appended once, at the commit, so the chain's lock is not held from there on."""
    with session_scope(engine) as session:
        record(session, "system", "first", "case", 1)
        with session.begin_nested():
            record(session, "system", "second", "case", 2)
        assert session.exec(select(AuditEntry.id)).all() == []  # nothing written yet
        record(session, "system", "third", "case", 3)
    with Session(engine) as session:
        assert session.exec(select(AuditEntry.action).order_by(AuditEntry.id)).all() == [
            "first",
            "second",
            "third",
        ]
    assert _verify(engine).ok


def test_haven_audit_verify_exits_1_on_a_broken_chain(tmp_path: Path) -> None:
    from bot.cli import main

    env = environ_for_tests(tmp_path)
    engine = make_engine(env["DATABASE_URL"])
    _append(engine, 5)
    command = ["audit", "verify", "--config", str(REPO / "config.yaml")]
    good = CliRunner().invoke(main, command, env=env)
    assert good.exit_code == 0 and "OK: 5 entries" in good.output
    _as_attacker(engine, "UPDATE audit_log SET detail = '{\"step\": 99}' WHERE id = 2")
    bad = CliRunner().invoke(main, command, env=env)
    assert bad.exit_code == 1 and "BROKEN at entry 2" in bad.output
    engine.dispose()


def test_the_migration_chains_entries_written_before_it(engine: Engine) -> None:
    from alembic import command

    from bot.db import alembic_config

    command.downgrade(alembic_config(engine), "0005")
    with engine.begin() as connection:
        for n in range(3):
            connection.execute(
                text(
                    "INSERT INTO audit_log (at, actor, action, subject_type, subject_id, detail) "
                    "VALUES (CURRENT_TIMESTAMP, 'system', 'old', 'case', :n, '{\"n\": 1}')"
                ),
                {"n": str(n)},
            )
    upgrade(engine)
    _append(engine, 2)
    verdict = _verify(engine)
    assert verdict.ok and verdict.checked == 5
    with pytest.raises(Exception, match="append-only"), engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET actor = 'x'"))  # the trigger is back


WRITER = """
import sys
from bot.audit import record
from bot.db import make_engine, session_scope
engine = make_engine(sys.argv[1])
for n in range(int(sys.argv[2])):
    with session_scope(engine) as session:
        record(session, "process", "race", "case", n)
"""


@pytest.mark.postgres
@pytest.mark.stack
def test_racing_threads_and_processes_leave_one_unbroken_chain(migrated_postgres_url: str) -> None:
    engine = make_engine(migrated_postgres_url, pool_size=8)
    processes = [
        subprocess.Popen([sys.executable, "-c", WRITER, migrated_postgres_url, "25"], cwd=REPO)
        for _ in range(3)
    ]
    threads = [threading.Thread(target=_append, args=(engine, 25, f"thread{n}")) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(p.wait(timeout=120) == 0 for p in processes)
    verdict = _verify(engine)
    assert verdict.ok and verdict.checked == 9 * 25
    engine.dispose()


def test_racing_threads_on_sqlite_leave_one_unbroken_chain(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{copy_sqlite_template(tmp_path / 'race.sqlite')}")
    threads = [threading.Thread(target=_append, args=(engine, 15, f"thread{n}")) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    verdict = _verify(engine)
    assert verdict.ok and verdict.checked == 4 * 15
    engine.dispose()
