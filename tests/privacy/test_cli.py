"""`haven subject ...` and `haven retention ...` through click's runner."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import Session, select

from bot.cli import main
from bot.db import make_engine, session_scope
from bot.models import Item
from tests.helpers import REPO, environ_for_tests
from tests.privacy.support import PERSON, SECRET_TEXT, seed_message


@pytest.fixture
def cli(tmp_path: Path):  # type: ignore[no-untyped-def]
    env = environ_for_tests(tmp_path)
    engine = make_engine(env["DATABASE_URL"])
    with session_scope(engine) as db:
        seed_message(db, age_days=120)
        seed_message(db, age_days=60, case_type="safeguarding")
        seed_message(db, age_days=95, author="6000000000000777")
    runner = CliRunner()

    def run(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(main, [*args, "--config", str(REPO / "config.yaml")], env=env)

    yield run, engine
    engine.dispose()


def test_subject_export_prints_json_or_writes_a_private_file(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run, _ = cli
    result = run("subject", "export", "--platform", "facebook", "--user", PERSON)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["user_id"] == PERSON and len(data["data"]["items"]) == 2
    assert len(data["holds"]) == 0  # nothing has placed a hold yet
    target = tmp_path / "export.json"
    result = run(
        "subject", "export", "--platform", "facebook", "--user", PERSON, "--output", str(target)
    )
    assert result.exit_code == 0, result.output
    assert json.loads(target.read_text())["data"]["items"][0]["text"] == SECRET_TEXT
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_subject_erase_needs_yes_then_erases_and_says_what_was_kept(cli) -> None:  # type: ignore[no-untyped-def]
    run, engine = cli
    refused = run("subject", "erase", "--platform", "facebook", "--user", PERSON)
    assert refused.exit_code != 0 and "--yes" in refused.output
    with Session(engine) as db:
        assert db.exec(select(Item).where(Item.text.is_(None))).all() == []
    erased = run("subject", "erase", "--platform", "facebook", "--user", PERSON, "--yes")
    assert erased.exit_code == 0, erased.output
    assert "erased: " in erased.output and "1 items" in erased.output
    assert "kept: case " in erased.output and "safeguarding" in erased.output
    again = run("subject", "erase", "--platform", "facebook", "--user", PERSON, "--yes", "--json")
    assert again.exit_code == 0
    assert json.loads(again.output)["total_changed"] == 0
    bad = run("subject", "erase", "--platform", "facebook", "--user", "x'; DROP", "--yes")
    assert bad.exit_code != 0 and "platform user id" in bad.output


def test_retention_report_and_purge(cli) -> None:  # type: ignore[no-untyped-def]
    run, _ = cli
    before = run("retention", "report", "--json")
    assert before.exit_code == 0, before.output
    assert json.loads(before.output)["overdue_items"] == 2
    purged = run("retention", "purge")
    assert purged.exit_code == 0, purged.output
    assert "purged: 2 items, 2 inbound_events, 2 reply_drafts" in purged.output
    report = run("retention", "report")
    assert report.exit_code == 0
    assert "Purged so far: 2 items" in report.output
    assert "Held (1 cases):" in report.output and "safeguarding case" in report.output
    assert SECRET_TEXT not in report.output and PERSON not in report.output
