"""The safeguarding lead works a case in real Chromium, against a live server with CSRF on.

Someone connected with a partner agency writes that they want to end their life. The lead goes
from the alerts inbox to the case, which opens with the safeguarding record: the concern in
the person's own words first. The lead adds an action, a decision with its reason, tells the
partner agency (the task policy 004 gives them, with a content-free draft) and records how,
records the outcome, signs the record off and prepares a printable copy for the police. A
moderator is refused all of it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlmodel import Session, select

from bot.app import create_app
from bot.models import AuditEntry, utcnow
from bot.models.alerts import Alert
from bot.models.record import PartnerTask
from bot.tasks import LocalEnqueuer
from tests.browser.support import served, sign_in
from tests.helpers import make_settings
from tests.web.dashboard.support import add_user, case_of, comment

pytestmark = pytest.mark.browser
WORDS = "I've decided tonight is the night, I can't keep going, sorry everyone"
PERSON = "6000000000000555"
PARTNER = "Northshire Adoption Support"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    partner = {"name": PARTNER, "email": ["duty@partner.example.org"], "author_ids": [PERSON]}
    settings = make_settings(
        tmp_path_factory.mktemp("record"), config={"alerts": {"partners": [partner]}}
    )
    queue = LocalEnqueuer([0, 0, 0])
    app: Flask = create_app(settings, enqueuer=queue)
    key = add_user(app, "lead", "safeguarding_lead")
    add_user(app, "mod", "moderator")
    try:
        with served(app) as url:
            yield {"url": url, "app": app, "key": key}
    finally:
        queue.stop()


def _rows(live: dict[str, Any], model: type, *where: Any) -> list[Any]:
    with Session(live["app"].extensions["haven"].engine) as db:
        return list(db.exec(select(model).where(*where)).all())


def _part(page: Any, heading: str) -> Any:
    """One part of the record, by its heading."""
    return page.locator("section.record-part", has=page.get_by_role("heading", name=heading))


def _add(page: Any, summary: str, fields: dict[str, str], button: str) -> None:
    page.locator("summary").get_by_text(summary, exact=True).click()
    form = page.locator("details[open] form")
    for label, value in fields.items():
        field = form.get_by_label(label, exact=True)
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(label=value)
        else:
            field.fill(value)
    # The form posts and comes back to the record: read the page only once it has loaded.
    with page.expect_navigation():
        form.get_by_role("button", name=button).click()


def _said(page: Any, words: str) -> bool:
    """The page's message (role=status) says `words`, waiting for it as a person would."""
    page.get_by_role("status").filter(has_text=words).wait_for(state="visible", timeout=10_000)
    return True


