"""The help-request journey in real Chromium, against a live server with CSRF on.

A comment asking for peer support arrives through the signed webhook and opens a case; the
lead approves the private reply that asks for consent; the person's "yes" in Messenger records
it; a match from the (demo) directory is proposed with its reasons; the person and then the
supporter agree; the introduction is made with only the agreed details; the follow-up timer
falls due; and the case is closed with its outcome, which frees the supporter's place.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlmodel import Session, select

from bot.demo.run import seed_directory
from bot.directory.introductions import settle_introductions
from bot.models import Case, utcnow
from bot.models.directory import Introduction, SupportResource
from tests.browser.support import live_with_lead, sign_in
from tests.web.dashboard.support import case_of, comment, message

pytestmark = pytest.mark.browser
ASKING = (
    "I'm a kinship carer for my grandson and would love to talk to other kinship carers who get it"
)
PERSON = "6000000000000777"
SUPPORTER = "K. (example kinship carer)"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    def seed(app: Flask) -> None:
        seed_directory(app.extensions["haven"].engine)

    with live_with_lead(tmp_path_factory.mktemp("journey"), seed) as live:
        yield live


def _state(live: dict[str, Any], case_id: int) -> tuple[Case, list[Introduction], int]:
    with Session(live["app"].extensions["haven"].engine) as db:
        case = db.get(Case, case_id)
        intros = list(db.exec(select(Introduction).where(Introduction.case_id == case_id)))
        load = db.exec(select(SupportResource.load).where(SupportResource.name == SUPPORTER))
        return case, intros, load.one()  # type: ignore[return-value]


def test_from_a_comment_to_consent_match_follow_up_and_closed(
    browser: Any, live: dict[str, Any]
) -> None:
    app = live["app"]
    feeder = app.test_client()
    asked = comment(app, feeder, ASKING, author=PERSON, name="Sam Ellis")
    case_id = case_of(app, asked).id
    page = sign_in(browser, live["url"], live["app"], "lead", live["key"])

    # The private reply asks what support they want, and for consent.
    item = page.locator(f"#item-{asked.id}")
    private = item.locator("form.approve").filter(
        has=page.get_by_label(re.compile("Private reply"))
    )
    private.get_by_role("button", name="Approve and send").click()
    expect(page.get_by_role("status").filter(has_text="Reply approved")).to_be_visible()
    assert app.extensions["haven"].enqueuer.wait_idle()
    assert _state(live, case_id)[0].consent == "asked"

    # Their written "yes" in Messenger records consent on the case.
    message(app, feeder, "Yes please, that would be lovely", sender=PERSON)
    page.goto(f"{live['url']}/cases/{case_id}")
    assert page.locator("#consent-state").inner_text() == "given"

    # Topics, then the ranked, explained proposals from the directory.
    page.get_by_text("Set topics", exact=True).click()
    page.get_by_label("kinship care").check()
    page.get_by_role("button", name="Save topics").click()
    proposal = page.locator("li.proposal").filter(has_text=SUPPORTER)
    assert "need: peer connection → peer supporter; topic: kinship care; 2 places left" in (
        proposal.inner_text()
    )
    full = page.locator("li.proposal").filter(has_text="L. (example foster carer, full)")
    assert full.count() == 0 or "full: not offered" in full.inner_text()
    # Best first: the peer supporter; a service sharing only the topic comes after it.
    ranked = page.locator("li.proposal").all_inner_texts()
    assert SUPPORTER in ranked[0]
    law = next(text for text in ranked if "family law" in text)
    assert "topic: kinship care; no set limit" in law and "need:" not in law
    proposal.get_by_role("button", name=re.compile("Propose")).click()

    # The person agreed to this introduction and to what may be shared...
    intro = page.locator("article.introduction").filter(has_text=SUPPORTER)
    assert intro.get_by_label("First name or initials to share").input_value() == "S.E."
    intro.get_by_label("general area", exact=True).check()
    intro.get_by_label("General area to share").fill("East Suffolk")
    intro.get_by_role("button", name="Record: person agreed").click()
    expect(page.get_by_role("status").filter(has_text="the person agreed")).to_be_visible()
    # ...then the supporter, reached by the staff-only route, takes name and topic only.
    intro = page.locator("article.introduction").filter(has_text=SUPPORTER)
    assert "Reach them: example: email via the peer support coordinator" in intro.inner_text()
    intro.get_by_label(re.compile("general area: East Suffolk")).uncheck()
    intro.get_by_role("button", name="Record: supporter agreed").click()
    intro = page.locator("article.introduction").filter(has_text=SUPPORTER)
    expected = (
        "We would like to introduce someone who would welcome your support.\n"
        "Name: S.E.\nTopic: kinship care\n"
        "Please reply to us and we will arrange a private first contact."
    )
    assert intro.locator("pre.shared-text").inner_text() == expected
    intro.get_by_role("button", name="Make the introduction").click()
    expect(page.get_by_role("status").filter(has_text="Introduced.")).to_be_visible()
    assert "matched" in page.get_by_role("heading", level=1).inner_text()
    case, intros, load = _state(live, case_id)
    assert (case.status, intros[0].status, intros[0].shared_text, load) == (
        "matched",
        "introduced",
        expected,
        1,
    )

    # The follow-up timer (the tick) sets a check-in after the match; days later it falls due.
    from workers.follow_up import run_follow_ups

    config = app.extensions["haven"].settings.config
    assert run_follow_ups(app.extensions["haven"].engine, config)["follow_ups_scheduled"] == 1
    later = utcnow() + timedelta(days=config.cases.follow_up_days, hours=1)
    assert (
        run_follow_ups(app.extensions["haven"].engine, config, now=later)["follow_ups_reminded"]
        == 1
    )
    page.reload()
    assert "follow-up due" in page.get_by_role("heading", level=1).inner_text()

    # Closed with its outcome and reason; the tick then ends the introduction, freeing the place.
    page.get_by_text("Record the outcome and close", exact=True).click()
    # By id: the consent panel (helper 8C's) owns these labels' wording.
    page.locator("#close-outcome").select_option("matched with support")
    page.locator("#close-reason").fill("SE says the chats with K. are helping")
    page.get_by_role("button", name="Close the case").click()
    assert "closed" in page.get_by_role("heading", level=1).inner_text()
    # Closing the case ends the introduction and frees the place at once: the tick finds
    # nothing left to settle.
    assert settle_introductions(app.extensions["haven"].engine) == 0
    case, intros, load = _state(live, case_id)
    assert (case.status, case.outcome, intros[0].status, load) == (
        "closed",
        "matched with support",
        "closed",
        0,
    )
    page.reload()
    assert "case closed" in page.locator("article.introduction").inner_text()
    page.close()
