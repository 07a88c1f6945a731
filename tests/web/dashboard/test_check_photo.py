"""Check a post with its photo: the same findings as the worker's, EXIF position and time, and
nothing kept. Browser-free (Flask's client); the photos are made with Pillow or ship in a package.
"""

from __future__ import annotations

import io
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func
from sqlmodel import Session, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse, encode_multipart

from bot.models import AuditEntry, Item
from bot.web.dashboard.check_photo import MAX_PHOTO_BYTES
from tests.vision.pictures import chat_screenshot, encoded, poster, sample, with_gps


def _check(client: FlaskClient, data: bytes, text: str = "", **extra: str) -> tuple[int, str]:
    response = client.post(
        "/check",
        data={"text": text, "picture": (io.BytesIO(data), "draft.jpg"), **extra},
        content_type="multipart/form-data",
    )
    return response.status_code, response.get_data(as_text=True)


def _check_large(client: FlaskClient, size: int) -> TestResponse:
    # Encoded in memory: the test client would spool a body this size to a file of its own.
    photo = FileStorage(io.BytesIO(b"\xff" * size), "big.jpg")
    boundary, body = encode_multipart({"text": "", "picture": photo})
    return client.post(
        "/check", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


def _counts(app: Flask) -> tuple[int, int]:
    with Session(app.extensions["haven"].engine) as db:
        items = db.exec(select(func.count()).select_from(Item)).one()
        audit = db.exec(select(func.count()).select_from(AuditEntry)).one()
    return items, audit


def test_a_photo_with_its_location_is_told_to_lose_it_before_posting(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    client = as_role("moderator")
    before = _counts(app)
    photo = with_gps(sample("astronaut.png"), (52.0, 3.0, 36.0), (1.0, 9.0, 18.0), east=True)
    status, page = _check(client, photo, "Great day at the fun day!")
    assert status == 200
    assert "This photo carries its location: remove it before posting." in page
    assert "52.06000, 1.15500" in page
    assert "2026-06-01 14:03:00" in page
    assert "1 person, face visible" in page and "photo.family" in page
    # Without the location, no warning; the person is still there.
    _, clean = _check(client, encoded(sample("astronaut.png")))
    assert "carries its location" not in clean and "1 person, face visible" in clean
    assert _counts(app) == before  # nothing stored, nothing audited


def test_text_in_a_photo_is_read_and_flagged_like_words_in_the_post(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    card = encoded(poster(["Oakfield Primary School", "Call Jo on 07700 900123"], size=36))
    status, page = _check(as_role("moderator"), card, "Look at our new sign")
    assert status == 200
    assert "Text in the image names a school" in page
    assert "Text in the image shows a phone number" in page
    assert "<mark>Oakfield Primary School</mark>" in page
    assert "pii.school" in page  # in the "why?" disclosure


def test_a_chat_screenshot_in_a_draft_is_flagged(as_role: Callable[[str], FlaskClient]) -> None:
    _, page = _check(as_role("moderator"), encoded(chat_screenshot()), "Lovely message from a mum")
    assert "A screenshot of a chat" in page and "photo.screenshot" in page


def test_a_file_that_is_not_a_photo_or_too_big_gets_a_clear_answer(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    client = as_role("moderator")
    status, page = _check(client, b"%PDF-1.4 not a photo")
    assert status == 200 and "This is not a picture Haven can read" in page
    # Just over the limit: the form says so; far over: refused before the body is read.
    for size, code in ((MAX_PHOTO_BYTES + 1, 200), (MAX_PHOTO_BYTES + 200 * 1024, 413)):
        response = _check_large(client, size)
        assert response.status_code == code
        assert "The photo is larger than 15 MB" in response.get_data(as_text=True)
    response = client.post("/check", data={"text": ""}, content_type="multipart/form-data")
    assert "Paste the draft post, or choose its photo." in response.get_data(as_text=True)
    assert _counts(app)[0] == 0
