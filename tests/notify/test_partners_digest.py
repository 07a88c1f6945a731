"""Partner agencies told the same day with a written summary (policy 004), and the weekly
digest for whoever is responsible for the page's content (policy 001): counts, never content."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.config.hours import WEEKDAYS
from bot.models.alerts import Alert, Escalation
from bot.models.record import PartnerTask
from bot.notify.digest import raise_partner_summaries, raise_weekly_digest
from bot.notify.escalation import acknowledge
from tests.notify.conftest import (
    AUTHOR_ID,
    OTHER_AUTHOR_ID,
    PII_TEXT,
    RISK_TEXT,
    SLACK_ENV,
    alerts_config,
    assert_content_free,
    make_stack,
)
from tests.support.servers import SMTPServer, WebhookReceiver

PARTNER = "Northshire Adoption Support"
LONDON = ZoneInfo("Europe/London")


def test_by_default_the_lead_gets_a_task_to_tell_the_partner_and_haven_sends_them_nothing(
    tmp_path: Path, smtp: SMTPServer, hook: WebhookReceiver
) -> None:
    partner = {"name": PARTNER, "email": ["duty@partner.example.org"], "author_ids": [AUTHOR_ID]}
    stack, _queue = make_stack(tmp_path, alerts_config(smtp.port, hook.url, partners=[partner]))
    try:
        stack.comment(RISK_TEXT)  # one of the partner's people
        stack.comment(RISK_TEXT, comment="7002")  # more from them: still one task
        stack.comment(RISK_TEXT, comment="7003", author=OTHER_AUTHOR_ID)  # not theirs
        assert stack.rows(Alert, Alert.kind == "partner") == []
        (task,) = stack.rows(PartnerTask)
        assert (task.partner, task.status, task.sent_automatically) == (PARTNER, "open", False)
        (told,) = stack.rows(Alert, Alert.kind == "partner_task")
        assert told.case_id == task.case_id and task.alert_id == told.id
        assert set(told.roles) == {"safeguarding_lead", "safeguarding_deputy"}
        assert set(stack.send_all()) <= {"sent"}
        assert not [m for m in smtp.mails if "duty@partner.example.org" in m.rcpt_tos]
        tasks = [m for m in smtp.mails if "tell " in m.subject]
        assert sorted(r for m in tasks for r in m.rcpt_tos) == [
            "deputy@example.org",
            "lead@example.org",
        ]
        to_lead = tasks[0]
        assert f"tell {PARTNER} today, case {task.case_id}" in to_lead.subject
        assert "confirmed in writing" in to_lead.body
        assert_content_free(to_lead.everything)
        # Nothing automatic to confirm in writing: that is the lead's, on the record.
        evening = datetime(2026, 3, 11, 18, 0, tzinfo=UTC)
        assert raise_partner_summaries(stack.engine, stack.config, now=evening) == 0
    finally:
        stack.engine.dispose()


def test_where_turned_on_haven_tells_the_key_contact_then_confirms_in_writing(
    tmp_path: Path, smtp: SMTPServer, hook: WebhookReceiver
) -> None:
    partner = {
        "name": PARTNER,
        "email": ["duty@partner.example.org"],
        "author_ids": [int(AUTHOR_ID)],
        "summary_at": "16:00",
        "send_automatically": True,
    }
    stack, _queue = make_stack(tmp_path, alerts_config(smtp.port, hook.url, partners=[partner]))
    try:
        stack.comment(RISK_TEXT)  # one of the partner's people (by their Meta id)
        stack.comment(RISK_TEXT, comment="7002", author=OTHER_AUTHOR_ID)  # not theirs
        (told,) = stack.rows(Alert, Alert.kind == "partner")
        assert told.partner == PARTNER and told.category == "risk.suicide"
        # The lead still tells them the same day, as the notice says: the task is there too.
        (task,) = stack.rows(PartnerTask)
        assert task.case_id == told.case_id and task.sent_automatically
        assert set(stack.send_all()) <= {"sent"}
        to_partner = [m for m in smtp.mails if m.rcpt_tos == ["duty@partner.example.org"]]
        assert len(to_partner) == 1
        assert PARTNER in to_partner[0].subject and f"case {told.case_id}" in to_partner[0].body
        assert_content_free(to_partner[0].everything)

        # The lead takes it on; the written summary waits for 16:00 London time, then goes.
        with Session(stack.engine) as session:
            escalation = session.get(Escalation, stack.rows(Escalation)[0].id)
            lead = stack.user("lead", "safeguarding_lead")
            acknowledge(
                session,
                escalation,
                user_id=lead,
                via="inbox",
                now=datetime(2026, 3, 11, 11, 10, tzinfo=UTC),
            )
            session.commit()
        # The test's own day (a Wednesday in March, GMT), whatever day it runs.
        with Session(stack.engine) as session:
            row = session.get(Alert, told.id)
            row.created_at = datetime(2026, 3, 11, 11, 1, tzinfo=UTC)
            session.add(row)
            session.commit()
        before = datetime(2026, 3, 11, 15, 59, tzinfo=UTC)
        assert raise_partner_summaries(stack.engine, stack.config, now=before) == 0
        at_four = datetime(2026, 3, 11, 16, 0, tzinfo=UTC)
        assert raise_partner_summaries(stack.engine, stack.config, now=at_four) == 1
        assert raise_partner_summaries(stack.engine, stack.config, now=at_four) == 0  # once
        (summary,) = stack.rows(Alert, Alert.kind == "partner_summary")
        assert stack.rows(Alert, Alert.id == told.id)[0].summary_alert_id == summary.id
        assert set(stack.send_all()) <= {"sent"}
        written = [m for m in smtp.mails if "written summary" in m.subject]
        assert len(written) == 1 and written[0].rcpt_tos == ["duty@partner.example.org"]
        body = written[0].body
        assert f"case {told.case_id}: Possible suicide risk" in body and "taken on by our" in body
        assert_content_free(written[0].everything)
    finally:
        stack.engine.dispose()


def test_a_partner_run_page_makes_everyone_on_it_theirs(
    tmp_path: Path, smtp: SMTPServer, hook: WebhookReceiver
) -> None:
    from tests.helpers import PAGE_ID

    partner = {
        "name": PARTNER,
        "email": ["duty@partner.example.org"],
        "account_ids": [PAGE_ID],
        "categories": ["risk", "pii.phone"],
        "send_automatically": True,
    }
    stack, _queue = make_stack(tmp_path, alerts_config(smtp.port, hook.url, partners=[partner]))
    try:
        stack.comment(PII_TEXT, author=OTHER_AUTHOR_ID)
        (told,) = stack.rows(Alert, Alert.kind == "partner")
        assert told.category == "pii.phone"
    finally:
        stack.engine.dispose()


def test_the_weekly_digest_counts_without_content_once_a_week(
    tmp_path: Path, smtp: SMTPServer, hook: WebhookReceiver
) -> None:
    # The digest day is two days after the comments arrive, whatever day the test runs.
    day = (datetime.now(LONDON) + timedelta(days=2)).date()
    digest = {
        "email": ["content-lead@example.org"],
        "weekday": WEEKDAYS[day.weekday()],
        "at": "09:00",
    }
    stack, _queue = make_stack(tmp_path, alerts_config(smtp.port, hook.url, digest=digest))
    stack.environ[SLACK_ENV] = hook.url  # the moderators' chat (a receiver that answers 200)
    try:
        stack.comment(RISK_TEXT)
        stack.comment(PII_TEXT, comment="7002", author=OTHER_AUTHOR_ID)
        on_time = datetime.combine(day, time(9, 0), tzinfo=LONDON)
        early = on_time - timedelta(minutes=1)
        assert raise_weekly_digest(stack.engine, stack.config, now=early) == 0
        assert raise_weekly_digest(stack.engine, stack.config, now=on_time) == 1
        assert raise_weekly_digest(stack.engine, stack.config, now=on_time) == 0
        (alert,) = stack.rows(Alert, Alert.kind == "digest")
        assert alert.facts["findings_by_category"]["risk.suicide"] == 1
        assert alert.facts["findings_by_category"]["pii.phone"] == 1
        assert alert.facts["open_cases"] == {"safeguarding": 1}
        assert alert.facts["escalations_late"] == 1  # nobody acknowledged within 10 minutes
        assert set(stack.send_all()) <= {"sent"}
        (mail,) = [m for m in smtp.mails if m.rcpt_tos == ["content-lead@example.org"]]
        assert "weekly digest" in mail.subject and "Possible suicide risk: 1" in mail.body
        assert "escalations not acknowledged in time: 1" in mail.body
        assert_content_free(mail.everything)
    finally:
        stack.engine.dispose()
