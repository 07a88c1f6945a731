"""Every page of the dashboard, as each role meets it, on a 360 px phone and a 1280 px desktop.

The data is the demo's (its signed sample deliveries through the real webhook, its support
directory) plus what the demo leaves to a person: an introduction, an escalation's acknowledge
link, a data-deletion request. Each page must fit the width (no sideways scrolling) and say
nothing in the taxonomy's codes outside a closed "why?" disclosure. A GET route missing from
the walk fails `test_every_page_is_in_the_walk`, so a new page cannot escape it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from flask import Flask
from sqlmodel import select

from bot.app import create_app
from bot.db import make_engine, session_scope, upgrade
from bot.demo.events import DEMO_PAGE_ID
from bot.demo.run import demo_settings, post_samples, seed_directory, wait_until_processed
from bot.directory.introductions import propose
from bot.models import Case, Item, User
from bot.models.alerts import AckLink, Escalation
from bot.models.directory import SupportResource
from bot.models.privacy import DataDeletionRequest
from bot.tasks import LocalEnqueuer
from tests.browser.support import served
from tests.helpers import REPO
from tests.web.dashboard.support import PASSWORD, add_user

pytestmark = pytest.mark.browser
WIDTHS = (360, 1280)
CODE = re.compile(
    r"\b(risk|pii|help_request|abusive|spam|complaint|out_of_remit|unsafe_practice|photo)"
    r"\.[a-z_]+"
)
ROLES = ("admin", "moderator", "safeguarding_lead", "safeguarding_deputy")
# GET routes that are not pages a person reads, and why.
NOT_PAGES = {
    "static": "stylesheets and images",
    "healthz": "the platform's health check",
    "webhooks.verify": "Meta's webhook handshake",
}
# Walked while signing in, not by address: they need a sign-in half done.
SIGN_IN_PAGES = ("auth.login", "totp.code", "totp.enrol")
# Visible text, with every <details> closed and left out, and the page's width.
MEASURE = """() => {
  const shut = [...document.querySelectorAll('details')].map(d => [d, d.open, d.style.display]);
  for (const [d] of shut) { d.open = false; d.style.display = 'none'; }
  const text = document.body.innerText;
  for (const [d, open, display] of shut) { d.open = open; d.style.display = display; }
  return {width: document.documentElement.scrollWidth, text: text};
}"""


@pytest.fixture(scope="module")
def walk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The demo's data on a live server, every role's user, and the walk's addresses."""
    tmp = tmp_path_factory.mktemp("walk")
    settings = demo_settings(str(REPO / "config.yaml"), {"HAVEN_INSTANCE_PATH": str(tmp)})
    Path(settings.database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    seed_directory(engine)
    queue = LocalEnqueuer([0, 0, 0])
    app: Flask = create_app(settings, enqueuer=queue)
    keys = {role: add_user(app, role, role) for role in ROLES}
    add_user(app, "newcomer", "admin", second_factor=False)
    try:
        with served(app) as url:
            assert set(post_samples(url, settings.app_secrets()[0])) == {200}
            wait_until_processed(settings)
            assert queue.wait_idle()
            yield {"url": url, "app": app, "keys": keys, "paths": _addresses(app)}
    finally:
        queue.stop()


def _addresses(app: Flask) -> dict[str, list[str]]:
    """Each page's addresses: a safeguarding case and a support case with an introduction."""
    with session_scope(app.extensions["haven"].engine) as db:
        cases = db.exec(select(Case).order_by(Case.id)).all()
        safeguarding = next(c for c in cases if c.case_type == "safeguarding")
        support = next(c for c in cases if c.case_type == "support")
        resource = db.exec(select(SupportResource).order_by(SupportResource.id)).first()
        assert resource is not None
        support.consent = "given"
        db.add(support)
        propose(db, support.id, resource.id, actor_id=None, explanation="the demo's match")  # type: ignore[arg-type]
        escalation = db.exec(select(Escalation)).first()
        assert escalation is not None, "the demo's risk message escalates"
        token = secrets.token_urlsafe(32)
        db.add(
            AckLink(
                token_sha256=hashlib.sha256(token.encode()).hexdigest(),
                escalation_id=escalation.id,  # type: ignore[arg-type]
            )
        )
        code = secrets.token_hex(10)
        db.add(DataDeletionRequest(confirmation_code=code, subject_digest=secrets.token_hex(32)))
        person = db.exec(
            select(Item).where(Item.author_id.is_not(None), Item.case_id == support.id)
        ).first()
        assert person is not None
        ids = (safeguarding.id, support.id, resource.id, person.platform, person.author_id)
    sg, sup, resource_id, platform, author = ids
    return {
        "dashboard.queue": ["/"],
        "alerts.inbox": ["/alerts/"],
        "alerts.acknowledge_link": [f"/alerts/ack?t={token}"],
        "audit.audit": ["/audit"],
        "dashboard.cases": ["/cases"],
        "dashboard.case_detail": [f"/cases/{sg}", f"/cases/{sup}"],
        "record.printable": [f"/cases/{sg}/record/print"],
        "check.check": ["/check"],
        "directory.listing": ["/directory"],
        "directory.edit": [f"/directory/{resource_id}/edit"],
        "directory.new": ["/directory/new"],
        "holds.holds": ["/holds"],
        "photo_consent.photo_consent": ["/photo-consent"],
        "meta_deletion.status": [f"/meta/data-deletion/status/{code}"],
        "people.marked": ["/people"],
        "people.person": [f"/people/{platform}/{author}"],
        "privacy.overview": ["/privacy"],
        "times.response_times": ["/response-times"],
        "rules_page.rules": ["/rules"],
    }


def test_every_page_is_in_the_walk(walk: dict[str, Any]) -> None:
    rules = walk["app"].url_map.iter_rules()
    pages = {r.endpoint for r in rules if "GET" in (r.methods or ())} - set(NOT_PAGES)
    assert pages == set(walk["paths"]) | set(SIGN_IN_PAGES), "add the new page to the walk"


def _problems(page: Any, where: str, width: int) -> list[str]:
    seen = page.evaluate(MEASURE)
    found = []
    if seen["width"] > width:
        found.append(f"{where} at {width} px is {seen['width']} px wide")
    if codes := sorted({m.group(0) for m in CODE.finditer(seen["text"])}):
        found.append(f"{where} at {width} px shows {codes}")
    return found


def _sign_in(page: Any, walk: dict[str, Any], name: str, check: Callable[[str], None]) -> None:
    page.goto(f"{walk['url']}/login")
    check("/login")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    if key := walk["keys"].get(name):
        page.wait_for_url("**/login/code")
        check("/login/code")
        with session_scope(walk["app"].extensions["haven"].engine) as db:
            db.exec(select(User).where(User.username == name)).one().totp_last_step = None
        page.get_by_label("6-digit code").fill(pyotp.TOTP(key).now())
        page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{walk['url']}/")


@pytest.mark.parametrize("role", ROLES)
def test_every_page_fits_a_phone_and_speaks_words(
    browser: Any, walk: dict[str, Any], role: str
) -> None:
    page = browser.new_page(viewport={"width": WIDTHS[0], "height": 800})
    problems: list[str] = []

    def check(where: str) -> None:
        problems.extend(_problems(page, where, WIDTHS[0]))

    def check_each_width(where: str) -> None:
        # The stylesheet answers a resize as it answers a page opened at that width, and
        # the dashboard reads no width in script: one load serves both widths.
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 800})
            problems.extend(_problems(page, where, width))

    _sign_in(page, walk, role, check)
    for paths in walk["paths"].values():
        for path in paths:
            page.goto(f"{walk['url']}{path}")
            check_each_width(path)
    # Check-a-post's findings, which only a submitted draft shows.
    page.goto(f"{walk['url']}/check")
    page.get_by_label("Draft post").fill(
        "Well done Jake at Oakfield Primary School! Call 07700 900123 or jo@example.org"
    )
    page.get_by_role("button", name="Check").click()
    page.wait_for_selector(".check-result")
    check_each_width("/check (a result)")
    page.close()
    assert not problems, "\n".join(problems)


