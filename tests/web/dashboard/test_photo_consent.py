"""The photo-consent register page: a photo is fingerprinted in memory and dropped, the consent
recorded with initials only; what cannot be recorded says why and leaves nothing behind."""

from __future__ import annotations

import io
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from bot.models import utcnow
from bot.models.photos import PhotoConsent
from bot.photos.analysis import photo_hash
from bot.photos.consent import consent_for
from tests.photos.pictures import jpeg, people

FORM = {
    "description": "picnic, face painting",
    "consented_by": "J.W.",
    "consented_for": "self, A.W.",
    "method": "written form",
    "given_on": "2026-06-01",
}


def _post(client: FlaskClient, photo: bytes | None, **fields: str):  # type: ignore[no-untyped-def]
    data: dict[str, object] = {**FORM, **fields}
    if photo is not None:
        data["photo"] = (io.BytesIO(photo), "picnic.jpg", "image/jpeg")
    return client.post("/photo-consent", data=data, content_type="multipart/form-data")


def _consents(app: Flask) -> list[PhotoConsent]:
    with Session(app.extensions["haven"].engine) as db:
        return list(db.exec(select(PhotoConsent)).all())


def test_staff_record_consent_and_only_the_fingerprint_is_kept(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    client = as_role("moderator")
    photo = jpeg(people(2))
    response = _post(client, photo)
    assert response.status_code == 302, response.get_data(as_text=True)
    [consent] = _consents(app)
    assert consent.phash == photo_hash(photo, max_pixels=40_000_000)
    assert (consent.consented_by, consent.consented_for) == ("J.W.", "self, A.W.")
    page = client.get("/photo-consent").get_data(as_text=True)
    assert "picnic, face painting" in page and "J.W. for self, A.W." in page
    # Posted later, resized and re-encoded, the same photo finds this consent.
    later = photo_hash(jpeg(people(2), quality=60, scale=0.6), max_pixels=40_000_000)
    with Session(app.extensions["haven"].engine) as db:
        assert consent_for(db, later, utcnow().date(), 10) is not None


def test_a_name_instead_of_initials_is_refused_and_nothing_is_kept(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    response = _post(as_role("admin"), jpeg(people(1)), consented_by="Jo Williams")
    assert response.status_code == 400
    assert "initials only" in response.get_data(as_text=True)
    assert _consents(app) == []


def test_a_file_that_is_not_a_photo_is_refused(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    response = _post(as_role("admin"), b"%PDF-1.7 not a photo")
    assert response.status_code == 400
    assert "cannot be used" in response.get_data(as_text=True)
    assert _consents(app) == []


def test_a_form_without_a_photo_asks_for_one(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    response = _post(as_role("admin"), None)
    assert response.status_code == 400 and "Choose the photo" in response.get_data(as_text=True)


def test_withdrawing_consent_stops_it_matching(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    client = as_role("admin")
    photo = jpeg(people(2))
    assert _post(client, photo).status_code == 302
    [consent] = _consents(app)
    assert client.post(f"/photo-consent/{consent.id}/withdraw").status_code == 302
    assert client.post("/photo-consent/999999/withdraw").status_code == 404
    [withdrawn] = _consents(app)
    assert withdrawn.withdrawn_at is not None
    with Session(app.extensions["haven"].engine) as db:
        phash = photo_hash(photo, max_pixels=40_000_000)
        assert consent_for(db, phash, utcnow().date(), 10) is None
    assert "withdrawn" in client.get("/photo-consent").get_data(as_text=True)
