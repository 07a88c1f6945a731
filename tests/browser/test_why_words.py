"""The words that weighed most, asked for from "why?" in a real browser (issue 20): the lead
opens "why?" on a safeguarding case, presses the button, comes back to the same message and
reads the words there."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlmodel import Session, select

from bot.models import Finding
from bot.semantic import availability
from rules.semantic import SemanticConfig
from tests.browser.support import live_with_lead, sign_in
from tests.web.dashboard.support import case_of, comment

STAGE = availability(SemanticConfig())
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not STAGE.on, reason=f"the learned stage: {STAGE.reason}"),
]
# No word list catches this; the learned stage does, and a few of its words weigh most.
GIVING_AWAY = "Been giving my stuff away, won't need it where I'm going"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with live_with_lead(tmp_path_factory.mktemp("why")) as live:
        yield live


def test_the_lead_asks_which_words_weighed_most_and_reads_them(
    browser: Any, live: dict[str, Any]
) -> None:
    app = live["app"]
    item = comment(app, app.test_client(), GIVING_AWAY)
    case_id = case_of(app, item).id
    page = sign_in(browser, live["url"], app, "lead", live["key"])
    page.goto(f"{live['url']}/cases/{case_id}")
    message = page.locator(f"#item-{item.id}")
    why = message.locator("details.why").filter(has_text="semantic-risk-suicide")
    why.locator("summary").click()
    expect(why).to_contain_text("reads like")
    expect(why).not_to_contain_text("The words “")

    why.get_by_role("button", name="Which words weighed most?").click()
    page.wait_for_url(f"**/cases/{case_id}#item-{item.id}")
    expect(page.get_by_role("status")).to_contain_text("are under “why?”")
    why = page.locator(f"#item-{item.id} details.why").filter(has_text="semantic-risk-suicide")
    why.locator("summary").click()
    expect(why.get_by_role("button", name="Which words weighed most?")).to_have_count(0)
    with Session(app.extensions["haven"].engine) as db:
        stored = db.exec(select(Finding).where(Finding.rule == "semantic-risk-suicide")).one()
    words = stored.explanation["words"]  # type: ignore[index]
    assert words
    expect(why).to_contain_text("The words " + ", ".join(f"“{w}”" for w in words))
