"""Photos end to end, from a signed webhook to what staff see, on the embedded default and in
production (PostgreSQL, Redis and a real `haven worker`).

A visitor posts a photo of people with no words -> a finding, a case and a drafted reply. Staff
record consent for a photo on the register page; the page then posts it (re-encoded and resized,
as Facebook serves it) -> the consent is noted on the item. The page posts a photo of people that
is not in the register -> flagged to whoever approves posts (an admin). The pictures are real
(scikit-image's sample photograph, Pillow); the CDN is a local HTTPS stand-in; Meta's webhook
shapes are the reference's.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlmodel import select

from bot.models import Case, Finding, Item, utcnow
from bot.models.alerts import Alert
from bot.models.photos import PhotoConsent, PhotoObservation
from tests.flows.support import charity_config, mails_to
from tests.helpers import PAGE_ID
from tests.notify.conftest import assert_content_free
from tests.photos.pictures import jpeg, landscape, people, png
from tests.support.cdn import HOST, Answer, LocalCDN
from tests.support.meta_standin import MetaStandIn
from tests.support.servers import SMTPServer
from tests.support.stack import MODES, HavenStack, production_services, running_stack

VISITOR = "6000000000000042"
CAPTION = "Thank you to everyone who came to the picnic"


@pytest.fixture
def cdn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalCDN]:
    folder = tmp_path / "cdn"
    folder.mkdir()
    server = LocalCDN(folder).start()
    # The embedded worker runs in this process: requests reads the CA bundle from here.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.cert))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=MODES)
def stack(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    meta: MetaStandIn,
    smtp: SMTPServer,
    cdn: LocalCDN,
) -> Iterator[HavenStack]:
    config = charity_config(tmp_path, smtp.port)
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["photos"] = {"allowed_hosts": [HOST]}  # the stand-in's name, in tests only
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    with running_stack(
        request.param,
        tmp_path,
        config,
        services=production_services(request),
        secrets_in_log=(CAPTION,),
        META_GRAPH_URL=meta.url,
        # The production worker processes read it from their environment.
        REQUESTS_CA_BUNDLE=str(cdn.cert),
    ) as running:
        yield running


def photo_post(url: str, number: int, *, author: str, name: str, message: str | None) -> dict:
    """A photo posted on the Page (reference 2a: item photo, `link` the CDN URL)."""
    value: dict[str, Any] = {
        "item": "photo",
        "verb": "add",
        "published": 1,
        "post_id": f"{PAGE_ID}_9000000000{number}",
        "photo_id": f"9100000000{number}",
        "link": url,
        "from": {"id": author, "name": name},
        "created_time": int(utcnow().timestamp()),
    }
    if message is not None:
        value["message"] = message
    change = {"field": "feed", "value": value}
    return {"object": "page", "entry": [{"id": PAGE_ID, "time": 1, "changes": [change]}]}


def _observation(stack: HavenStack, item: Item) -> PhotoObservation:
    [observation] = stack.rows(PhotoObservation, PhotoObservation.item_id == item.id)
    return observation


def _rules(stack: HavenStack, item: Item) -> set[str]:
    return {f.rule for f in stack.rows(Finding, Finding.item_id == item.id)}


def test_photos_from_a_visitor_and_from_the_page(
    stack: HavenStack, cdn: LocalCDN, smtp: SMTPServer
) -> None:
    # A visitor's photo of two people, no words: a finding, a case, a drafted private reply.
    url = cdn.serve("/v/t39/visitor.jpg", Answer(jpeg(people(2))))
    stack.post(photo_post(url + "?oh=sig", 101, author=VISITOR, name="Jo Visitor", message=None))
    visitor = stack.judged(f"{PAGE_ID}_9000000000101")
    assert {f.category for f in stack.rows(Finding, Finding.item_id == visitor.id)} == {
        "photo.family"
    }
    assert visitor.case_id is not None
    [case] = stack.rows(Case, Case.id == visitor.case_id)
    assert case.case_type == "privacy"
    assert set(stack.drafts(visitor)) == {"private"}
    assert _observation(stack, visitor).people >= 2

    # Staff record consent for the picnic photo: the upload is hashed, not kept.
    admin = stack.staff("angela", "admin")
    picnic = people(3)
    form = {"description": "picnic", "consented_by": "J.W.", "consented_for": "self, A.W., B.W.",
            "method": "written form", "given_on": utcnow().date().isoformat(),
            "photo": (io.BytesIO(png(picnic)), "picnic.png", "image/png")}  # fmt: skip
    answer = admin.post("/photo-consent", data=form, content_type="multipart/form-data")
    assert answer.status_code == 302, answer.get_data(as_text=True)
    [consent] = stack.rows(PhotoConsent)

    # The page posts it, as Facebook serves it back: smaller and re-encoded. Consent noted.
    url = cdn.serve("/v/t39/picnic.jpg", Answer(jpeg(picnic, quality=75, scale=0.5)))
    stack.post(photo_post(url, 102, author=PAGE_ID, name="Test page", message=CAPTION))
    posted = stack.judged(f"{PAGE_ID}_9000000000102")
    noted = _observation(stack, posted)
    assert noted.consent_id == consent.id and noted.note.startswith("consent on record: picnic")
    assert _rules(stack, posted) == set()  # nothing left for anyone to check

    # A photo of people that is not in the register: flagged to the person who approves posts.
    url = cdn.serve("/v/t39/other.jpg", Answer(jpeg(people(1))))
    stack.post(photo_post(url, 103, author=PAGE_ID, name="Test page", message=CAPTION))
    other = stack.judged(f"{PAGE_ID}_9000000000103")
    assert "photo-no-consent" in _rules(stack, other)
    assert _observation(stack, other).consent_id is None
    queue = admin.get("/").get_data(as_text=True)
    assert "People in the photo and no consent on record" in queue
    # The visitor's case shows what was seen, in words.
    assert "Photo 1: 2 people" in admin.get(f"/cases/{case.id}").get_data(as_text=True)
    alerts = stack.wait_for(lambda s: s.exec(select(Alert).where(Alert.item_id == other.id)).all())
    assert any("admin" in alert.roles for alert in alerts)
    for mail in mails_to(smtp, "admin", ""):
        assert_content_free(f"{mail.subject}\n{mail.body}", CAPTION)

    # A landscape the page posts has nobody in it: nothing about consent to check.
    url = cdn.serve("/v/t39/hills.jpg", Answer(jpeg(landscape())))
    stack.post(photo_post(url, 104, author=PAGE_ID, name="Test page", message="The view"))
    hills = stack.judged(f"{PAGE_ID}_9000000000104")
    assert "photo-no-consent" not in _rules(stack, hills)
