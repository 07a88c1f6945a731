"""The rules page in real Chromium (CSRF on): try a message, read why, at phone width too."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from bot.app import create_app
from bot.tasks import LocalEnqueuer
from tests.browser.support import served, sign_in
from tests.helpers import make_settings
from tests.web.dashboard.support import RISK, add_user

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("HAVEN_SCREENSHOTS", "/tmp/haven-shots"))


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Flask]]:
    queue = LocalEnqueuer([0, 0, 0])
    app = create_app(make_settings(tmp_path_factory.mktemp("rules")), enqueuer=queue)
    add_user(app, "mod", "moderator")
    try:
        with served(app) as url:
            yield url, app
    finally:
        queue.stop()


@pytest.mark.parametrize("width", [360, 1280])
def test_a_volunteer_tries_a_message_and_reads_why(
    browser: Any, live: tuple[str, Flask], width: int
) -> None:
    url, app = live
    page = sign_in(browser, url, app, "mod")
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(f"{url}/rules")
    page.get_by_role("textbox", name="Message").fill(RISK)
    page.get_by_label("As").select_option("comment")
    page.get_by_role("button", name="Try it").click()
    result = page.locator("#try-result")
    result.wait_for()
    assert "Haven would find" in result.inner_text()
    assert "the safeguarding lead is told at once" in result.inner_text()
    assert "Samaritans" in result.locator("figure.draft p").first.inner_text()
    # The taxonomy stays behind "why?" until asked for.
    why = result.locator("details.why").first
    assert not why.locator("code").first.is_visible()
    why.locator("summary").click()
    assert why.locator("code").nth(1).inner_text().startswith("risk.")
    # The result is where the volunteer is looking, and the page fits the phone.
    box = result.bounding_box()
    assert box is not None and box["y"] < 800
    fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert fits, f"wider than {width} px"
    SHOTS.mkdir(parents=True, exist_ok=True)
    result.screenshot(path=str(SHOTS / f"rules-try-{width}.png"))
    page.close()
