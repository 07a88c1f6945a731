"""Matching on the case page: topics, proposals with reasons, and each step of an introduction."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from bot.models import Case
from bot.models.directory import CaseTopic, Introduction, SupportResource
from tests.directory.support import add_case, add_resource, load, set_consent


def _engine(app: Flask):  # type: ignore[no-untyped-def]
    return app.extensions["haven"].engine


def test_a_case_is_matched_and_introduced_from_its_page(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    engine = _engine(app)
    supporter = add_resource(engine, name="K. (example)", topics=["kinship_care"], capacity=2)
    add_resource(engine, name="Legal line (example)", kind="service", topics=["legal"])
    case_id = add_case(engine, author_name="Sam Ellis")
    moderator = as_role("moderator")
    page = moderator.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "Support and introductions" in page and "Legal line" not in page

    moderator.post(f"/cases/{case_id}/topics", data={"topics": ["kinship_care", "nonsense"]})
    with Session(engine) as db:
        assert db.exec(select(CaseTopic.topic)).all() == ["kinship_care"]
    page = moderator.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "need: peer connection → peer supporter; topic: kinship care; 2 places left" in page

    moderator.post(f"/cases/{case_id}/introductions", data={"resource_id": str(supporter)})
    with Session(engine) as db:
        intro = db.exec(select(Introduction)).one()
    assert intro.explanation and "kinship care" in intro.explanation
    page = moderator.get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'value="S.E."' in page  # initials offered by default, never the full name

    shares = {
        "share": ["name", "topic", "area"],
        "share_name": "S.E.",
        "share_topic": "kinship_care",
        "share_area": "East Suffolk",
    }
    moderator.post(f"/introductions/{intro.id}/person", data=shares)
    page = moderator.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "Reach them: email via the coordinator" in page
    moderator.post(f"/introductions/{intro.id}/supporter", data={"accept": ["name", "topic"]})
    page = moderator.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "The exact text to pass on" in page and "Name: S.E.\nTopic: kinship care" in page
    assert "East Suffolk" not in page.split("The exact text to pass on")[1].split("</pre>")[0]

    response = moderator.post(f"/introductions/{intro.id}/introduce", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Introduced. Pass on exactly the text shown" in page
    # The places are counted now, after this introduction took one, not when it was proposed.
    introduction = page.split(f'id="introduction-{intro.id}"', 1)[1].split("</article>", 1)[0]
    assert "1 place left" in introduction and "2 places left" not in introduction
    assert load(engine, Case, case_id).status == "matched"
    assert load(engine, SupportResource, supporter).load == 1


def test_refusals_are_explained_and_change_nothing(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    engine = _engine(app)
    supporter = add_resource(engine, capacity=1, load=1, name="Busy (example)")
    case_id = add_case(engine, consent="asked")
    lead = as_role("safeguarding_lead")
    page = lead.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "full: not offered" in page and "consent recorded as given" in page
    response = lead.post(
        f"/cases/{case_id}/introductions",
        data={"resource_id": str(supporter)},
        follow_redirects=True,
    )
    assert "not offered for this case now" in response.get_data(as_text=True)

    free = add_resource(engine, name="Free (example)")
    lead.post(f"/cases/{case_id}/introductions", data={"resource_id": str(free)})
    with Session(engine) as db:
        intro = db.exec(select(Introduction)).one()
    response = lead.post(
        f"/introductions/{intro.id}/person",
        data={"share": ["name"], "share_name": "Sam Ellis"},
        follow_redirects=True,
    )
    assert "consent is not recorded as given" in response.get_data(as_text=True)
    set_consent(engine, case_id, "given")
    response = lead.post(
        f"/introductions/{intro.id}/person",
        data={"share": ["name"], "share_name": "Sam Ellis"},
        follow_redirects=True,
    )
    assert "first name or initials only" in response.get_data(as_text=True)
    assert load(engine, Introduction, intro.id).status == "proposed"

    set_consent(engine, case_id, "withdrawn")
    response = lead.post(
        f"/introductions/{intro.id}/person",
        data={"share": ["name"], "share_name": "Sam"},
        follow_redirects=True,
    )
    assert load(engine, Introduction, intro.id).status == "cancelled"  # kept, though refused
    assert "consent withdrawn" in response.get_data(as_text=True)


def test_a_safeguarding_case_is_matched_by_the_lead_only(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    engine = _engine(app)
    supporter = add_resource(engine, kind="service", topics=["domestic_abuse"])
    case_id = add_case(engine, case_type="safeguarding", categories=("risk.domestic_violence",))
    moderator = as_role("moderator")
    assert "Support and introductions" not in moderator.get(f"/cases/{case_id}").get_data(
        as_text=True
    )
    for path, data in (
        (f"/cases/{case_id}/topics", {"topics": ["domestic_abuse"]}),
        (f"/cases/{case_id}/introductions", {"resource_id": str(supporter)}),
    ):
        assert moderator.post(path, data=data).status_code == 403
    lead = as_role("safeguarding_lead")
    # Closed on a safeguarding case until the lead opens it (tests/web/dashboard/test_record.py).
    assert lead.post(f"/cases/{case_id}/record/support").status_code == 302
    lead.post(f"/cases/{case_id}/topics", data={"topics": ["domestic_abuse"]})
    assert "topic: domestic abuse" in lead.get(f"/cases/{case_id}").get_data(as_text=True)
