"""Escalating from the dashboard is the escalation a rule's finding gets: the lead on duty has the
case, it is first in their queue, and they acknowledge it from the case page."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from bot.config import Settings
from bot.models import Case, User
from bot.models.alerts import Alert, Escalation
from tests.helpers import make_settings
from tests.web.dashboard.support import HELP, PII, case_of, comment

EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A rota with the lead on duty at every hour (the staff fixture's usernames are roles)."""
    shift = {"days": EVERY_DAY, "from": "00:00", "to": "00:00", "lead": "safeguarding_lead",
             "deputy": "safeguarding_deputy"}  # fmt: skip
    return make_settings(tmp_path, config={"alerts": {"rota": {"shifts": [shift]}}})


def _order(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-item="(\d+)"', page)]


def _lead_id(app: Flask) -> int:
    with Session(app.extensions["haven"].engine) as db:
        return db.exec(select(User.id).where(User.username == "safeguarding_lead")).one()


def test_a_moderators_escalation_is_the_leads_first_and_paging(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    feeder = app.test_client()
    help_item = comment(app, feeder, HELP, author="701", age_seconds=60)
    pii_item = comment(app, feeder, PII, author="702", age_seconds=7200)
    lead = as_role("safeguarding_lead")
    assert _order(lead.get("/").text)[0] == pii_item.id  # high before medium, as before
    case = case_of(app, help_item)

    moderator = as_role("moderator")
    escalate = {"status": "escalated", "reason": "JW: mentions a bruise"}
    answer = moderator.post(f"/cases/{case.id}/status", data=escalate)
    assert answer.status_code == 302 and answer.headers["Location"] == "/"
    assert "the safeguarding lead on duty is being paged" in moderator.get("/").text

    case = case_of(app, help_item)
    assert (case.case_type, case.assignee_id) == ("safeguarding", _lead_id(app))
    queue = lead.get("/").text
    assert _order(queue)[0] == help_item.id  # above the high finding: it is escalated
    on_duty = "safeguarding_lead (safeguarding lead), safeguarding_deputy (deputy)"
    assert f"On duty now: {on_duty}." in queue
    with Session(app.extensions["haven"].engine) as db:
        (escalation,) = db.exec(select(Escalation)).all()
        (alert,) = db.exec(select(Alert).where(Alert.kind == "escalation")).all()
    assert escalation.status == "open" and alert.facts["raised_by"] == "a moderator"


def test_the_lead_acknowledges_from_the_case_page(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    item = comment(app, app.test_client(), PII, author="703")
    moderator = as_role("moderator")
    # Opening a safeguarding case by hand from the queue escalates it the same way.
    answer = moderator.post(f"/items/{item.id}/case", data={"case_type": "safeguarding"})
    assert answer.status_code == 302
    case = case_of(app, item)
    assert case.status == "escalated" and case.assignee_id == _lead_id(app)
    assert moderator.post(f"/cases/{case.id}/acknowledge").status_code == 403

    deputy = as_role("safeguarding_deputy")
    page = deputy.get(f"/cases/{case.id}").text
    assert "the safeguarding lead and deputy are being paged" in page
    assert f'action="/cases/{case.id}/acknowledge"' in page
    assert deputy.post(f"/cases/{case.id}/acknowledge").status_code == 302
    page = deputy.get(f"/cases/{case.id}").text
    assert "paging has stopped, and the case is yours" in page
    assert f'action="/cases/{case.id}/acknowledge"' not in page
    with Session(app.extensions["haven"].engine) as db:
        escalation = db.exec(select(Escalation)).one()
        deputy_id = db.exec(select(User.id).where(User.username == "safeguarding_deputy")).one()
        assert db.get(Case, case.id).assignee_id == deputy_id
    assert escalation.status == "acknowledged" and escalation.acknowledged_by == deputy_id
