"""A case-page form's message is shown where the form was (issue 18): after each introduction
step, and after recording consent, the message is inside that section and on screen, at phone
and desktop widths, instead of at the top of the page far above (630 px above at 360 px)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from bot.app import create_app
from bot.demo.run import seed_directory
from bot.tasks import LocalEnqueuer
from tests.browser.support import served, sign_in
from tests.helpers import make_settings
from tests.web.dashboard.support import add_user, case_of, comment

pytestmark = pytest.mark.browser
ASKING = "I'm a kinship carer for my grandson and would love to talk to other kinship carers"
SUPPORTER = "K. (example kinship carer)"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    queue = LocalEnqueuer([0, 0, 0])
    app: Flask = create_app(make_settings(tmp_path_factory.mktemp("in-place")), enqueuer=queue)
    seed_directory(app.extensions["haven"].engine)
    add_user(app, "mod", "moderator")
    try:
        with served(app) as url:
            yield {"url": url, "app": app}
    finally:
        queue.stop()


def _shown_in(page: Any, section: str, words: str) -> None:
    """The message is in the section, on screen, and not also at the top of the page."""
    message = page.locator(f"#{section} p.flash").filter(has_text=words)
    assert message.count() == 1, page.locator(f"#{section}").inner_text()
    expect(message).to_be_in_viewport(ratio=1)  # all of it, once the page has scrolled
    assert page.locator("main > p.flash").count() == 0
    assert page.url.endswith(f"#{section}")


@pytest.mark.parametrize("width, height", [(360, 740), (1280, 900)])
def test_each_introduction_step_says_how_it_went_where_the_step_was(
    browser: Any, live: dict[str, Any], width: int, height: int
) -> None:
    app = live["app"]
    asked = comment(app, app.test_client(), ASKING, author=f"60000000000009{width}", name="Sam E")
    case_id = case_of(app, asked).id
    page = sign_in(browser, live["url"], app, "mod")
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{live['url']}/cases/{case_id}")

    page.get_by_text("Record consent given another way", exact=True).click()
    page.locator("#consent-new").select_option("given")
    page.locator("#consent-reason").fill("given by phone, 7 Dec")
    page.get_by_role("button", name="Record consent").click()
    _shown_in(page, "consent", "Consent recorded")

    page.get_by_text("Set topics", exact=True).click()
    page.get_by_label("kinship care").check()
    page.get_by_role("button", name="Save topics").click()
    _shown_in(page, "matches", "")

    proposal = page.locator("li.proposal").filter(has_text=SUPPORTER)
    proposal.get_by_role("button", name=re.compile("Propose")).click()
    _shown_in(page, "matches", "")

    intro = page.locator("article.introduction").filter(has_text=SUPPORTER)
    intro.get_by_role("button", name="Record: person agreed").click()
    _shown_in(page, "matches", "the person agreed")

    # A step refused (the supporter's answer recorded twice) says why, in the same place.
    intro = page.locator("article.introduction").filter(has_text=SUPPORTER)
    intro.get_by_role("button", name="Record: supporter agreed").click()
    _shown_in(page, "matches", "")
    intro = page.locator("article.introduction").filter(has_text=SUPPORTER)
    intro.get_by_role("button", name="Make the introduction").click()
    _shown_in(page, "matches", "Introduced.")
    page.close()