def test_the_lead_works_a_case_from_the_alert_to_a_signed_off_printed_record(
    browser: Any, live: dict[str, Any]
) -> None:
    app, url = live["app"], live["url"]
    case_id = case_of(app, comment(app, app.test_client(), WORDS, author=PERSON,
                                   name="Alex Morgan")).id  # fmt: skip
    page = sign_in(browser, url, app, "lead", live["key"])

    # The alert: a category and a case number, never the words; the lead follows it.
    page.get_by_role("link", name=re.compile("^Alerts")).click()
    task_alert = page.locator("tr", has_text="partner task")
    assert "Possible suicide risk" in task_alert.inner_text() and WORDS[:20] not in page.content()
    task_alert.get_by_role("link", name=f"#{case_id}").click()
    page.wait_for_url(f"{url}/cases/{case_id}")

    # The record comes first, and opens with the concern: her words, when, who raised it.
    record = page.locator("section.record")
    expect(record.get_by_role("heading", name="Safeguarding record")).to_be_visible()
    concern = record.locator("section.concern")
    assert concern.locator("blockquote").inner_text() == WORDS
    assert "Haven, which read it as risk of suicide" in concern.inner_text()
    assert (
        "When it happened" in concern.inner_text()
        and "When it was recorded" in concern.inner_text()
    )
    # Only the paging banner ("I'm dealing with this", while nobody has) comes before it.
    first = page.locator("main h2:not(#escalation-title)").first.inner_text()
    assert first == "Safeguarding record"
    assert "Closed on a safeguarding case" in page.locator("section.matches").inner_text()

    # An action (a fact), then a decision with its reason (an opinion).
    _add(page, "Record an action", {"What was done": "Rang her back; she agreed to a safety plan",
                                    "Who was told (if anyone)": "her GP surgery, duty doctor"},
         "Add an action")  # fmt: skip
    assert _said(page, "Added to the record: the action.")
    actions = _part(page, "Actions")
    assert "Rang her back; she agreed to a safety plan" in actions.inner_text()
    assert "fact" in actions.locator(".basis").first.inner_text()
    assert "Told: her GP surgery, duty doctor" in actions.inner_text()
    _add(page, "Record a decision and its reason", {
        "The decision": "Not refer on",
        "What was decided": "No referral to adult social care for now",
        "Why (the reason, including for not referring on)":
            "She is safe with her sister tonight and sees her GP in the morning",
    }, "Add a decision and its reason")  # fmt: skip
    text = _part(page, "Decisions and their reasons").inner_text()
    assert "Not refer on" in text and "opinion" in text
    assert "Why: She is safe with her sister tonight and sees her GP in the morning" in text

    # The partner agency: a task with a draft that names the case, not the person.
    task = page.locator("article.partner-task", has_text=PARTNER)
    assert "to tell today" in task.inner_text()
    draft = task.locator("pre.partner-draft").inner_text()
    assert f"reference case {case_id}" in draft and "risk of suicide" in draft
    assert "Alex" not in draft and WORDS[:20] not in draft
    task.get_by_label(f"Who at {PARTNER} was told").fill("duty manager, R.K.")
    task.get_by_label("How").select_option(label="by phone")
    task.get_by_label("Yes").check()
    task.get_by_label("When it was confirmed in writing (if it was)").fill(
        utcnow().strftime("%Y-%m-%dT%H:%M")  # within the test's day, whatever its timezone
    )
    with page.expect_navigation():
        task.get_by_role("button", name=f"Record: {PARTNER} told").click()
    assert _said(page, f"{PARTNER} told")
    task = page.locator("article.partner-task", has_text=PARTNER)
    assert "told" in task.locator(".status").inner_text()
    assert "Told by lead to duty manager, R.K." in task.inner_text()
    assert "Confirmed in writing: yes" in task.inner_text()
    assert f"Told {PARTNER} by phone" in actions.inner_text()
    (done,) = _rows(live, PartnerTask)
    assert done.status == "told" and done.confirmed_at is not None
    assert _rows(live, Alert, Alert.id == done.alert_id)[0].acknowledged_at is not None

    # The outcome, then the lead's sign-off; anything later is an addendum.
    _add(page, "Record the outcome of the concern",
         {"The outcome": "Safety plan in place; GP seeing her"},
         "Add the outcome of the concern")  # fmt: skip
    page.locator("summary", has_text="Sign off the record").click()
    page.get_by_label("Closing summary (optional)").fill("Concern handled; no further action")
    page.get_by_label("I have read the whole record and it is complete").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Sign off the record").click()
    assert _said(page, "The record is signed off")
    sign_off = _part(page, "Sign-off").inner_text()
    assert "Signed off by lead on" in sign_off and "Concern handled" in sign_off
    expect(page.get_by_role("heading", name="Add an addendum")).to_be_visible()
    assert page.locator("summary", has_text="Sign off the record").count() == 0

    # A printable copy for the police: the whole record, on paper, and in the audit log.
    page.get_by_label("Who is it for?").select_option(label="the police")
    page.get_by_role("button", name="Prepare a printable copy").click()
    page.wait_for_url(re.compile(r"/record/print\?for=police$"))
    copy = page.locator("main").inner_text()
    for expected in ("Safeguarding record", "Prepared for\nthe police", WORDS,
                     "Not refer on", f"Told {PARTNER} by phone", "Signed off by lead on",
                     "She is safe with her sister tonight"):  # fmt: skip
        assert expected in copy, expected
    assert page.locator("nav").count() == 0
    page.emulate_media(media="print")
    assert not page.locator(".no-print").is_visible()
    assert page.pdf(format="A4").startswith(b"%PDF")
    (exported,) = _rows(live, AuditEntry, AuditEntry.action == "record.exported")
    assert exported.detail == {"for": "police"} and exported.subject_id == str(case_id)
    page.close()

    # A moderator learns the case exists, and nothing more; each refusal is on the record.
    moderator = sign_in(browser, url, app, "mod")
    moderator.goto(f"{url}/cases/{case_id}")
    expect(moderator.get_by_text("your visit has been recorded")).to_be_visible()
    assert (
        "Safeguarding record" not in moderator.content() and WORDS[:20] not in moderator.content()
    )
    refused = moderator.goto(f"{url}/cases/{case_id}/record/print?for=police")
    assert refused is not None and refused.status == 403
    assert WORDS[:20] not in moderator.content()
    (audited,) = _rows(live, AuditEntry, AuditEntry.action == "record.refused")
    assert audited.subject_id == str(case_id)
    moderator.close()
