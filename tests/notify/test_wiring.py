"""The alerts other parts decide on (a paused page, a closing reply window), out-of-hours risk,
the queue's overnight sort key, the inbox's safeguarding wall and the acknowledge link's guards."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import responses
from sqlmodel import Session, select

from bot.actions import approve_draft
from bot.models import AuditEntry, Item, ReplyDraft
from bot.models.alerts import AckLink, Alert, Escalation
from bot.notify.alerts import overnight_first
from tests.helpers import PAGE_ID, TEST_ACCOUNTS
from tests.notify.conftest import (
    OTHER_AUTHOR_ID,
    OUT_OF_HOURS,
    PII_TEXT,
    RISK_TEXT,
    AlertStack,
    alerts_config,
    assert_content_free,
    make_stack,
)
from tests.support.servers import SMTPServer, WebhookReceiver
from workers.timers import warn_private_reply_deadlines

HELP = "Does anyone else feel like they're failing? I really need someone to talk to."
GRAPH = "https://graph.facebook.com/v24.0"


def test_a_rejected_page_token_alerts_the_admins(
    tmp_path: Path, smtp: SMTPServer, hook: WebhookReceiver
) -> None:
    from workers.jobs import perform_action

    meta = {"dry_run": False, "accounts": TEST_ACCOUNTS}
    stack, _queue = make_stack(tmp_path, alerts_config(smtp.port, hook.url), meta=meta)
    try:
        item_id = stack.comment(HELP)
        admin = stack.user("boss", "admin")
        with Session(stack.engine) as session:
            draft = session.exec(select(ReplyDraft).where(ReplyDraft.kind == "public")).one()
            action = approve_draft(session, draft, text=draft.text, user_id=admin)
            session.commit()
            action_id = action.id
        error = {
            "message": "Error validating access token",
            "type": "OAuthException",
            "code": 190,
            "error_subcode": 460,
        }
        with responses.RequestsMock() as meta_api:
            meta_api.post(
                f"{GRAPH}/900000000000001_7001/comments", json={"error": error}, status=400
            )
            assert perform_action(action_id) == "paused"
        (alert,) = stack.rows(Alert, Alert.kind == "account_paused")
        assert (alert.roles, alert.account_id) == (["admin"], PAGE_ID)
        assert set(stack.send_all()) <= {"sent"}
        (mail,) = smtp.wait_for(1)
        assert mail.rcpt_tos == ["admin@example.org"] and PAGE_ID in mail.subject
        assert_content_free(mail.everything, HELP[:25])
        assert item_id
    finally:
        stack.engine.dispose()


def test_a_closing_private_reply_window_alerts_whoever_approves_it(
    stack: AlertStack, smtp: SMTPServer
) -> None:
    stack.comment(HELP)
    stack.comment(RISK_TEXT, comment="7002", author=OTHER_AUTHOR_ID)  # a case of its own
    with Session(stack.engine) as session:
        newest = session.exec(select(Item.created_at).order_by(Item.created_at.desc())).first()
    warned = warn_private_reply_deadlines(stack.engine, now=newest + timedelta(days=6, hours=1))
    assert len(warned) == 2
    deadlines = stack.rows(Alert, Alert.kind == "reply_deadline")
    # The help request's reply is the admins'; the risk reply belongs to the lead and deputy.
    assert sorted(tuple(a.roles) for a in deadlines) == [
        ("admin",),
        ("safeguarding_deputy", "safeguarding_lead"),
    ]
    assert warn_private_reply_deadlines(stack.engine, now=newest + timedelta(days=6, hours=2)) == []
    assert len(stack.rows(Alert, Alert.kind == "reply_deadline")) == 2


def test_out_of_hours_risk_reply_says_when_staff_are_back_and_the_item_goes_first(
    stack: AlertStack,
) -> None:
    in_hours = stack.comment(RISK_TEXT)
    overnight = stack.comment(
        "I want to end my life, I can't do this",
        comment="7002",
        author=OTHER_AUTHOR_ID,
        received_at=OUT_OF_HOURS,
    )
    with Session(stack.engine) as session:
        drafts = {
            d.item_id: d
            for d in session.exec(select(ReplyDraft).where(ReplyDraft.kind == "private")).all()
        }
        ordered = session.exec(
            select(Item.id)
            .where(Item.id.in_((in_hours, overnight)))
            .order_by(overnight_first(Item.id, Item.case_id).desc(), Item.id)
        ).all()
    assert drafts[in_hours].template == "risk"
    reply = drafts[overnight]
    assert reply.template == "risk_out_of_hours"
    # Saturday 23:30 in London: back on Monday at nine, and the crisis lines are all there.
    assert "Our team will be back on Monday at 9am." in reply.text
    assert "116 123" in reply.text and "85258" in reply.text and "999" in reply.text
    assert reply.text.startswith("Hi Jo,")
    assert ordered == [overnight, in_hours]
    assert any(a.out_of_hours for a in stack.rows(Alert, Alert.item_id == overnight))
    assert stack.rows(AuditEntry, AuditEntry.action == "draft.out_of_hours")


def test_the_inbox_keeps_the_safeguarding_wall(stack: AlertStack) -> None:
    stack.comment(RISK_TEXT)
    stack.comment(PII_TEXT, comment="7002")
    moderator = stack.client_as(stack.user("mod", "moderator"))
    page = moderator.get("/alerts/").text
    assert "Gives a phone number" in page and "suicide" not in page
    assert "1 safeguarding escalation open" in page
    assert re.search(r'aria-label="1 not yet acknowledged"', page)  # the nav link's count
    (pii_alert,) = stack.rows(Alert, Alert.kind == "finding")
    (risk_alert,) = stack.rows(Alert, Alert.kind == "escalation")
    assert moderator.post(f"/alerts/{risk_alert.id}/acknowledge").status_code == 404
    assert moderator.post(f"/alerts/{pii_alert.id}/acknowledge").status_code == 302
    (pii_alert,) = stack.rows(Alert, Alert.kind == "finding")
    assert pii_alert.acknowledged_at is not None
    assert "not yet acknowledged" not in moderator.get("/alerts/").text
    for html in (
        page,
        stack.client_as(stack.user("lead", "safeguarding_lead")).get("/alerts/").text,
    ):
        assert_content_free(html)


def test_acknowledge_links_need_a_lead_and_a_valid_unexpired_token(
    stack: AlertStack, smtp: SMTPServer
) -> None:
    stack.comment(RISK_TEXT)
    assert set(stack.send_all()) <= {"sent"}
    token = re.search(r"/alerts/ack\?t=([\w-]+)", smtp.wait_for(1)[0].body).group(1)
    assert stack.app.test_client().get(f"/alerts/ack?t={token}").status_code == 302  # sign in
    admin = stack.client_as(stack.user("boss", "admin"))
    assert admin.post("/alerts/ack", data={"t": token}).status_code == 403
    assert stack.rows(AuditEntry, AuditEntry.action == "escalation.ack_refused")
    lead = stack.client_as(stack.user("lead", "safeguarding_lead"))
    assert lead.get("/alerts/ack?t=" + "x" * 43).status_code == 404
    with Session(stack.engine) as session:
        link = session.exec(select(AckLink)).one()
        link.issued_at -= timedelta(hours=73)
        session.add(link)
        session.commit()
    assert lead.post("/alerts/ack", data={"t": token}).status_code == 410
    assert stack.rows(Escalation)[0].status == "open"
    with Session(stack.engine) as session:
        link = session.exec(select(AckLink)).one()
        link.issued_at += timedelta(hours=73)
        session.add(link)
        session.commit()
    assert lead.post("/alerts/ack", data={"t": token}).status_code == 302
    again = lead.get(f"/alerts/ack?t={token}")
    assert again.status_code == 200 and "already ended" in again.text and "lead" in again.text


def test_the_tick_runs_the_alert_timers(stack: AlertStack) -> None:
    from workers.jobs import tick

    counts = tick()
    assert {"escalations", "digests", "alert_deliveries"} <= counts.keys()
    assert all(v >= 0 for v in counts.values())
