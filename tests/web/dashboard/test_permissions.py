"""Every dashboard route for every role, anonymous included, with the expected answer.

This table is the permission model: 200 page, 302 done (or sent to sign in, for anonymous),
403 refused. A route added to the app without a row here fails the coverage test below.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from bot.cases.partners import open_partner_task
from bot.db import session_scope
from bot.directory.introductions import propose
from bot.models import Finding, ReplyDraft, User, utcnow
from bot.models.directory import SupportResource
from bot.models.photos import PhotoConsent
from bot.models.privacy import PrivacyHold
from bot.privacy.holds import place_safeguarding_holds
from tests.web.dashboard.support import HELP, RISK, case_of, comment

WHO = ("anonymous", "moderator", "admin", "safeguarding_lead", "safeguarding_deputy")
ALL = dict.fromkeys(WHO[1:], 200) | {"anonymous": 302}
DONE = dict.fromkeys(WHO, 302)  # done, then back to the page (anonymous: sent to sign in)
APPROVERS_ONLY = DONE | {"moderator": 403}
SAFEGUARDING_ONLY = DONE | {"moderator": 403, "admin": 403}
AUDITORS = ALL | {"moderator": 403}
ADMIN_ONLY = DONE | {"moderator": 403, "safeguarding_lead": 403, "safeguarding_deputy": 403}
NOBODY = dict.fromkeys(WHO[1:], 403) | {"anonymous": 302}
SAFEGUARDING_PAGE = ALL | {"moderator": 403, "admin": 403}
UNCONFIRMED = SAFEGUARDING_ONLY | {"safeguarding_lead": 400, "safeguarding_deputy": 400}
EXTEND_FORM = {"extend-{hold}-review_on": "{later}", "extend-{hold}-reason": "r"}
PERSON_FORM = {"platform": "facebook", "user_id": "6000000000000042"}
NOTE_FORM = {"initials": "JW", "noted_on": "2026-05-01", "support_type": "check-in"}
END_FORM = {"status": "cancelled", "reason": "r"}
DIRECTORY_FORM = {"kind": "group", "name": "G.", "topics": "send", "contact_route": "via staff"}
RECORD_FORM = {"kind": "action", "basis": "fact", "text": "Rang back"}
TOLD_FORM = {"by_whom": "JW", "told_whom": "duty desk", "how": "phone", "confirmed": "no"}
LEADS_SEE = {"safeguarding_lead": 200, "safeguarding_deputy": 200}
NO_RECORD = {"safeguarding_lead": 404, "safeguarding_deputy": 404}
ONCE = {"safeguarding_deputy": 409}
# Not yet complete (409) for the lead; the deputy may not sign off (400, with the reason).
SIGN_OFF = SAFEGUARDING_ONLY | {"safeguarding_lead": 409, "safeguarding_deputy": 400}
NOT_RECORDED = dict.fromkeys(WHO[1:], 400) | {"anonymous": 302}
NOT_FOUND = dict.fromkeys(WHO[1:], 404) | {"anonymous": 302}

# (method, path, form, expected by role); {support}, {sg} and the rest are filled in below.
MATRIX: list[tuple[str, str, dict[str, str], dict[str, int]]] = [
    ("GET", "/", {}, ALL),
    ("GET", "/?view=reviewed&page=2", {}, ALL),
    ("GET", "/cases", {}, ALL),
    ("GET", "/cases?status=all&type=safeguarding&assignee=me&severity=high", {}, ALL),
    ("GET", "/cases/{support}", {}, ALL),
    ("GET", "/cases/{sg}", {}, ALL),  # others see that it exists, and no more
    ("GET", "/people", {}, ALL),
    ("GET", "/people/facebook/{helper}", {}, ALL),
    ("GET", "/response-times?days=7", {}, ALL),
    ("GET", "/check", {}, ALL),
    ("POST", "/check", {"text": "Hello all"}, ALL),
    ("GET", "/rules", {}, ALL),
    ("POST", "/rules/try", {"text": "Hello all"}, ALL),
    ("GET", "/audit?action=case.", {}, AUDITORS),
    ("POST", "/drafts/{support_draft}/approve", {"text": "Thank you"}, APPROVERS_ONLY),
    ("POST", "/drafts/{support_draft}/reject", {}, APPROVERS_ONLY),
    ("POST", "/drafts/{sg_draft}/reject", {}, SAFEGUARDING_ONLY),
    ("POST", "/drafts/{sg_draft}/approve", {"text": "We are here"}, SAFEGUARDING_ONLY),
    ("POST", "/items/{support_item}/hide", {}, DONE),
    ("POST", "/items/{support_item}/unhide", {}, DONE),
    ("POST", "/items/{sg_item}/hide", {}, SAFEGUARDING_ONLY),
    ("POST", "/items/{support_item}/review", {}, DONE),
    ("POST", "/items/{support_item}/delete", {"confirm": "yes"}, ADMIN_ONLY),
    ("POST", "/items/{sg_item}/delete", {"confirm": "yes"}, NOBODY),  # evidence is never deleted
    ("POST", "/items/{sg_item}/review", {}, SAFEGUARDING_ONLY),
    # Weighing a learned finding's words from "why?": whoever may see the finding.
    ("POST", "/findings/{support_finding}/words", {}, DONE),
    ("POST", "/findings/{sg_finding}/words", {}, SAFEGUARDING_ONLY),
    ("POST", "/findings/987654/words", {}, NOT_FOUND),
    ("POST", "/items/{support_item}/case", {"case_type": "support"}, DONE),
    ("POST", "/cases/{support}/notes", {"note": "JW, called back"}, DONE),
    ("POST", "/cases/{sg}/notes", {"note": "JW, called back"}, SAFEGUARDING_ONLY),
    ("POST", "/cases/{support}/assignee", {"assignee": ""}, DONE),
    ("POST", "/cases/{sg}/assignee", {"assignee": ""}, SAFEGUARDING_ONLY),
    ("POST", "/cases/{support}/status", {"status": "follow_up_due", "reason": "r"}, DONE),
    ("POST", "/cases/{sg}/status", {"status": "follow_up_due", "reason": "r"}, SAFEGUARDING_ONLY),
    ("POST", "/cases/{sg}/acknowledge", {}, SAFEGUARDING_ONLY),
    ("POST", "/people/facebook/{helper}/removal", {"reason": "asked to leave"}, DONE),
    # Consent, follow-up, minimal notes and closing (tests/cases).
    ("POST", "/cases/{support}/consent", {"state": "given", "reason": "by phone"}, DONE),
    ("POST", "/cases/{sg}/consent", {"state": "given", "reason": "by phone"}, SAFEGUARDING_ONLY),
    ("POST", "/cases/{support}/follow-up", {"days": "3"}, DONE),
    ("POST", "/cases/{sg}/follow-up", {"days": "3"}, SAFEGUARDING_ONLY),
    ("POST", "/cases/{support}/case-notes", NOTE_FORM, DONE),
    ("POST", "/cases/{sg}/case-notes", NOTE_FORM, SAFEGUARDING_ONLY),
    ("POST", "/cases/{support}/close", {"outcome": "not one", "reason": "r"}, DONE),
    ("POST", "/cases/{sg}/close", {"outcome": "not one", "reason": "r"}, SAFEGUARDING_ONLY),
    # Data protection (tests/privacy): the erase row stops at the confirmation page.
    ("GET", "/privacy", {}, ADMIN_ONLY | {"admin": 200}),
    ("POST", "/privacy/export", PERSON_FORM, ADMIN_ONLY | {"admin": 200}),
    ("POST", "/privacy/erase", PERSON_FORM, ADMIN_ONLY | {"admin": 200}),
    # Support directory and matching (tests/directory).
    ("GET", "/directory", {}, ALL),
    ("GET", "/directory?kind=service&show=all", {}, ALL),
    ("GET", "/directory/new", {}, ADMIN_ONLY | {"admin": 200}),
    ("GET", "/directory/{resource}/edit", {}, ADMIN_ONLY | {"admin": 200}),
    ("POST", "/directory/new", DIRECTORY_FORM, ADMIN_ONLY),
    ("POST", "/directory/{resource}/edit", DIRECTORY_FORM, ADMIN_ONLY),
    ("POST", "/directory/{resource}/active", {"active": "1"}, ADMIN_ONLY),
    ("POST", "/cases/{support}/topics", {"topics": "kinship_care"}, DONE),
    # Closed on a safeguarding case until the lead or deputy opens it (tests/web/dashboard/
    # test_record.py); the first of them to ask opens it here.
    ("POST", "/cases/{sg}/record/support", {}, SAFEGUARDING_ONLY),
    ("POST", "/cases/{sg}/topics", {"topics": "kinship_care"}, SAFEGUARDING_ONLY),
    ("POST", "/cases/{support}/introductions", {"resource_id": "1"}, DONE),
    ("POST", "/cases/{sg}/introductions", {"resource_id": "1"}, SAFEGUARDING_ONLY),
    ("POST", "/introductions/{intro}/person", {"share": "topic", "share_topic": "send"}, DONE),
    ("POST", "/introductions/{intro}/supporter", {"accept": "topic"}, DONE),
    ("POST", "/introductions/{intro}/introduce", {}, DONE),
    ("POST", "/introductions/{sg_intro}/introduce", {}, SAFEGUARDING_ONLY),
    ("POST", "/introductions/{intro}/end", END_FORM, DONE),
    ("POST", "/introductions/{sg_intro}/end", END_FORM, SAFEGUARDING_ONLY),
    # The safeguarding record (tests/cases/test_record.py): the lead and deputy only. Telling a
    # partner is done once: the deputy, after the lead, is told it is done already (409).
    ("POST", "/cases/{sg}/record/entries", RECORD_FORM, SAFEGUARDING_ONLY),
    ("POST", "/cases/{sg}/record/sign-off", {"complete": "yes"}, SIGN_OFF),
    ("GET", "/cases/{sg}/record/print?for=police", {}, SAFEGUARDING_ONLY | LEADS_SEE),
    ("GET", "/cases/{support}/record/print?for=police", {}, SAFEGUARDING_ONLY | NO_RECORD),
    ("POST", "/cases/{sg}/record/partners/{told}/told", TOLD_FORM, SAFEGUARDING_ONLY | ONCE),
    ("POST", "/cases/{sg}/record/partners/{told}/confirmed", {"by_whom": "JW"},
     SAFEGUARDING_ONLY | ONCE),
    ("POST", "/cases/{sg}/record/partners/{not_told}/not-told", {"reason": "r"},
     SAFEGUARDING_ONLY | ONCE),
    # Safeguarding holds (tests/privacy/test_holds_page.py); the release lacks its confirmation.
    ("GET", "/holds", {}, SAFEGUARDING_PAGE),
    ("POST", "/holds/{hold}/extend", EXTEND_FORM, SAFEGUARDING_ONLY),
    ("POST", "/holds/{hold}/release", {"release-{hold}-reason": "r"}, UNCONFIRMED),
    # The photo-consent register (tests/web/dashboard/test_photo_consent.py): every member of
    # staff may record and withdraw; a form without its photo is a 400 that says so.
    ("GET", "/photo-consent", {}, ALL),
    ("POST", "/photo-consent", {"description": "x"}, NOT_RECORDED),
    ("POST", "/photo-consent/{consent}/withdraw", {}, DONE),
    ("POST", "/logout", {}, DONE),
]  # fmt: skip
# Routes that are not the dashboard's, or not behind a sign-in.
ELSEWHERE = ("/static", "/webhooks", "/healthz", "/login", "/alerts", "/a/", "/meta/")


@pytest.fixture
def ids(app: Flask, staff: dict[str, str | None]) -> dict[str, str]:
    client = app.test_client()
    helped = comment(app, client, HELP, author="6000000000000042")
    risky = comment(app, client, RISK, author="6000000000000077")
    with Session(app.extensions["haven"].engine) as db:
        drafts = {d.item_id: d.id for d in db.exec(select(ReplyDraft)).all()}
        # The learned stage's finding where it explained one (a rule's, without the stage).
        findings = {
            item.id: min(
                db.exec(select(Finding).where(Finding.item_id == item.id)).all(),
                key=lambda f: (f.explanation is None, f.id),
            ).id
            for item in (helped, risky)
        }
    support, sg = case_of(app, helped).id, case_of(app, risky).id
    with session_scope(app.extensions["haven"].engine) as db:
        db.add(SupportResource(kind="group", name="G.", topics=["send"], contact_route="x"))
        db.flush()
        intros = [propose(db, case, 1, actor_id=None).id for case in (support, sg)]
        tasks = [open_partner_task(db, sg, name, "risk.suicide", utcnow(), automatic=False).id
                 for name in ("Told partner", "Untold partner")]  # type: ignore[union-attr]  # fmt: skip
        place_safeguarding_holds(db, "system", [sg])  # type: ignore[list-item]
        hold = db.exec(select(PrivacyHold.id).where(PrivacyHold.case_id == sg)).one()
        consent = PhotoConsent(phash="0f0f0f0f0f0f0f0f", description="fair", consented_by="J.W.",
                               consented_for="self", method="email", given_on=utcnow().date(),
                               recorded_by=db.exec(select(User.id)).first())  # fmt: skip
        db.add(consent)
        db.flush()
    return {
        "consent": str(consent.id),
        "told": str(tasks[0]),
        "not_told": str(tasks[1]),
        "resource": "1",
        "intro": str(intros[0]),
        "sg_intro": str(intros[1]),
        "support": str(case_of(app, helped).id),
        "sg": str(case_of(app, risky).id),
        "support_item": str(helped.id),
        "sg_item": str(risky.id),
        "support_draft": str(drafts[helped.id]),
        "sg_draft": str(drafts[risky.id]),
        "support_finding": str(findings[helped.id]),
        "sg_finding": str(findings[risky.id]),
        "helper": "6000000000000042",
        "hold": str(hold),
        "later": (utcnow().date() + timedelta(days=30)).isoformat(),
    }


def test_every_route_answers_every_role_as_the_table_says(
    app: Flask, ids: dict[str, str], as_role: Callable[[str], FlaskClient]
) -> None:
    clients = {role: as_role(role) for role in WHO[1:]} | {"anonymous": app.test_client()}
    wrong = []
    for method, path, form, expected in MATRIX:
        url = path.format(**ids)
        for role in WHO:
            client = clients[role]
            if path == "/logout":
                client = as_role(role) if role != "anonymous" else client
            data = {k.format(**ids): v.format(**ids) for k, v in form.items()}
            response = client.open(url, method=method, data=data)
            if response.status_code != expected[role]:
                wrong.append(f"{role} {method} {url}: {response.status_code}, not {expected[role]}")
            if role == "anonymous" and response.status_code == 302:
                assert "/login" in response.headers["Location"]
    assert wrong == []


def test_the_table_covers_every_dashboard_route(app: Flask) -> None:
    adapter = app.url_map.bind("localhost")
    filler = dict.fromkeys(("support", "sg", "support_item", "sg_item", "support_draft",
                            "sg_draft", "resource", "intro", "sg_intro", "told", "not_told",
                            "hold", "consent", "support_finding", "sg_finding"), "1")  # fmt: skip
    filler["helper"] = "6000"
    covered = {
        (adapter.match(path.format(**filler).split("?")[0], method=method)[0], method)
        for method, path, _, _ in MATRIX
    }
    missing = [
        f"{method} {rule.rule}"
        for rule in app.url_map.iter_rules()
        if not rule.rule.startswith(ELSEWHERE)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        if (rule.endpoint, method) not in covered
    ]
    assert missing == []
