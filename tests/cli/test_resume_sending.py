"""`haven resume-sending`: a page paused after a token error sends again, and it is audited."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlmodel import Session, select

from bot.cli import main
from bot.db import make_engine, session_scope
from bot.models import AccountState, AuditEntry, utcnow
from tests.helpers import PAGE_ID, environ_for_tests, write_config


def test_resume_sending_clears_the_pause_once(tmp_path: Path) -> None:
    env = environ_for_tests(tmp_path, HAVEN_CONFIG=str(write_config(tmp_path)))
    engine = make_engine(env["DATABASE_URL"])
    with session_scope(engine) as session:
        session.add(AccountState(account_id=PAGE_ID, paused_at=utcnow(), paused_reason="190"))

    first = CliRunner().invoke(main, ["resume-sending", PAGE_ID], env=env)
    again = CliRunner().invoke(main, ["resume-sending", PAGE_ID], env=env)

    assert first.exit_code == 0 and "sending resumed" in first.output
    assert again.exit_code == 0 and "was not paused" in again.output
    with Session(engine) as session:
        state = session.get(AccountState, PAGE_ID)
        assert state.paused_at is None and state.paused_reason is None
        resumed = session.exec(
            select(AuditEntry).where(AuditEntry.action == "account.resumed")
        ).all()
    assert [(e.actor, e.subject_id) for e in resumed] == [("cli", PAGE_ID)]
    engine.dispose()
