"""The main journeys in real headless Chromium against a live server with CSRF on.

Sign in with a second factor (enrolling one on the way), the queue with its countdowns,
approving an edited reply, a case status change with its reason, a person's removal mark,
checking a draft post, and the safeguarding wall for a moderator. Screenshots of the queue
and a case at desktop and phone widths go to $HAVEN_SCREENSHOTS (default /tmp/haven-shots).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from flask import Flask
from playwright.sync_api import expect

from bot.app import create_app
from bot.tasks import LocalEnqueuer
from tests.browser.support import served
from tests.helpers import make_settings
from tests.web.dashboard.support import (
    HELP,
    PASSWORD,
    PII,
    RISK,
    add_user,
    case_of,
    comment,
    message,
)

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("HAVEN_SCREENSHOTS", "/tmp/haven-shots"))
MARKED = "6000000000000321"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A real server (CSRF on, as in production) with sample traffic and staff."""
    tmp = tmp_path_factory.mktemp("live")
    queue = LocalEnqueuer([0, 0, 0])
    app: Flask = create_app(make_settings(tmp), enqueuer=queue)
    feeder = app.test_client()
    items = {
        "risk": comment(app, feeder, RISK, author="6000000000000101", name="Alex Morgan"),
        "pii": comment(app, feeder, PII, author="6000000000000102", name="Jo Walker",
                       age_seconds=6 * 86400 + 3600),
        "help": comment(app, feeder, HELP, author=MARKED, name="Sam Ellis", age_seconds=3 * 3600),
        "dm": message(app, feeder, HELP, sender="6000000000000104", age_seconds=20 * 3600),
    }  # fmt: skip
    keys = {"lead": add_user(app, "lead", "safeguarding_lead")}
    add_user(app, "mod", "moderator")
    add_user(app, "newadmin", "admin", second_factor=False)
    try:
        with served(app) as url:
            yield {"url": url, "app": app, "items": items, "keys": keys, "feeder": feeder}
    finally:
        queue.stop()


def _password(browser: Any, url: str, name: str, width: int = 1280) -> Any:
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(f"{url}/")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    return page


def _sign_in(browser: Any, live: dict[str, Any], name: str, width: int = 1280) -> Any:
    page = _password(browser, live["url"], name, width)
    if name in live["keys"]:
        page.wait_for_url("**/login/code")
        _fresh_code(live, name)
        page.get_by_label("6-digit code").fill(pyotp.TOTP(live["keys"][name]).now())
        page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{live['url']}/")
    return page


def _fresh_code(live: dict[str, Any], name: str) -> None:
    """Each test signs in anew within seconds; a real person's code is accepted once."""
    from sqlmodel import select

    from bot.db import session_scope
    from bot.models import User

    with session_scope(live["app"].extensions["haven"].engine) as db:
        user = db.exec(select(User).where(User.username == name)).one()
        user.totp_last_step = None
        db.add(user)


