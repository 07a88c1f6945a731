"""The holds page: only the safeguarding lead and deputy; extend or release with a reason;
bad input gets a 400 and changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from bot.db import session_scope
from bot.models import AuditEntry, utcnow
from bot.models.dashboard import CaseEvent
from bot.models.privacy import PrivacyHold
from bot.privacy.holds import place_safeguarding_holds
from tests.privacy.support import SECRET_TEXT, seed_message


@pytest.fixture
def hold(app: Flask) -> PrivacyHold:
    """A safeguarding case with old messages, held, and due for review since yesterday."""
    with session_scope(app.extensions["haven"].engine) as db:
        seeded = seed_message(db, age_days=400, case_type="safeguarding")
        place_safeguarding_holds(db, "system", [seeded.case_id])  # type: ignore[list-item]
        row = db.exec(select(PrivacyHold).where(PrivacyHold.case_id == seeded.case_id)).one()
        row.review_on = utcnow().date() - timedelta(days=1)
        db.add(row)
        db.flush()
        db.expunge(row)
    return row


def _row(app: Flask, hold: PrivacyHold) -> PrivacyHold:
    with Session(app.extensions["haven"].engine) as db:
        return db.get(PrivacyHold, hold.id)  # type: ignore[return-value]


def _extend(hold: PrivacyHold, review_on: str, reason: str) -> dict[str, str]:
    return {f"extend-{hold.id}-review_on": review_on, f"extend-{hold.id}-reason": reason}


def _release(hold: PrivacyHold, reason: str, confirm: bool = True) -> dict[str, str]:
    form = {f"release-{hold.id}-reason": reason}
    return {**form, f"release-{hold.id}-confirm": "y"} if confirm else form


@pytest.mark.parametrize("role", ["admin", "moderator"])
def test_only_the_lead_and_deputy_reach_holds(
    as_role: Callable[[str], FlaskClient], hold: PrivacyHold, role: str
) -> None:
    other = as_role(role)
    assert other.get("/holds").status_code == 403
    later = (utcnow().date() + timedelta(days=90)).isoformat()
    assert other.post(f"/holds/{hold.id}/extend", data=_extend(hold, later, "r")).status_code == 403
    assert other.post(f"/holds/{hold.id}/release", data=_release(hold, "r")).status_code == 403
    assert 'href="/holds"' not in other.get("/").get_data(as_text=True)


def test_the_lead_sees_holds_due_and_extends_one_with_a_reason(
    app: Flask, as_role: Callable[[str], FlaskClient], hold: PrivacyHold
) -> None:
    lead = as_role("safeguarding_lead")
    assert 'href="/holds"' in lead.get("/").get_data(as_text=True)
    page = lead.get("/holds").get_data(as_text=True)
    assert f"Case #{hold.case_id}" in page and "review due since" in page
    assert SECRET_TEXT not in page
    later = utcnow().date() + timedelta(days=90)
    form = _extend(hold, later.isoformat(), "SE: court date in March")
    response = lead.post(f"/holds/{hold.id}/extend", data=form)
    assert response.status_code == 302
    assert "reviewed again on" in lead.get("/holds").get_data(as_text=True)
    assert _row(app, hold).review_on == later
    with Session(app.extensions["haven"].engine) as db:
        note = db.exec(select(CaseEvent).where(CaseEvent.case_id == hold.case_id)).all()[-1]
        entry = db.exec(
            select(AuditEntry).where(AuditEntry.action == "privacy.hold_extended")
        ).one()
    assert note.text is not None and note.text.endswith("Reason: SE: court date in March")
    assert entry.detail["review_on"] == later.isoformat() and entry.actor.startswith("user:")


def test_the_deputy_releases_a_hold_after_confirming(
    app: Flask, as_role: Callable[[str], FlaskClient], hold: PrivacyHold
) -> None:
    deputy = as_role("safeguarding_deputy")
    unconfirmed = deputy.post(f"/holds/{hold.id}/release", data=_release(hold, "done", False))
    assert unconfirmed.status_code == 400
    assert "tick the box" in unconfirmed.get_data(as_text=True)
    assert _row(app, hold).released_at is None
    done = deputy.post(f"/holds/{hold.id}/release", data=_release(hold, "SE: no further action"))
    assert done.status_code == 302
    assert _row(app, hold).released_at is not None
    page = deputy.get("/holds").get_data(as_text=True)
    assert "No case is held." in page and "Recently released" in page
    # Released already: refused, plainly.
    again = deputy.post(f"/holds/{hold.id}/release", data=_release(hold, "again"))
    assert again.status_code == 400 and "released already" in again.get_data(as_text=True)


@pytest.mark.parametrize(
    ("review_on", "reason", "says"),
    [
        ("", "a reason", "Give a review date and a reason."),
        ("not-a-date", "a reason", "Give a review date and a reason."),
        ("2020-01-01", "a reason", "must be after today"),
        ("2099-01-01", "a reason", "within ten years"),
        ("{later}", "", "Give a review date and a reason."),
        ("{later}", "x" * 501, "Give a review date and a reason."),
    ],
)
def test_a_bad_extension_is_refused_with_a_400_and_changes_nothing(
    app: Flask, as_role: Callable[[str], FlaskClient], hold: PrivacyHold,
    review_on: str, reason: str, says: str,
) -> None:  # fmt: skip
    lead = as_role("safeguarding_lead")
    review_on = review_on.format(later=(utcnow().date() + timedelta(days=30)).isoformat())
    response = lead.post(f"/holds/{hold.id}/extend", data=_extend(hold, review_on, reason))
    assert response.status_code == 400
    assert says in response.get_data(as_text=True)
    assert _row(app, hold).review_on == hold.review_on
    with Session(app.extensions["haven"].engine) as db:
        assert (
            db.exec(select(AuditEntry).where(AuditEntry.action.startswith("privacy.hold_e"))).all()
            == []
        )


def test_an_unknown_hold_is_not_found(as_role: Callable[[str], FlaskClient]) -> None:
    lead = as_role("safeguarding_lead")
    later = (utcnow().date() + timedelta(days=30)).isoformat()
    form = {"extend-424242-review_on": later, "extend-424242-reason": "r"}
    assert lead.post("/holds/424242/extend", data=form).status_code == 404
    form = {"release-424242-reason": "r", "release-424242-confirm": "y"}
    assert lead.post("/holds/424242/release", data=form).status_code == 404
