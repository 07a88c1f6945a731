"""The queue: most serious first then oldest, Meta's deadlines, links, actions, paging."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlmodel import Session, select

from bot.models import AuditEntry, Item, OutboundAction, ReplyDraft
from tests.web.dashboard.support import HELP, PII, RISK, comment, item_order, message

SPAM = "Make £5000 a week from home!!! DM me now, click my profile link bit.ly/cash"


def test_most_serious_first_then_oldest_first(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    feeder = app.test_client()
    newer_help = comment(app, feeder, HELP, author="601", age_seconds=60)
    older_help = comment(app, feeder, HELP + " please", author="602", age_seconds=7200)
    risk = comment(app, feeder, RISK, author="603", age_seconds=30)
    page = as_role("safeguarding_lead").get("/").get_data(as_text=True)
    order = item_order(page)
    assert order.index(risk.id) == 0
    assert order.index(older_help.id) < order.index(newer_help.id)


def test_an_entry_shows_channel_link_author_spans_and_the_private_reply_countdown(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    item = comment(app, app.test_client(), PII, name="Jo Anne Walker", age_seconds=6 * 86400)
    page = as_role("admin").get("/").get_data(as_text=True)
    assert "Facebook comment" in page
    assert 'from <a href="/people/facebook/6000000000000042">Jo W.</a>' in page
    assert "Walker" not in page  # a first name and an initial, never the full name
    post, comment_id = item.post_id.split("_")[1], item.external_id.split("_")[1]  # type: ignore[union-attr]
    assert f"https://www.facebook.com/111222333444555/posts/{post}?comment_id={comment_id}" in page
    assert page.count("<mark>") >= 2  # the phone number and the school
    # Six days old: under a day of Meta's 7-day private-reply window is left.
    assert re.search(r'countdown-soon">Private reply:\s*<time[^>]*>23 h \d+ min left', page)


def test_a_message_shows_the_24_hour_window_from_the_persons_last_message(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    feeder = app.test_client()
    message(app, feeder, HELP, sender="777", age_seconds=20 * 3600)
    message(app, feeder, "are you there?", sender="777", age_seconds=3600)
    page = as_role("admin").get("/").get_data(as_text=True)
    # The first message is flagged; its window runs from the newer one: 23 hours left.
    assert re.search(r"Messaging window:\s*<time[^>]*>22 h 5\d min left", page)
    assert "Instagram message" not in page and "Messenger" in page


def test_an_old_comment_says_the_private_reply_window_has_closed(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    comment(app, app.test_client(), HELP, age_seconds=8 * 86400)
    page = as_role("admin").get("/").get_data(as_text=True)
    assert re.search(r"closed 1 d 0 h ago</time>\s*<small>— answer from the Meta inbox", page)


def test_approving_an_edited_reply_queues_exactly_that_text(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    item = comment(app, app.test_client(), HELP)
    admin = as_role("admin")
    with Session(app.extensions["haven"].engine) as db:
        draft = db.exec(select(ReplyDraft).where(ReplyDraft.item_id == item.id)).first()
    assert draft is not None
    back = f"/?page=1#item-{item.id}"
    response = admin.post(
        f"/drafts/{draft.id}/approve", data={"text": "Hello Jo, we're here.", "back": back}
    )
    assert response.headers["Location"] == back
    assert app.extensions["haven"].enqueuer.wait_idle()
    with Session(app.extensions["haven"].engine) as db:
        saved = db.get(ReplyDraft, draft.id)
        action = db.exec(select(OutboundAction).where(OutboundAction.draft_id == draft.id)).one()
        acted = db.get(Item, item.id)
    assert saved is not None and saved.text == "Hello Jo, we're here."
    assert saved.status in {"approved", "sent"} and action.requested_by.startswith("user:")
    assert acted is not None and acted.first_action_at is not None


def test_back_links_never_leave_the_site(app: Flask, as_role: Callable[[str], FlaskClient]) -> None:
    item = comment(app, app.test_client(), HELP)
    client = as_role("moderator")
    # A line break in a redirect target would be a header injection (and a 500 from Werkzeug).
    for evil in (
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "/\r\nSet-Cookie: x=1",
    ):
        response = client.post(f"/items/{item.id}/review", data={"back": evil, "undo": "1"})
        assert response.headers["Location"] == "/"


def test_mark_reviewed_takes_an_item_off_the_queue_and_can_be_undone(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    item = comment(app, app.test_client(), SPAM)
    mod = as_role("moderator")
    assert item.id in item_order(mod.get("/").get_data(as_text=True))
    mod.post(f"/items/{item.id}/review")
    assert item.id not in item_order(mod.get("/").get_data(as_text=True))
    assert item.id in item_order(mod.get("/?view=reviewed").get_data(as_text=True))
    mod.post(f"/items/{item.id}/review", data={"undo": "1"})
    assert item.id in item_order(mod.get("/").get_data(as_text=True))
    with Session(app.extensions["haven"].engine) as db:
        actions = db.exec(select(AuditEntry.action).where(AuditEntry.subject_id == str(item.id)))
        assert {"item.reviewed", "item.review_undone"} <= set(actions.all())


def test_the_queue_pages_and_each_page_costs_the_same_queries(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    feeder = app.test_client()
    for n in range(5):
        comment(app, feeder, f"{HELP} ({n})", author=f"70{n}")
    client = as_role("admin")

    @contextmanager
    def counting() -> Iterator[list[str]]:
        seen: list[str] = []
        engine = app.extensions["haven"].engine

        def count(*args: object) -> None:
            seen.append(str(args[2]))

        event.listen(engine, "before_cursor_execute", count)
        try:
            yield seen
        finally:
            event.remove(engine, "before_cursor_execute", count)

    with counting() as five:
        page = client.get("/").get_data(as_text=True)
    assert len(item_order(page)) == 5
    for n in range(5, 15):
        comment(app, feeder, f"{HELP} ({n})", author=f"70{n}")
    with counting() as fifteen:
        client.get("/")
    assert len(fifteen) == len(five)  # batch loads: no query per item
    settings = app.extensions["haven"].settings
    config = settings.config.model_copy(
        update={"dashboard": settings.config.dashboard.model_copy(update={"page_size": 4})}
    )
    app.extensions["haven"].settings = settings.model_copy(update={"config": config})
    first, last = client.get("/").get_data(as_text=True), client.get("/?page=4")
    assert len(item_order(first)) == 4 and "Page 1 of 4 (15)" in first
    assert len(item_order(last.get_data(as_text=True))) == 3
    assert "Page 4 of 4" in client.get("/?page=99").get_data(as_text=True)  # past the end


def test_the_lead_seeing_safeguarding_content_in_the_queue_is_audited(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    risky = comment(app, app.test_client(), RISK)
    as_role("moderator").get("/")
    as_role("safeguarding_deputy").get("/")
    with Session(app.extensions["haven"].engine) as db:
        rows = db.exec(select(AuditEntry).where(AuditEntry.action == "case.viewed")).all()
    deputy = as_role("safeguarding_deputy")  # signing in opens the queue once more
    assert rows and {(r.subject_id, r.detail["via"]) for r in rows} == {
        (str(risky.case_id), "queue")
    }
    assert len({r.actor for r in rows}) == 1 and deputy is not None


def test_within_a_severity_an_unacknowledged_overnight_alert_comes_first(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    from bot.db import session_scope
    from bot.models.alerts import Alert

    feeder = app.test_client()
    older = comment(app, feeder, HELP, author="611", age_seconds=7200)
    newer = comment(app, feeder, HELP + " please", author="612", age_seconds=60)
    with session_scope(app.extensions["haven"].engine) as db:
        db.add(Alert(dedupe_key="test-overnight", kind="finding", item_id=newer.id,
                     case_id=newer.case_id, out_of_hours=True))  # fmt: skip
    order = item_order(as_role("admin").get("/").get_data(as_text=True))
    assert order.index(newer.id) < order.index(older.id)
