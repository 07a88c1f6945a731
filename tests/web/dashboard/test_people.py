"""People: one author's items and cases across channels, and the removal mark."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from bot.models import AuditEntry
from tests.web.dashboard.support import HELP, RISK, comment, item_order, message

PERSON = "6000000000000555"


def test_a_persons_page_gathers_their_comments_and_messages(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    feeder = app.test_client()
    first = comment(app, feeder, HELP, author=PERSON, name="Sam Ellis")
    second = message(app, feeder, "Thanks, yes please", sender=PERSON)
    comment(app, feeder, HELP, author="someone-else")
    page = as_role("moderator").get(f"/people/facebook/{PERSON}").get_data(as_text=True)
    assert "<h1>Sam E. <small>on Facebook</small></h1>" in page
    assert set(item_order(page)) == {first.id, second.id}
    assert "Facebook comment, Messenger" in page
    assert f"/cases/{first.case_id}" in page
    assert "Ellis" not in page
    assert as_role("moderator").get("/people/facebook/nobody-at-all").status_code == 404


def test_removed_from_the_community_flags_their_future_items(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    feeder = app.test_client()
    old = comment(app, feeder, "Great event on Saturday, thank you all!", author=PERSON)
    mod = as_role("moderator")
    assert old.id not in item_order(mod.get("/").get_data(as_text=True))  # nothing to flag
    refused = mod.post(f"/people/facebook/{PERSON}/removal", data={"reason": ""})
    assert refused.status_code == 302
    mod.post(f"/people/facebook/{PERSON}/removal", data={"reason": "Asked to leave, 21 Nov"})
    person = mod.get(f"/people/facebook/{PERSON}").get_data(as_text=True)
    assert "Removed from the community" in person and "Asked to leave, 21 Nov" in person
    assert "Asked to leave" in mod.get("/people").get_data(as_text=True)
    # Something harmless from them afterwards still goes in front of staff, marked.
    new = comment(app, feeder, "Hi all, lovely to be back!", author=PERSON)
    queue = mod.get("/").get_data(as_text=True)
    assert new.id in item_order(queue) and old.id not in item_order(queue)
    assert "badge-removed" in queue
    mod.post(f"/people/facebook/{PERSON}/removal", data={"lift": "1"})
    assert new.id not in item_order(mod.get("/").get_data(as_text=True))
    with Session(app.extensions["haven"].engine) as db:
        actions = db.exec(
            select(AuditEntry.action).where(AuditEntry.subject_type == "person_mark")
        ).all()
    assert actions == ["person.removal_marked", "person.removal_lifted"]


def test_others_cannot_learn_from_a_person_page_that_they_have_a_safeguarding_case(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    feeder = app.test_client()
    risky = comment(app, feeder, RISK, author=PERSON)
    # A message is another thread, so another case (the comment's thread is safeguarding now).
    helped = message(app, feeder, HELP, sender=PERSON)
    assert helped.case_id != risky.case_id
    mod_page = as_role("moderator").get(f"/people/facebook/{PERSON}").get_data(as_text=True)
    assert item_order(mod_page) == [helped.id] and f"/cases/{risky.case_id}" not in mod_page
    assert "safeguarding" not in mod_page.split("<main")[1].lower()
    lead_page = (
        as_role("safeguarding_lead").get(f"/people/facebook/{PERSON}").get_data(as_text=True)
    )
    assert (
        set(item_order(lead_page)) == {risky.id, helped.id} and "better off without me" in lead_page
    )
    only_risk = "6000000000000999"
    comment(app, feeder, RISK, author=only_risk)
    assert as_role("admin").get(f"/people/facebook/{only_risk}").status_code == 404


def _people_found(page: str) -> list[str]:
    """The person pages linked from the search results, in order."""
    found = page.split('id="find"')[1].split("Removed from the community")[0]
    return re.findall(r'href="/people/facebook/(\d+)"', found)


def test_people_are_found_by_part_of_their_name_in_any_case_and_only_where_the_role_may_see(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    feeder = app.test_client()
    comment(app, feeder, HELP, author=PERSON, name="Sam Ellis")
    comment(app, feeder, RISK, author="6000000000000777", name="Riley Ellison", age_seconds=300)
    mod = as_role("moderator")
    page = mod.get("/people?q=ELL").get_data(as_text=True)
    assert _people_found(page) == [PERSON]
    assert "Sam E." in page and "Ellis" not in page.replace('value="ELL"', "")
    assert _people_found(mod.get("/people?q=riley").get_data(as_text=True)) == []
    assert "Nobody whose name or handle contains" in mod.get("/people?q=riley").get_data(
        as_text=True
    )
    lead = as_role("safeguarding_lead").get("/people?q=ell").get_data(as_text=True)
    assert _people_found(lead) == ["6000000000000777", PERSON]  # the newest first
    assert "Type at least 2 letters" in mod.get("/people?q=s").get_data(as_text=True)


def test_people_found_come_a_page_at_a_time(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    feeder = app.test_client()
    authors = [f"60000000000008{n:02d}" for n in range(5)]
    for n, author in enumerate(authors):
        comment(app, feeder, HELP, author=author, name=f"Alex Morgan{n}", age_seconds=900 - n)
    settings = app.extensions["haven"].settings
    config = settings.config.model_copy(
        update={"dashboard": settings.config.dashboard.model_copy(update={"page_size": 2})}
    )
    app.extensions["haven"].settings = settings.model_copy(update={"config": config})
    mod = as_role("moderator")
    first = mod.get("/people?q=morgan").get_data(as_text=True)
    assert "Page 1 of 3 (5)" in first and "q=morgan" in first
    pages = [first] + [mod.get(f"/people?q=morgan&page={n}").get_data(as_text=True) for n in (2, 3)]
    shown = [author for page in pages for author in _people_found(page)]
    assert shown == list(reversed(authors))
