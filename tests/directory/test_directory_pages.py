"""The directory pages: admins add, edit and deactivate; everyone else reads; all audited."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from bot.models import AuditEntry
from bot.models.directory import SupportResource

ENTRY = {
    "kind": "peer_supporter",
    "name": "K. (kinship carer, example)",
    "description": "Has raised two grandchildren",
    "topics": ["kinship_care", "bereavement"],
    "area": "East Suffolk",
    "capacity": "2",
    "load": "0",
    "contact_route": "email via the coordinator",
    "availability": "weekday evenings",
}


def _rows(app: Flask) -> list[SupportResource]:
    with Session(app.extensions["haven"].engine) as db:
        return list(db.exec(select(SupportResource)).all())


def _audit(app: Flask, prefix: str) -> list[AuditEntry]:
    with Session(app.extensions["haven"].engine) as db:
        rows = db.exec(select(AuditEntry).where(AuditEntry.action.startswith(prefix)))
        return list(rows.all())


def test_an_admin_adds_edits_and_deactivates_an_entry(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    admin = as_role("admin")
    assert admin.get("/directory/new").status_code == 200
    assert admin.post("/directory/new", data=ENTRY).status_code == 302
    [entry] = _rows(app)
    assert (entry.topics, entry.capacity, entry.load) == (["kinship_care", "bereavement"], 2, 0)
    page = admin.get("/directory").get_data(as_text=True)
    assert "K. (kinship carer, example)" in page and "kinship care, bereavement" in page
    assert "0 of 2" in page and "email via the coordinator" in page

    edited = {**ENTRY, "capacity": "", "kind": "service", "contact_route": "0800 000 0000"}
    assert admin.post(f"/directory/{entry.id}/edit", data=edited).status_code == 302
    [entry] = _rows(app)
    assert (entry.kind, entry.capacity, entry.contact_route) == ("service", None, "0800 000 0000")
    assert "no set limit" in admin.get("/directory").get_data(as_text=True)

    assert admin.post(f"/directory/{entry.id}/active", data={"active": "0"}).status_code == 302
    assert _rows(app)[0].active is False
    assert f'id="resource-{entry.id}"' not in admin.get("/directory").get_data(as_text=True)
    assert "inactive" in admin.get("/directory?show=all").get_data(as_text=True)

    entries = _audit(app, "directory.")
    assert [e.action for e in entries] == [
        "directory.added",
        "directory.edited",
        "directory.deactivated",
    ]
    assert entries[1].detail == {"fields": ["capacity", "contact_route", "kind"]}
    # Which fields changed, never what they hold: no contact route in the audit log.
    assert all("0800" not in str(e.detail) for e in entries)


def test_a_moderator_and_the_lead_can_read_but_not_change_the_directory(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    as_role("admin").post("/directory/new", data=ENTRY)
    [entry] = _rows(app)
    for role in ("moderator", "safeguarding_lead", "safeguarding_deputy"):
        client = as_role(role)
        page = client.get("/directory").get_data(as_text=True)
        assert "K. (kinship carer, example)" in page and "Add an entry" not in page
        assert client.get("/directory/new").status_code == 403
        assert client.get(f"/directory/{entry.id}/edit").status_code == 403
        assert client.post("/directory/new", data=ENTRY).status_code == 403
        changed = {**ENTRY, "name": "changed"}
        assert client.post(f"/directory/{entry.id}/edit", data=changed).status_code == 403
        assert client.post(f"/directory/{entry.id}/active", data={"active": "0"}).status_code == 403
    assert [(r.name, r.active) for r in _rows(app)] == [("K. (kinship carer, example)", True)]
    assert app.test_client().get("/directory").status_code == 302  # signed out: to the login


def test_a_bad_entry_is_refused_with_the_reasons_and_kept_in_the_form(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    admin = as_role("admin")
    bad = {**ENTRY, "topics": ["gardening"], "capacity": "lots", "contact_route": " "}
    response = admin.post("/directory/new", data=bad)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Choose one or more topics from the list." in page
    assert "The capacity must be a whole number" in page
    assert "The contact route is needed." in page
    assert 'value="K. (kinship carer, example)"' in page
    assert _rows(app) == []
