"""The safeguarding override's escalation, with a clock the test controls: paged at once,
re-escalated to the deputy and by a second channel when ignored, repeated until acknowledged,
stopped by an acknowledgement, and every step on the case's audit log."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from sqlmodel import Session, select

from bot.models import AuditEntry, Case, Item
from bot.models.alerts import AckLink, Alert, AlertDelivery, Escalation
from bot.notify.delivery import deliver, route_alerts
from bot.notify.escalation import step_escalations
from tests.notify.conftest import (
    RISK_TEXT,
    AlertStack,
    alerts_config,
    assert_content_free,
    make_stack,
)
from tests.support.servers import SMTPServer, WebhookReceiver


def _deliver_pending(stack: AlertStack, now) -> list[str]:  # type: ignore[no-untyped-def]
    route_alerts(stack.engine, stack.config.alerts, now=now)
    pending = stack.rows(AlertDelivery, AlertDelivery.status == "pending")
    return [
        deliver(stack.engine, stack.config, d.id, now=now, environ=stack.environ) for d in pending
    ]


def _case_audit(stack: AlertStack, case_id: int) -> list[str]:
    with Session(stack.engine) as session:
        entries = session.exec(
            select(AuditEntry)
            .where(AuditEntry.subject_type == "case", AuditEntry.subject_id == str(case_id))
            .order_by(AuditEntry.id)
        ).all()
    return [e.action for e in entries]


def test_ignored_escalation_repeats_to_deputy_and_second_channel_until_acknowledged(
    stack: AlertStack, smtp: SMTPServer, hook: WebhookReceiver
) -> None:
    stack.comment(RISK_TEXT)
    (escalation,) = stack.rows(Escalation)
    t0 = escalation.opened_at
    assert (escalation.status, escalation.level) == ("open", 0)

    # At once: the lead, by email, with an acknowledge link.
    assert _deliver_pending(stack, t0) == ["sent"]
    (first,) = smtp.wait_for(1)
    assert first.rcpt_tos == ["lead@example.org"]
    assert (
        "safeguarding escalation" in first.subject and f"case {escalation.case_id}" in first.subject
    )
    assert f"https://haven.example.org/cases/{escalation.case_id}" in first.body
    assert "Possible suicide risk" in first.body and "risk.suicide" not in first.body
    assert_content_free(first.everything)
    assert re.search(r"https://haven\.example\.org/alerts/ack\?t=[\w-]{40,}", first.body)

    # Not yet due: nothing happens; due: re-escalated to the deputy and by the pager too.
    assert step_escalations(stack.engine, stack.config, now=t0 + timedelta(minutes=9)) == 0
    assert step_escalations(stack.engine, stack.config, now=t0 + timedelta(minutes=10)) == 1
    assert _deliver_pending(stack, t0 + timedelta(minutes=10)) == ["sent"] * 3
    mails = smtp.wait_for(3)
    assert sorted(m.rcpt_tos[0] for m in mails[1:]) == ["deputy@example.org", "lead@example.org"]
    assert all("re-escalation 1" in m.subject for m in mails[1:])
    (page,) = hook.wait_for(1)
    assert page.signature_ok is True
    assert page.json["kind"] == "escalation" and page.json["level"] == 1
    assert page.json["category"] == "risk.suicide" and page.json["ack_url"]
    for sent in mails:
        assert_content_free(sent.everything)
    assert_content_free(page.body.decode())

    # ...and again every `repeat_every_minutes`, until someone acknowledges.
    assert step_escalations(stack.engine, stack.config, now=t0 + timedelta(minutes=14)) == 0
    assert step_escalations(stack.engine, stack.config, now=t0 + timedelta(minutes=15)) == 1
    route_alerts(stack.engine, stack.config.alerts, now=t0 + timedelta(minutes=15))
    assert len(stack.rows(AlertDelivery, AlertDelivery.status == "pending")) == 3

    # The lead opens the link from the first email: GET only shows what it is for.
    lead = stack.user("lead", "safeguarding_lead")
    client = stack.client_as(lead)
    link = re.search(r"/alerts/ack\?t=[\w-]+", first.body).group(0)
    page_html = client.get(link)
    assert page_html.status_code == 200 and "I'm dealing with this" in page_html.text
    assert stack.rows(Escalation)[0].status == "open"
    token = link.split("t=", 1)[1]
    response = client.post("/alerts/ack", data={"t": token})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/cases/{escalation.case_id}")

    (escalation,) = stack.rows(Escalation)
    assert escalation.status == "acknowledged" and escalation.acknowledged_by == lead
    # The pages not yet sent are not sent; no step ever again.
    assert not stack.rows(AlertDelivery, AlertDelivery.status == "pending")
    assert len(stack.rows(AlertDelivery, AlertDelivery.status == "cancelled")) == 3
    assert step_escalations(stack.engine, stack.config, now=t0 + timedelta(hours=5)) == 0
    assert all(a.acknowledged_at for a in stack.rows(Alert, Alert.kind == "escalation"))
    (used,) = stack.rows(AckLink, AckLink.used_at.is_not(None))
    assert used.used_by == lead

    actions = _case_audit(stack, escalation.case_id)
    assert actions.index("escalation.opened") < actions.index("escalation.paged")
    assert actions.count("escalation.re_escalated") == 2
    assert actions.count("alert.delivered") == 4
    # Whoever acknowledges has the case ("I'm dealing with this").
    assert actions[-2:] == ["escalation.acknowledged", "case.assigned"]
    with Session(stack.engine) as session:
        assert session.get(Case, escalation.case_id).assignee_id == lead


def test_deputy_paged_at_once_when_configured_and_more_risk_joins_the_open_escalation(
    tmp_path: Path, smtp: SMTPServer, hook: WebhookReceiver
) -> None:
    config = alerts_config(smtp.port, hook.url)
    config["escalation"] = {"page_deputy_at_once": True}
    stack, _queue = make_stack(tmp_path, config)
    try:
        stack.comment(RISK_TEXT)
        stack.comment("I want to end my life, I can't do this", comment="7002")
        escalations = stack.rows(Escalation)
        assert len(escalations) == 1  # the second message joined the open escalation
        with Session(stack.engine) as session:
            assert len(session.exec(select(Item).where(Item.case_id.is_not(None))).all()) == 2
        deliveries = stack.rows(AlertDelivery)
        assert sorted(d.recipient for d in deliveries) == ["deputy@example.org", "lead@example.org"]
        assert "escalation.joined" in _case_audit(stack, escalations[0].case_id)
    finally:
        stack.engine.dispose()


def test_closing_the_case_stops_the_escalation_and_new_risk_after_ack_opens_a_new_one(
    stack: AlertStack,
) -> None:
    stack.comment(RISK_TEXT)
    (escalation,) = stack.rows(Escalation)
    with Session(stack.engine) as session:
        case = session.get(Case, escalation.case_id)
        case.status = "closed"
        session.add(case)
        session.commit()
    later = escalation.opened_at + timedelta(minutes=30)
    assert step_escalations(stack.engine, stack.config, now=later) == 0
    (escalation,) = stack.rows(Escalation)
    assert escalation.status == "stopped" and escalation.open_key is None
    assert "escalation.stopped" in _case_audit(stack, escalation.case_id)


def test_a_lead_acknowledges_from_the_inbox_and_others_cannot(stack: AlertStack) -> None:
    stack.comment(RISK_TEXT)
    (escalation,) = stack.rows(Escalation)
    admin = stack.client_as(stack.user("boss", "admin"))
    assert admin.post(f"/alerts/escalations/{escalation.id}/acknowledge").status_code == 404
    inbox = admin.get("/alerts/").text
    assert "1 safeguarding escalation open" in inbox and "suicide" not in inbox
    deputy = stack.client_as(stack.user("deputy", "safeguarding_deputy"))
    assert "Possible suicide risk" in deputy.get("/alerts/").text
    response = deputy.post(f"/alerts/escalations/{escalation.id}/acknowledge")
    assert response.status_code == 302
    assert stack.rows(Escalation)[0].status == "acknowledged"
    # More risk from the same person after that is a new concern: a new escalation pages again.
    stack.comment("I want to end my life, I can't do this", comment="7003")
    assert [e.status for e in stack.rows(Escalation)] == ["acknowledged", "open"]