def test_a_new_admin_enrols_a_second_factor_and_signs_in(
    browser: Any, live: dict[str, Any]
) -> None:
    page = _password(browser, live["url"], "newadmin")
    page.wait_for_url("**/login/enrol")
    expect(page.get_by_role("heading", name="Set up your second factor")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.get_by_label("6-digit code").fill("000000")
    page.get_by_role("button", name="Turn on and continue").click()
    expect(page.get_by_text("That code is not right")).to_be_visible()
    page.get_by_label("6-digit code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on and continue").click()
    page.wait_for_url(f"{live['url']}/")
    expect(page.get_by_role("heading", name="Queue", exact=True)).to_be_visible()
    page.close()


def test_the_queue_shows_countdowns_and_an_edited_reply_is_approved(
    browser: Any, live: dict[str, Any]
) -> None:
    page = _sign_in(browser, live, "lead")
    pii = page.locator(f"#item-{live['items']['pii'].id}")
    assert re.search(
        r"Private reply:\s+2[23] h \d+ min left", pii.locator(".countdowns").inner_text()
    )
    dm = page.locator(f"#item-{live['items']['dm'].id}")
    assert re.search(r"Messaging window:\s+3 h \d+ min left", dm.inner_text())
    first = page.locator("article.item").first
    assert "Possible suicide risk" in first.locator(".concerns").inner_text()  # most serious first
    helped = page.locator(f"#item-{live['items']['help'].id}")
    private = helped.locator("form.approve").filter(
        has=page.get_by_label(re.compile("Private reply"))
    )
    private.get_by_label(re.compile("Private reply text")).fill(
        "Hi Sam, thank you for telling us. Could we message you privately?"
    )
    private.get_by_role("button", name="Approve and send").click()
    expect(page.get_by_role("status").filter(has_text="Reply approved")).to_be_visible()
    helped = page.locator(f"#item-{live['items']['help'].id}")
    assert "Could we message you privately?" in helped.inner_text()
    assert helped.get_by_label(re.compile("Private reply text")).count() == 0  # approved
    page.close()


def test_a_case_status_change_with_its_reason_lands_in_the_chronology(
    browser: Any, live: dict[str, Any]
) -> None:
    case = case_of(live["app"], live["items"]["help"])
    page = _sign_in(browser, live, "lead")
    page.goto(f"{live['url']}/cases/{case.id}")
    page.get_by_text("Change status", exact=True).click()  # the folded-away form opens
    # Sending the private reply already made it "awaiting consent" (tests/cases).
    page.get_by_label("New status").select_option("matched")
    page.get_by_label("Reason").fill("SE agreed by DM to meet a peer supporter")
    page.get_by_role("button", name="Save status").click()
    expect(page.get_by_role("status").filter(has_text="now matched")).to_be_visible()
    chronology = page.locator("ol.chronology").inner_text()
    assert "→ matched" in chronology
    assert "SE agreed by DM to meet a peer supporter" in chronology
    page.close()


def test_a_person_marked_as_removed_is_flagged_when_they_come_back(
    browser: Any, live: dict[str, Any]
) -> None:
    page = _sign_in(browser, live, "mod")
    page.locator(f"#item-{live['items']['help'].id}").get_by_role("link", name="Sam E.").click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Sam E.")
    page.get_by_label("Why (kept with the mark)").fill("Asked to leave after repeated abuse")
    page.get_by_role("button", name="Mark as removed from the community").click()
    expect(page.get_by_role("note").filter(has_text="Removed from the community")).to_be_visible()
    back = comment(live["app"], live["feeder"], "Hello again everyone!", author=MARKED)
    page.get_by_role("link", name="Queue").click()
    returning = page.locator(f"#item-{back.id}")
    assert "Removed from the community" in returning.inner_text()
    page.close()


def test_checking_a_draft_post_shows_what_would_be_flagged(
    browser: Any, live: dict[str, Any]
) -> None:
    page = _sign_in(browser, live, "mod")
    page.get_by_role("link", name="Check a post").click()
    page.get_by_label("Draft post").fill(
        "Lovely to see Jake at Oakfield Primary, call 07700 900123"
    )
    page.get_by_label("It has a photo or video").check()
    page.get_by_role("button", name="Check").click()
    result = page.locator("#result").inner_text()
    assert "Haven would flag this post" in result and "Gives a phone number" in result
    assert "pii.phone" not in result, "codes stay inside the closed why? disclosure"
    assert page.locator("#result mark").count() >= 2
    page.close()


def test_a_draft_photo_that_carries_its_location_is_called_out(
    browser: Any, live: dict[str, Any], tmp_path: Path
) -> None:
    pytest.importorskip("cv2", reason="the `photos` extra is not installed")
    from PIL import Image

    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (52.0, 3.0, 36.0), 3: "E", 4: (1.0, 9.0, 18.0)}
    photo = tmp_path / "fun-day.jpg"
    Image.new("RGB", (640, 480), (90, 140, 70)).save(photo, "JPEG", exif=exif)
    page = _sign_in(browser, live, "mod")
    page.get_by_role("link", name="Check a post").click()
    page.get_by_label("Its photo").set_input_files(str(photo))
    page.get_by_role("button", name="Check").click()
    shown = page.locator("#photo-result").inner_text()
    assert "This photo carries its location: remove it before posting." in shown
    page.close()


def test_a_moderator_sees_a_safeguarding_case_exists_and_nothing_more(
    browser: Any, live: dict[str, Any]
) -> None:
    case = case_of(live["app"], live["items"]["risk"])
    page = _sign_in(browser, live, "mod")
    assert page.get_by_text("Safeguarding case: details are for the safeguarding lead").count() >= 1
    page.goto(f"{live['url']}/cases/{case.id}")
    expect(page.get_by_text("your visit has been recorded")).to_be_visible()
    assert "better off without me" not in page.content()
    page.close()


def test_keyboard_and_phone_width(browser: Any, live: dict[str, Any]) -> None:
    case = case_of(live["app"], live["items"]["help"])
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 375, 360):
        page = _sign_in(browser, live, "lead", width=width)
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Skip to content"
        for name, path in (("queue", "/"), ("case", f"/cases/{case.id}")):
            page.goto(f"{live['url']}{path}")
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            wide = page.evaluate(
                "[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect()"
                ".right > window.innerWidth + 1 && !e.closest('.table-wrap'))"
                ".map(e => e.tagName + '.' + e.className + '#' + e.id).slice(0, 5)"
            )
            assert overflow <= 0, f"{path} scrolls sideways at {width}px: {wide}"
            if width != 360:
                page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
        page.close()


def test_the_lead_escalates_a_case_and_a_moderator_is_then_refused_its_content(
    browser: Any, live: dict[str, Any]
) -> None:
    case = case_of(live["app"], live["items"]["dm"])
    assert case.case_type != "safeguarding"
    lead = _sign_in(browser, live, "lead")
    lead.goto(f"{live['url']}/cases/{case.id}")
    lead.get_by_text("Change status", exact=True).click()
    lead.get_by_label("New status").select_option("escalated")
    lead.get_by_label("Reason").fill("Says they are not safe at home tonight")
    lead.get_by_role("button", name="Save status").click()
    assert "safeguarding" in lead.get_by_role("heading", level=1).inner_text()
    assert "Says they are not safe at home tonight" in lead.locator("ol.chronology").inner_text()
    lead.close()
    moderator = _sign_in(browser, live, "mod")
    moderator.goto(f"{live['url']}/cases/{case.id}")
    expect(moderator.get_by_text("your visit has been recorded")).to_be_visible()
    assert "not safe at home" not in moderator.content()
    moderator.close()
