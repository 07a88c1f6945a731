"""The six flows of DESIGN.md, each from a signed webhook to its outcome, on the embedded default
(SQLite + the in-process queue) and in production (PostgreSQL + Redis + a real `haven worker`).

Meta is the local stand-in (tests/support/meta_standin.py) and alerts go to a real SMTP server, so
each test checks what a safeguarding lead would: what was drafted, sent, hidden or left alone, the
case and its consent, who was alerted and that the alert carries no content.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.cases.consent import BOUNDARY_NOTE, OVERRIDE_REASON
from bot.cases.wording import phrase
from bot.db import session_scope
from bot.directory.introductions import introduce, person_agreed, propose, supporter_agreed
from bot.directory.matching import proposals_for_case
from bot.models import Case, Finding, Item, User, utcnow
from bot.models.alerts import Alert, Escalation
from bot.models.consent import CaseFollowUp, CaseNote, ConsentRecord
from bot.models.dashboard import CaseEvent
from bot.models.directory import Introduction, SupportResource
from rules.consent import CONSENT_YES
from tests.directory.support import add_resource
from tests.flows.support import charity_config, mails_to
from tests.notify.conftest import assert_content_free
from tests.support.meta_standin import MetaStandIn
from tests.support.servers import Mail, SMTPServer
from tests.support.stack import MODES, HavenStack, production_services, running_stack
from workers.follow_up import run_follow_ups

ASKING = (
    "I'm a kinship carer for my grandson and would love to talk to other kinship carers who get it"
)
DETAILS = "So proud! Call me on 07700 900123, she goes to St Mary's Primary School"
RISK = "I can't do this anymore, everyone would be better off without me"
LEGAL = "Can the council legally stop contact with the birth family? What are my rights?"
OFFENSIVE = "What a load of rubbish, you lot are pathetic"
HARASSING = ("Shut up, nobody wants you here you freak", "Get lost, nobody wants you in this group")
SPAM = "Make £500 a day from home!!! DM me now, click here bit.ly/abc"
YES = "Yes please, that would be lovely"
COMPLAINT = "Your staff never called me back after three weeks, I want to make a formal complaint"
WRITTEN = (ASKING, DETAILS, RISK, LEGAL, OFFENSIVE, *HARASSING, SPAM, YES, COMPLAINT)
SUPPORTER = "K. (kinship carer, peer supporter)"


@pytest.fixture(params=MODES)
def stack(
    request: pytest.FixtureRequest, tmp_path: Path, meta: MetaStandIn, smtp: SMTPServer
) -> Iterator[HavenStack]:
    with running_stack(
        request.param,
        tmp_path,
        charity_config(tmp_path, smtp.port),
        services=production_services(request),
        secrets_in_log=WRITTEN,
        META_GRAPH_URL=meta.url,
    ) as running:
        yield running


def _case(stack: HavenStack, item: Item) -> Case:
    assert item.case_id is not None, "no case was opened"
    [case] = stack.rows(Case, Case.id == item.case_id)
    return case


def _alerts(stack: HavenStack, item: Item) -> list[Alert]:
    return stack.rows(Alert, Alert.item_id == item.id)


def _said(mail: Mail) -> str:
    """What an alert email says: subject and body (its random Message-ID is no content)."""
    return f"{mail.subject}\n{mail.body}"


def test_1_help_request_consent_match_follow_up_closed(
    stack: HavenStack, meta: MetaStandIn
) -> None:
    item = stack.comment(ASKING, author="6000000000000101", name="Sam Ellis")
    case = _case(stack, item)
    assert (case.case_type, case.status, case.consent) == ("support", "new", "not_asked")
    drafts = stack.drafts(item)
    assert {d.template for d in drafts.values()} == {"help_request"}
    # The public acknowledgement names nothing the person shared, nor their surname.
    for personal in ("kinship", "grandson", "carer", "Ellis"):
        assert personal not in drafts["public"].text
    assert "private message" in drafts["public"].text
    assert "written permission" in drafts["private"].text
    lead = stack.staff("lead", "safeguarding_lead")

    stack.approve(lead, drafts["private"])
    [sent] = meta.private_replies(item.external_id)  # once, to this comment
    assert CONSENT_YES in [q["payload"] for q in sent.body["message"]["quick_replies"]]
    case = stack.wait_for(
        lambda s: s.get(Case, case.id).consent == "asked" and s.get(Case, case.id)
    )
    assert case.status == "awaiting_consent"
    assert drafts["public"].status == "draft"  # nothing public went without its own approval

    # Their written "yes" in Messenger, from the id Meta gave for the private reply.
    answer = stack.message(YES, sender=meta.messaging_id)
    assert answer.case_id == case.id
    case = _case(stack, item)
    assert case.consent == "given"
    history = stack.rows(ConsentRecord, ConsentRecord.case_id == case.id)
    assert [(r.state, r.source) for r in sorted(history, key=lambda r: r.id)] == [
        ("asked", "private_reply"),
        ("given", "text"),
    ]

    # A match from the directory, proposed with its reasons; both sides agree; introduced.
    resource_id = add_resource(stack.engine, name=SUPPORTER, topics=["kinship_care"], capacity=2)
    with Session(stack.engine) as db:
        lead_id = db.exec(select(User.id).where(User.username == "lead")).one()
        best = proposals_for_case(db, db.get(Case, case.id))[0]  # type: ignore[arg-type]
    assert (best.candidate.id, best.offered) == (resource_id, True)
    assert "peer supporter" in best.explanation
    with session_scope(stack.engine) as db:
        intro_id = propose(
            db, case.id, resource_id, actor_id=lead_id, explanation=best.explanation
        ).id
    with session_scope(stack.engine) as db:
        shares = {"name": "S.E.", "topic": "kinship_care", "area": "East Suffolk"}
        person_agreed(
            db, intro_id, shares, actor_id=lead_id, ruleset=stack.app.extensions["haven"].ruleset
        )
    with session_scope(stack.engine) as db:
        supporter_agreed(db, intro_id, ["name", "topic"], actor_id=lead_id)
    with session_scope(stack.engine) as db:
        introduce(db, intro_id, actor_id=lead_id)
    [intro] = stack.rows(Introduction, Introduction.id == intro_id)
    [supporter] = stack.rows(SupportResource, SupportResource.id == resource_id)
    assert (intro.status, _case(stack, item).status, supporter.load) == ("introduced", "matched", 1)
    # Only what both agreed to reaches the supporter: no surname, no area, nothing written.
    assert "S.E." in intro.shared_text
    for withheld in ("Ellis", "Sam", "East Suffolk", "grandson"):
        assert withheld not in intro.shared_text

    # The follow-up timer (the tick's) checks in days after the match.
    config = stack.config
    assert run_follow_ups(stack.engine, config)["follow_ups_scheduled"] == 1
    later = utcnow() + timedelta(days=config.cases.follow_up_days, hours=1)
    assert run_follow_ups(stack.engine, config, now=later)["follow_ups_reminded"] == 1
    assert _case(stack, item).status == "follow_up_due"
    [reminder] = stack.rows(Alert, Alert.case_id == case.id, Alert.kind == "follow_up")
    assert reminder.roles == ["moderator"]

    # The minimal case note (initials, date, type of support), then closed with its outcome.
    note = {"initials": "SE", "noted_on": utcnow().date().isoformat(),
            "support_type": "peer connection"}  # fmt: skip
    assert lead.post(f"/cases/{case.id}/case-notes", data=note).status_code == 302
    [kept] = stack.rows(CaseNote, CaseNote.case_id == case.id)
    assert (kept.initials, kept.support_type, kept.text) == ("SE", "peer connection", None)
    closing = {"outcome": "matched with support", "reason": "SE is settled with K."}
    assert lead.post(f"/cases/{case.id}/close", data=closing).status_code == 302
    case = _case(stack, item)
    [intro] = stack.rows(Introduction, Introduction.id == intro_id)
    [supporter] = stack.rows(SupportResource, SupportResource.id == resource_id)
    [follow_up] = stack.rows(CaseFollowUp, CaseFollowUp.case_id == case.id)
    # The supporter's place is free again, and nobody is reminded about a closed case.
    assert (case.status, case.outcome, intro.status, supporter.load) == (
        "closed",
        "matched with support",
        "closed",
        0,
    )
    assert follow_up.ended_at is not None and follow_up.reason == "case closed"


def test_2_personal_details_hidden_explained_and_alerted(
    stack: HavenStack, meta: MetaStandIn, smtp: SMTPServer
) -> None:
    item = stack.comment(DETAILS, author="6000000000000102")
    categories = {f.category for f in stack.rows(Finding, Finding.item_id == item.id)}
    assert {"pii.phone", "pii.school"} <= categories
    # Hidden at Meta (still visible to the author and their friends), by the worker, once.
    stack.wait_for(lambda s: item.external_id in meta.hides())
    [hide] = stack.actions(item)
    assert (hide.kind, hide.requested_by) == ("hide", "system")
    stack.wait_for(lambda s: s.get(type(hide), hide.id).status == "done")
    assert meta.hides() == [item.external_id]
    # A private message explaining why, waiting for approval; nothing in public.
    drafts = stack.drafts(item)
    assert set(drafts) == {"private"} and drafts["private"].template == "pii"
    assert "hidden your recent comment" in drafts["private"].text
    assert "personal details" in drafts["private"].text
    assert "07700" not in drafts["private"].text and "St Mary" not in drafts["private"].text
    # The moderators hear of it: a category and a link, never what was written.
    [alert] = _alerts(stack, item)
    assert (alert.kind, alert.roles) == ("finding", ["moderator"])
    assert alert.category in {"pii.phone", "pii.school"}
    [mail] = mails_to(smtp, "moderator", phrase(alert.category))
    assert alert.category not in _said(mail), "the words, not the code"
    assert "https://haven.example.org/" in mail.body
    assert_content_free(_said(mail), DETAILS, item.author_id, "07700", "St Mary", "Primary School")


def test_3_risk_escalates_without_consent_and_nothing_public(
    stack: HavenStack, meta: MetaStandIn, smtp: SMTPServer
) -> None:
    item = stack.comment(RISK, author="6000000000000103")
    case = _case(stack, item)
    assert (case.case_type, case.priority, case.status) == ("safeguarding", "urgent", "escalated")
    # A private reply with crisis lines, for a person to approve; no public reply at all.
    drafts = stack.drafts(item)
    assert set(drafts) == {"private"} and drafts["private"].template.startswith("risk")
    assert "116 123" in drafts["private"].text and "999" in drafts["private"].text
    # Nothing hidden, nothing deleted: the comment stays as it is for the lead to decide.
    assert stack.actions(item) == [] and meta.posts() == []
    assert stack.rows(Item, Item.id == item.id)[0].removed_at is None
    # The safeguarding override, on the record: escalated without asking consent.
    [override] = stack.rows(ConsentRecord, ConsentRecord.case_id == case.id)
    assert (override.state, override.reason) == ("safeguarding_override", OVERRIDE_REASON)
    assert case.consent == "not_asked"
    notes = [e.text for e in stack.rows(CaseEvent, CaseEvent.case_id == case.id)]
    assert OVERRIDE_REASON in notes
    # The lead is paged at once: an open escalation and an email with the case link only.
    [escalation] = stack.rows(Escalation, Escalation.case_id == case.id)
    assert (escalation.status, escalation.category) == ("open", "risk.suicide")
    [alert] = stack.rows(Alert, Alert.case_id == case.id, Alert.kind == "escalation")
    assert "safeguarding_lead" in alert.roles
    [mail] = mails_to(smtp, "safeguarding_lead", f"safeguarding escalation, case {case.id}")
    assert f"https://haven.example.org/cases/{case.id}" in mail.body
    assert_content_free(_said(mail), RISK, item.author_id, "better off")
    # Nobody outside the safeguarding roles is told what it is about.
    assert not [a for a in _alerts(stack, item) if "moderator" in a.roles]


def test_4_out_of_remit_gets_a_boundary_reply_on_record(
    stack: HavenStack, meta: MetaStandIn
) -> None:
    item = stack.comment(LEGAL, author="6000000000000104")
    case = _case(stack, item)
    assert case.case_type == "boundary"
    drafts = stack.drafts(item)
    assert {d.template for d in drafts.values()} == {"boundary"}
    assert "not able to give legal or medical advice" in drafts["private"].text
    assert "Citizens Advice" in drafts["private"].text
    assert "council" not in drafts["public"].text and "rights" not in drafts["public"].text
    stack.approve(stack.staff("admin", "admin"), drafts["private"])
    assert len(meta.private_replies(item.external_id)) == 1
    notes = stack.wait_for(
        lambda s: [e.text for e in s.exec(select(CaseEvent).where(CaseEvent.case_id == case.id))]
    )
    assert notes == [BOUNDARY_NOTE]


def test_5_abuse_and_spam_hidden_or_queued_and_repeat_authors_tracked(
    stack: HavenStack, meta: MetaStandIn, smtp: SMTPServer
) -> None:
    author = "6000000000000105"
    # Swearing at us: queued for review (this charity's config), the moderators told.
    rude = stack.comment(OFFENSIVE, author=author)
    assert {f.category for f in stack.rows(Finding, Finding.item_id == rude.id)} == {
        "abusive.offensive"
    }
    assert stack.actions(rude) == [] and rude.case_id is None
    [queued] = _alerts(stack, rude)
    assert (queued.category, queued.roles) == ("abusive.offensive", ["moderator"])
    # Harassment, twice from the same person: each hidden and alerted, one case for both.
    first, second = (stack.comment(text, author=author) for text in HARASSING)
    stack.wait_for(lambda s: {first.external_id, second.external_id} <= set(meta.hides()))
    case = _case(stack, first)
    assert (case.case_type, second.case_id) == ("moderation", case.id)
    assert {stack.drafts(first)["private"].template} == {"abusive"}
    assert "public" not in stack.drafts(first)
    for item in (first, second):
        [alert] = _alerts(stack, item)
        assert (alert.category, alert.roles, alert.case_id) == (
            "abusive.harassment",
            ["moderator"],
            case.id,
        )
    mails = mails_to(smtp, "moderator", f"Harassing someone (high), case {case.id}")
    for mail in mails:
        assert_content_free(_said(mail), *HARASSING, OFFENSIVE, author, "freak")
    # The person's page keeps their record together: three items and the case.
    moderator = stack.staff("mod", "moderator")
    page = moderator.get(f"/people/facebook/{author}").get_data(as_text=True)
    assert "<dt>Items</dt><dd>3</dd>" in page and f"Case #{case.id}" in page
    # Spam is hidden without a reply or a case.
    spam = stack.comment(SPAM, author="6000000000000205")
    stack.wait_for(lambda s: spam.external_id in meta.hides())
    assert stack.drafts(spam) == {} and spam.case_id is None


def test_6_complaint_taken_private_and_routed(
    stack: HavenStack, meta: MetaStandIn, smtp: SMTPServer
) -> None:
    item = stack.comment(COMPLAINT, author="6000000000000106")
    case = _case(stack, item)
    assert (case.case_type, case.status) == ("complaint", "new")
    drafts = stack.drafts(item)
    assert {d.template for d in drafts.values()} == {"complaint"}
    assert "complaints procedure" in drafts["private"].text
    assert "private message" in drafts["public"].text and "staff" not in drafts["public"].text
    # Routed to whoever handles complaints: the admins, with a link and no content.
    [alert] = _alerts(stack, item)
    assert (alert.category, alert.roles, alert.case_id) == ("complaint", ["admin"], case.id)
    [mail] = mails_to(smtp, "admin", f"A complaint about us (medium), case {case.id}")
    assert f"https://haven.example.org/cases/{case.id}" in mail.body
    assert_content_free(_said(mail), COMPLAINT, item.author_id, "three weeks")
    # Taken to private: the private reply goes to the stand-in, once.
    stack.approve(stack.staff("admin", "admin"), drafts["private"])
    [sent] = meta.private_replies(item.external_id)
    assert sent.body["message"]["text"] == drafts["private"].text
    assert "quick_replies" not in sent.body["message"]  # no consent question here
