"""Alerts about anything on a safeguarding case reach the lead and deputy only, on every channel
(issue 17, row 1), on SQLite and PostgreSQL: one about personal details in a risk comment, and
one raised for the moderators before its comment joined a safeguarding case."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlmodel import Session

from bot.app import create_app
from bot.db import session_scope
from bot.models import Item
from bot.models.alerts import Alert, AlertDelivery
from bot.notify.delivery import deliver, route_alerts
from bot.tasks import LocalEnqueuer
from tests.helpers import make_settings
from tests.notify.conftest import PII_TEXT, RISK_TEXT, AlertStack, alerts_config
from tests.support.servers import SMTPServer, WebhookReceiver

LEAD_ONLY = {"lead@example.org", "deputy@example.org"}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def walled(
    request: pytest.FixtureRequest, tmp_path: Path, smtp: SMTPServer, hook: WebhookReceiver
) -> Iterator[AlertStack]:
    # The moderators' alerts about personal details go to their shared chat as well.
    config = alerts_config(
        smtp.port, hook.url, categories={"pii": {"roles": ["admin"], "channels": ["team-chat"]}}
    )
    env = {}
    if request.param == "postgresql":
        env["DATABASE_URL"] = request.getfixturevalue("migrated_postgres_url")
    settings = make_settings(tmp_path, config={"alerts": config}, **env)
    app = create_app(settings, enqueuer=LocalEnqueuer([0], start=False))
    app.config["WTF_CSRF_ENABLED"] = False
    stack = AlertStack(app, settings)
    yield stack
    stack.engine.dispose()


def _others(stack: AlertStack) -> list[FlaskClient]:
    return [stack.client_as(stack.user(role, role)) for role in ("moderator", "admin")]


def _assert_only_the_lead_knows(stack: AlertStack, alert: Alert, *, told: bool) -> None:
    for client in _others(stack):
        inbox = client.get("/alerts/").text
        assert "pii.phone" not in inbox and "not yet acknowledged" not in inbox
        assert client.post(f"/alerts/{alert.id}/acknowledge").status_code == 404
    assert stack.rows(Alert, Alert.id == alert.id)[0].acknowledged_at is None
    route_alerts(stack.engine, stack.config.alerts)
    ours = AlertDelivery.alert_id == alert.id
    for delivery in stack.rows(AlertDelivery, ours):
        deliver(stack.engine, stack.config, delivery.id, environ=stack.environ)
    outcomes = {(d.recipient, d.status) for d in stack.rows(AlertDelivery, ours)}
    sent = {recipient for recipient, status in outcomes if status == "sent"}
    assert sent <= LEAD_ONLY and bool(sent) == told, outcomes
    # Anything routed to others before the comment joined the case is never sent.
    assert {status for recipient, status in outcomes if recipient not in LEAD_ONLY} <= {
        "cancelled"
    }, outcomes
    lead = stack.client_as(stack.user("lead", "safeguarding_lead"))
    assert "Gives a phone number" in lead.get("/alerts/").text
    assert lead.post(f"/alerts/{alert.id}/acknowledge").status_code == 302


def test_personal_details_in_a_risk_comment_are_the_leads_alert_alone(
    walled: AlertStack,
) -> None:
    walled.comment(f"{RISK_TEXT}. {PII_TEXT}")
    (alert,) = walled.rows(Alert, Alert.kind == "finding")
    assert alert.case_id is not None
    _assert_only_the_lead_knows(walled, alert, told=True)


def test_an_alert_raised_before_its_comment_joined_a_safeguarding_case_follows_it(
    walled: AlertStack,
) -> None:
    details = walled.comment(PII_TEXT)
    risky = walled.comment(RISK_TEXT, comment="7002")  # the same person, on the same post
    with session_scope(walled.engine) as db:
        case_id = db.get(Item, risky).case_id
        db.get(Item, details).case_id = case_id  # staff put the comment on the person's case
    (alert,) = walled.rows(Alert, Alert.kind == "finding")
    assert (alert.case_id, alert.roles) == (None, ["admin", "moderator"])
    with Session(walled.engine) as db:
        assert db.get(Item, details).case_id == case_id
    _assert_only_the_lead_knows(walled, alert, told=False)