def test_setting_up_a_second_factor_fits_a_phone(browser: Any, walk: dict[str, Any]) -> None:
    page = browser.new_page(viewport={"width": WIDTHS[0], "height": 800})
    page.goto(f"{walk['url']}/login")
    page.get_by_label("Username").fill("newcomer")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/login/enrol")
    problems = _problems(page, "/login/enrol", WIDTHS[0])
    page.close()
    assert not problems, "\n".join(problems)


def test_the_walk_sees_demo_like_data(walk: dict[str, Any]) -> None:
    """Guards the walk against passing over empty pages."""
    with session_scope(walk["app"].extensions["haven"].engine) as db:
        items = db.exec(select(Item).where(Item.account_id == DEMO_PAGE_ID)).all()
        assert len(items) >= 5
        categories = {c for i in items for c in _categories(db, i.id)}
    tops = {c.split(".", 1)[0] for c in categories}
    assert {"risk", "pii", "help_request"} <= tops, categories


def _categories(db: Any, item_id: int | None) -> set[str]:
    from bot.models import Finding

    return set(db.exec(select(Finding.category).where(Finding.item_id == item_id)).all())


def test_the_walk_would_see_a_code_or_an_overflow(browser: Any) -> None:
    """Guards the measure itself: what it must catch, and what it must leave alone."""
    page = browser.new_page(viewport={"width": WIDTHS[0], "height": 800})
    page.set_content(
        "<p>Gives a phone number</p><details><summary>why?</summary>pii.phone</details>"
    )
    assert _problems(page, "words", WIDTHS[0]) == []
    # Opened wide and then narrowed, as the walk measures its second width.
    page.set_viewport_size({"width": WIDTHS[1], "height": 800})
    page.set_content("<p>risk.suicide</p><div style='width: 500px'>wide</div>")
    assert _problems(page, "codes", WIDTHS[1]) == ["codes at 1280 px shows ['risk.suicide']"]
    page.set_viewport_size({"width": WIDTHS[0], "height": 800})
    assert _problems(page, "codes", WIDTHS[0]) == [
        "codes at 360 px is 508 px wide",
        "codes at 360 px shows ['risk.suicide']",
    ]
    page.close()
