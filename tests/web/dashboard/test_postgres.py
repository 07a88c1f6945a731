"""Every dashboard page and action once on a real PostgreSQL (the rest run on SQLite)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.app import create_app
from bot.models import Case, ReplyDraft
from bot.tasks import LocalEnqueuer
from tests.helpers import make_settings
from tests.web.dashboard.support import HELP, PII, RISK, add_user, comment, message, sign_in

pytestmark = pytest.mark.postgres


def test_the_dashboard_on_postgresql(
    tmp_path: Path, migrated_postgres_url: str, enqueuer: LocalEnqueuer
) -> None:
    app = create_app(make_settings(tmp_path, DATABASE_URL=migrated_postgres_url), enqueuer=enqueuer,
                     migrate=True)  # fmt: skip
    app.config["WTF_CSRF_ENABLED"] = False
    feeder = app.test_client()
    helped = comment(app, feeder, HELP, author="501")
    comment(app, feeder, PII, author="502")
    comment(app, feeder, RISK, author="503")
    message(app, feeder, HELP, sender="504")
    key = add_user(app, "lead", "safeguarding_lead")
    lead = app.test_client()
    sign_in(lead, app, "lead", key)
    engine = app.extensions["haven"].engine
    with Session(engine) as db:
        case = db.exec(select(Case).where(Case.case_type == "support")).first()
        draft = db.exec(select(ReplyDraft).where(ReplyDraft.item_id == helped.id)).first()
    assert case is not None and draft is not None
    for path, form in (
        (f"/drafts/{draft.id}/approve", {"text": "Hello"}),
        (f"/cases/{case.id}/status", {"status": "matched", "reason": "r"}),
        (f"/cases/{case.id}/notes", {"note": "SE"}),
        (f"/cases/{case.id}/assignee", {"assignee": ""}),
        (f"/items/{helped.id}/review", {}),
        ("/people/facebook/502/removal", {"reason": "asked to leave"}),
    ):
        assert lead.post(path, data=form).status_code == 302, path
    comment(app, feeder, "I'm back", author="502")
    for path in (
        "/", "/?view=reviewed", "/cases", "/cases?status=all&assignee=none&severity=high",
        f"/cases/{case.id}", "/people", "/people/facebook/501", "/response-times?days=7",
        "/check", "/rules", "/audit?action=case.&from=2020-01-01&subject_type=case",
    ):  # fmt: skip
        response = lead.get(path)
        assert response.status_code == 200, (path, response.get_data(as_text=True)[-2000:])
    assert "Removed from the community" in lead.get("/").get_data(as_text=True)
    checked = lead.post("/check", data={"text": "Call 07700 900123"}).get_data(as_text=True)
    assert "Gives a phone number" in checked
    engine.dispose()
