"""A safeguarding hold due for review reaches the lead on the lead's channels, from the tick,
saying which cases and what to do, and nothing about anyone."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.db import session_scope
from bot.models import utcnow
from bot.models.alerts import Alert, AlertDelivery
from bot.models.privacy import PrivacyHold
from bot.notify.delivery import deliver, route_alerts
from bot.privacy.holds import place_safeguarding_holds
from tests.notify.conftest import AlertStack, assert_content_free
from tests.privacy.support import SECRET_TEXT, seed_message
from tests.support.servers import SMTPServer


def test_the_tick_reminds_the_lead_of_a_hold_due_for_review(
    stack: AlertStack, smtp: SMTPServer
) -> None:
    from workers.jobs import tick

    with session_scope(stack.engine) as db:
        seeded = seed_message(db, age_days=400, case_type="safeguarding")
        place_safeguarding_holds(db, "system", [seeded.case_id])  # type: ignore[list-item]
        hold = db.exec(select(PrivacyHold).where(PrivacyHold.case_id == seeded.case_id)).one()
        hold.review_on = utcnow().date() - timedelta(days=2)
        db.add(hold)
    assert tick()["holds_due"] == 1
    assert tick()["holds_due"] == 0  # reminded: not again until a week has passed
    [alert] = stack.rows(Alert, Alert.kind == "hold_review")
    route_alerts(stack.engine, stack.config.alerts)
    [delivery] = stack.rows(AlertDelivery, AlertDelivery.alert_id == alert.id)
    assert (delivery.channel, delivery.role) == ("email", "safeguarding_lead")
    assert deliver(stack.engine, stack.config, delivery.id) == "sent"
    [mail] = smtp.wait_for(1)
    assert mail.rcpt_tos == ["lead@example.org"]
    assert mail.subject == "Haven: 1 safeguarding hold due for review"
    assert f"Cases: {seeded.case_id}" in mail.body
    assert "https://haven.example.org/holds" in mail.body
    assert_content_free(mail.subject + mail.body, SECRET_TEXT, "Lily", "Oakfield")
