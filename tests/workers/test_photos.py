"""Processing an item with pictures: each is fetched from the CDN, looked at, and its findings
join the item's; a picture that cannot be fetched never loses the item. The CDN is the local
HTTPS stand-in (tests/support/cdn.py), Meta's webhook the documented shapes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from PIL import Image
from sqlmodel import Session, select

from bot.app import create_app
from bot.models import Case, Finding, Item, ReplyDraft
from bot.models.alerts import Alert
from bot.models.photos import PhotoObservation
from bot.tasks import LocalEnqueuer
from tests.helpers import PAGE_ID, TEST_ACCOUNTS, make_settings, page_comment, signed_post
from tests.photos.pictures import jpeg, landscape, people, png
from tests.support.cdn import HOST, Answer, LocalCDN
from tests.vision.pictures import sample
from tests.web.dashboard.support import add_user, sign_in


@pytest.fixture
def cdn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalCDN]:
    server = LocalCDN(tmp_path).start()
    # The worker's own requests session reads the CA bundle from the environment, as a
    # charity behind a proxy with its own certificate would set it.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.cert))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    config = {"meta": {"accounts": TEST_ACCOUNTS}, "photos": {"allowed_hosts": [HOST]}}
    made = create_app(
        make_settings(tmp_path, config=config), enqueuer=LocalEnqueuer([0], start=False)
    )
    yield made
    made.extensions["haven"].engine.dispose()


def comment_with_photo(url: str, text: str = "", number: str = "7001") -> dict[str, Any]:
    payload = page_comment(text, comment=number)
    value = payload["entry"][0]["changes"][0]["value"]
    value["photo"] = url
    if not text:
        del value["message"]  # a picture alone: Meta sends no message at all
    return payload


def _processed(app: Flask, payload: dict[str, Any]) -> Item:
    from workers.jobs import process_item

    assert signed_post(app.test_client(), payload).status_code == 200
    with Session(app.extensions["haven"].engine) as db:
        item = db.exec(select(Item).order_by(Item.id.desc())).first()
    assert item is not None and process_item(item.id) == "processed"
    return item


def _rows(app: Flask, model: type, item: Item) -> list[Any]:
    with Session(app.extensions["haven"].engine) as db:
        return list(db.exec(select(model).where(model.item_id == item.id)))  # type: ignore[attr-defined]


def test_a_photo_of_people_without_words_is_a_finding_a_case_and_a_draft(
    app: Flask, cdn: LocalCDN
) -> None:
    url = cdn.serve("/v/t39/family.jpg", Answer(jpeg(people(2))))
    item = _processed(app, comment_with_photo(url + "?oh=signed&oe=1"))
    findings = _rows(app, Finding, item)
    assert {f.category for f in findings} == {"photo.family"}
    [observation] = _rows(app, PhotoObservation, item)
    assert observation.status == "checked" and observation.people >= 2
    assert observation.phash is not None and len(observation.phash) == 16
    assert any("people" in reason for reason in observation.reasons)
    with Session(app.extensions["haven"].engine) as db:
        stored = db.get(Item, item.id)
        assert stored is not None and stored.case_id is not None
        assert db.get(Case, stored.case_id).case_type == "privacy"  # type: ignore[union-attr]
    drafts = _rows(app, ReplyDraft, item)
    assert [d.kind for d in drafts] == ["private"]


def test_a_photo_with_nobody_in_it_raises_nothing(app: Flask, cdn: LocalCDN) -> None:
    url = cdn.serve("/v/t39/hills.jpg", Answer(jpeg(landscape())))
    item = _processed(app, comment_with_photo(url, "What a view from the walk today"))
    assert _rows(app, Finding, item) == []
    [observation] = _rows(app, PhotoObservation, item)
    assert (observation.status, observation.people) == ("checked", 0)


@pytest.mark.parametrize(
    ("where", "answer", "note"),
    [
        ("https://evil.example/x.jpg", None, "not on Meta's CDN"),
        ("/gone.jpg", Answer(status=404), "answered 404"),
        ("/page.jpg", Answer(b"<html>", content_type="text/html"), "not a picture"),
    ],
)
def test_a_photo_that_cannot_be_fetched_never_loses_the_item(
    app: Flask, cdn: LocalCDN, where: str, answer: Answer | None, note: str
) -> None:
    url = where if answer is None else cdn.serve(where, answer)
    item = _processed(app, comment_with_photo(url, "Call me on 07700 900123 about the group"))
    # Judged on its words as ever ...
    assert "pii.phone" in {f.category for f in _rows(app, Finding, item)}
    # ... and the note says the picture could not be checked.
    [observation] = _rows(app, PhotoObservation, item)
    assert observation.status == "refused" and observation.phash is None
    assert observation.note.startswith("the photo couldn't be checked") and note in observation.note
    # Staff see the note on the item in the queue.
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    sign_in(client, app, "mo", add_user(app, "mo", "moderator"))
    page = client.get("/").get_data(as_text=True)
    assert 'Photo 1: <span class="note">The photo couldn&#39;t be checked' in page


def test_with_fetching_off_nothing_is_contacted_and_the_item_says_so(
    tmp_path: Path, cdn: LocalCDN
) -> None:
    config = {
        "meta": {"accounts": TEST_ACCOUNTS},
        "photos": {"allowed_hosts": [HOST], "fetch": False},
    }
    off = create_app(
        make_settings(tmp_path, config=config), enqueuer=LocalEnqueuer([0], start=False)
    )
    try:
        url = cdn.serve("/v/t39/family.jpg", Answer(jpeg(people(2))))
        item = _processed(off, comment_with_photo(url, "Call me on 07700 900123"))
        assert "pii.phone" in {f.category for f in _rows(off, Finding, item)}
        [observation] = _rows(off, PhotoObservation, item)
        assert observation.status == "refused" and "turned off" in observation.note
        assert cdn.requests == []
    finally:
        off.extensions["haven"].engine.dispose()


def test_an_alert_about_a_photo_carries_no_picture_and_no_words(app: Flask, cdn: LocalCDN) -> None:
    url = cdn.serve("/v/t39/family.jpg", Answer(jpeg(people(2))))
    item = _processed(app, comment_with_photo(url))
    alerts = _rows(app, Alert, item)
    assert alerts and all(url not in str(a.model_dump()) for a in alerts)


def _far_off_face() -> Image.Image:
    """A wide shot with one small face in it: not prominent enough to flag on its own."""
    scene = sample("coffee.png").resize((1600, 1200))
    scene.paste(sample("astronaut.png").resize((260, 260)), (900, 500))
    return scene


@pytest.mark.parametrize(("family_posts", "flagged"), [(False, True), (True, False)])
def test_the_page_own_photo_of_anyone_is_flagged_where_its_voice_posts_no_families(
    tmp_path: Path, cdn: LocalCDN, family_posts: bool, flagged: bool
) -> None:
    # Policy 002: no photos of the families it supports, even if their faces cannot be seen; a
    # page whose voice allows family posts (policy 001: with consent) is flagged only for
    # people the picture shows prominently.
    voices = {"page": {"accounts": [PAGE_ID], "family_posts": family_posts}}
    config = {"meta": {"accounts": TEST_ACCOUNTS}, "photos": {"allowed_hosts": [HOST]}}
    made = create_app(
        make_settings(tmp_path, config={**config, "voices": voices}),
        enqueuer=LocalEnqueuer([0], start=False),
    )
    try:
        url = cdn.serve("/v/t39/walk.png", Answer(png(_far_off_face()), content_type="image/png"))
        own = comment_with_photo(url, "A lovely walk today", number="7301")
        own["entry"][0]["changes"][0]["value"]["from"] = {"id": PAGE_ID, "name": "Test page"}
        item = _processed(made, own)
        assert item.from_page
        [observation] = _rows(made, PhotoObservation, item)
        assert observation.status == "checked" and observation.people == 1
        # What the picture itself shows (the pack's own review of a page photo is another rule).
        seen = {
            (f.rule, f.category)
            for f in _rows(made, Finding, item)
            if f.rule.startswith("picture-")
        }
        assert seen == ({("picture-people", "photo.family")} if flagged else set())
    finally:
        made.extensions["haven"].engine.dispose()
