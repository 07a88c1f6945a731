"""The safeguarding wall where the outside probe found it open (issue 17, rows 2, 6 and 7), on
SQLite and PostgreSQL: a reply on an item that joined a safeguarding case after its draft was
written, a person known only through a safeguarding case, and the audit log's entries about one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from bot.config import Settings
from bot.models import OutboundAction, ReplyDraft
from tests.helpers import make_settings
from tests.web.dashboard.support import PII, RISK, case_of, comment

PERSON = "6000000000000321"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    # A bank holiday whatever the clock says: the risk reply is the out-of-hours one.
    today = datetime.now(UTC).date()
    holidays = [today + timedelta(days=n) for n in (-1, 0, 1)]
    closed = {"working_hours": {"bank_holidays": holidays}}
    if request.param == "sqlite":
        return make_settings(tmp_path, config=closed)
    url = request.getfixturevalue("migrated_postgres_url")
    return make_settings(tmp_path, config=closed, DATABASE_URL=url)


@pytest.fixture(autouse=True)
def _dispose(app: Flask) -> Iterator[None]:
    yield
    app.extensions["haven"].engine.dispose()


def _draft_of(app: Flask, item_id: int) -> ReplyDraft:
    with Session(app.extensions["haven"].engine) as db:
        return db.exec(select(ReplyDraft).where(ReplyDraft.item_id == item_id)).one()


def test_a_reply_on_an_item_that_joined_a_safeguarding_case_is_for_the_lead_only(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    feeder = app.test_client()
    details = comment(app, feeder, PII, author=PERSON)
    draft = _draft_of(app, details.id)  # written while the comment was on no case
    risky = comment(app, feeder, RISK, author=PERSON)  # the same person and thread
    moderator = as_role("moderator")
    # A moderator opens a case on the comment: it joins the person's safeguarding case.
    moderator.post(f"/items/{details.id}/case", data={"case_type": "privacy"})
    assert case_of(app, details).id == case_of(app, risky).id
    assert _draft_of(app, details.id).case_id is None  # the draft still says "no case"
    admin = as_role("admin")
    assert admin.post(f"/drafts/{draft.id}/approve", data={"text": "Hi"}).status_code == 403
    assert admin.post(f"/drafts/{draft.id}/reject").status_code == 403
    assert _draft_of(app, details.id).status == "draft"
    with Session(app.extensions["haven"].engine) as db:
        assert db.exec(select(OutboundAction).where(OutboundAction.kind != "hide")).all() == []
    lead = as_role("safeguarding_lead")
    assert lead.post(f"/drafts/{draft.id}/reject").status_code == 302
    assert _draft_of(app, details.id).status == "rejected"


def test_a_person_known_only_through_a_safeguarding_case_is_no_one_to_others(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    comment(app, app.test_client(), RISK, author=PERSON)
    reason = {"reason": "asked to leave"}
    for role in ("moderator", "admin"):
        client = as_role(role)
        # The same answer as for a Meta id Haven has never seen.
        for author in (PERSON, "6000000000000999"):
            assert client.get(f"/people/facebook/{author}").status_code == 404
            removal = client.post(f"/people/facebook/{author}/removal", data=reason)
            assert removal.status_code == 404, (role, author)
    lead = as_role("safeguarding_lead")
    assert lead.get(f"/people/facebook/{PERSON}").status_code == 200
    assert lead.post(f"/people/facebook/{PERSON}/removal", data=reason).status_code == 302
    # The mark the lead made names nobody the others may not see.
    for role in ("moderator", "admin"):
        assert PERSON not in as_role(role).get("/people").get_data(as_text=True)
    assert PERSON in lead.get("/people").get_data(as_text=True)


def test_the_audit_log_keeps_what_happened_on_a_safeguarding_case_from_admins(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    risky = comment(app, app.test_client(), RISK, author=PERSON)
    draft = _draft_of(app, risky.id)
    admin = as_role("admin")
    page = admin.get("/audit").get_data(as_text=True)
    for leak in ("draft.created", "draft.out_of_hours", "risk", "case.opened"):
        assert leak not in page, leak
    filtered = admin.get(f"/audit?subject_type=draft&subject_id={draft.id}").get_data(as_text=True)
    assert "No entries match" in filtered
    assert "No entries match" in admin.get("/audit?action=draft.").get_data(as_text=True)
    lead = as_role("safeguarding_lead").get("/audit?action=draft.").get_data(as_text=True)
    assert "draft.created" in lead and "draft.out_of_hours" in lead
