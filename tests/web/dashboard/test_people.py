"""People: one author's items and cases across channels, and the removal mark."""

from __future__ import annotations

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
