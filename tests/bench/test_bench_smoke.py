"""Quick checks of the issue 10 benchmarks (the long runs stay out of `make test`).

The size bench runs end to end on a tiny database (in this process, on the test's own); the
end-to-end bench's deliveries are checked to produce what it times (a finding, a case and a
draft), so a change to the rules cannot leave it silently timing nothing; the docs block
writer keeps the prose around it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import psycopg
import pytest
from sqlmodel import Session, select

from bot import crypto
from bot.app import create_app
from bot.models import Finding, Item, ReplyDraft
from bot.tasks import LocalEnqueuer
from tests.helpers import PAGE_ID, make_settings, signed_post

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import docblock  # noqa: E402
import e2e  # noqa: E402
import size  # noqa: E402


def test_a_block_is_replaced_in_place_and_appended_when_absent() -> None:
    text = "# Benchmarks\n\nHand-written.\n"
    first = docblock.replace_block(text, "size", "figures 1", "## Size")
    assert first.startswith(text.rstrip()) and "## Size" in first and "figures 1" in first
    second = docblock.replace_block(first + "\nMore prose.\n", "size", "figures 2", "## Size")
    assert "figures 1" not in second and "figures 2" in second
    assert second.count("## Size") == 1 and second.endswith("More prose.\n")


def test_the_end_to_end_deliveries_each_make_a_finding_a_case_and_a_draft(
    tmp_path: Path, enqueuer: LocalEnqueuer
) -> None:
    app = create_app(make_settings(tmp_path), enqueuer=enqueuer)
    client = app.test_client()
    for n in range(3):  # one of each text
        payload = e2e.help_payload(PAGE_ID, n, "0001")
        assert signed_post(client, payload).status_code == 200
    assert enqueuer.wait_idle(30)
    with Session(app.extensions["haven"].engine) as db:
        items = db.exec(select(Item)).all()
        assert len(items) == 3
        for item in items:
            assert item.status == "processed" and item.case_id is not None
            assert db.exec(select(Finding).where(Finding.item_id == item.id)).first()
            assert db.exec(select(ReplyDraft).where(ReplyDraft.item_id == item.id)).first()
    app.extensions["haven"].engine.dispose()


@pytest.mark.postgres
def test_the_size_bench_runs_on_a_tiny_database(
    postgres_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The bench installs a data key of its own in this process: put the test's back after.
    monkeypatch.setattr(crypto, "_installed", crypto._installed)
    database = postgres_url.rsplit("/", 1)[1]
    assert size.main(["--items", "400", "--open-cases", "12", "--closed-cases", "20",
                      "--requests", "2", "--database", database]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "| queue, first page (`/`) |" in out and "| cases (open), first page (`/cases`) |" in out
    assert "12 open and 20 closed cases" in out and "bytes per item" in out
    with psycopg.connect(postgres_url.replace("+psycopg", "")) as conn:
        open_cases = conn.execute("SELECT count(*) FROM cases WHERE status <> 'closed'").fetchone()
        items = conn.execute("SELECT count(*) FROM items").fetchone()
    assert open_cases == (12,) and items == (400,)
