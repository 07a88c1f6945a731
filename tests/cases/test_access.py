"""bot/cases/access.py on SQLite and PostgreSQL: everything on a safeguarding case (an item that
joined it late included) is the lead's and deputy's alone, and the SQL forms agree with the rest."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.audit import record
from bot.cases import access
from bot.db import session_scope
from bot.models import AuditEntry, Item, OutboundAction, ReplyDraft
from bot.models.alerts import Alert
from bot.models.directory import Introduction, SupportResource
from tests.privacy.support import OTHER, PERSON, seed_message

OTHERS = ("moderator", "admin")
LEAD_AND_DEPUTY = ("safeguarding_lead", "safeguarding_deputy")


@dataclass
class World:
    walled_case: int
    open_case: int
    late_item: int  # joined the safeguarding case after its draft and alert were written
    late_draft: int
    walled_subjects: set[tuple[str, str]]
    open_subjects: set[tuple[str, str]]


def _on(db: Session, item_id: int, case_id: int | None, key: str) -> dict[str, int]:
    """An outbound action, an alert and an introduction (if there is a case) about an item."""
    action = OutboundAction(
        idempotency_key=key, kind="hide", item_id=item_id, account_id="p", requested_by="test"
    )
    # Raised before the item was on any case: only the item says where it is now.
    alert = Alert(dedupe_key=key, kind="finding", category="pii.phone", roles=["moderator"])
    alert.item_id = item_id
    db.add_all([action, alert])
    ids = {"action": action, "alert": alert}
    if case_id is not None:
        intro = Introduction(case_id=case_id, resource_id=1, live_key=key)
        db.add(intro)
        ids["introduction"] = intro
    db.flush()
    return {kind: row.id for kind, row in ids.items()}  # type: ignore[misc]


@pytest.fixture
def world(migrated_engine: Engine) -> World:
    with session_scope(migrated_engine) as db:
        db.add(SupportResource(kind="group", name="G.", topics=[], contact_route="x"))
        walled = seed_message(db, author=PERSON, case_type="safeguarding")
        late = seed_message(db, author=PERSON, case_type=None)
        helped = seed_message(db, author=OTHER, case_type="support")
        db.get(Item, late.item_id).case_id = walled.case_id  # type: ignore[union-attr]
        on_wall = _on(db, late.item_id, walled.case_id, "late")
        off_wall = _on(db, helped.item_id, helped.case_id, "open")
        walled_subjects = {
            ("case", str(walled.case_id)),
            ("item", str(walled.item_id)),
            ("item", str(late.item_id)),
            ("draft", str(walled.draft_id)),
            ("draft", str(late.draft_id)),
            *((kind, str(row)) for kind, row in on_wall.items()),
        }
        open_subjects = {
            ("case", str(helped.case_id)),
            ("item", str(helped.item_id)),
            ("draft", str(helped.draft_id)),
            *((kind, str(row)) for kind, row in off_wall.items()),
            ("user", "1"),
            ("account", PERSON),  # an id that is not a number, compared as text
        }
        for kind, subject in sorted(walled_subjects | open_subjects):
            record(db, "system", f"{kind}.touched", kind, subject)
    return World(
        walled.case_id,  # type: ignore[arg-type]
        helped.case_id,  # type: ignore[arg-type]
        late.item_id,
        late.draft_id,
        walled_subjects,
        open_subjects,
    )


def test_audit_entries_about_anything_on_a_safeguarding_case_are_the_leads_alone(
    migrated_engine: Engine, world: World
) -> None:
    def seen(role: str) -> set[tuple[str, str]]:
        with Session(migrated_engine) as db:
            rows = db.exec(
                select(AuditEntry.subject_type, AuditEntry.subject_id).where(
                    AuditEntry.action.endswith(".touched"),
                    access.audit_entries_seen_by(role),
                )
            ).all()
        return {(kind, subject) for kind, subject in rows}  # type: ignore[misc]

    for role in OTHERS:
        assert seen(role) == world.open_subjects, role
    for role in LEAD_AND_DEPUTY:
        assert seen(role) == world.open_subjects | world.walled_subjects, role


def test_an_item_that_joined_a_safeguarding_case_takes_its_draft_alert_and_person_along(
    migrated_engine: Engine, world: World
) -> None:
    with Session(migrated_engine) as db:
        draft = db.get(ReplyDraft, world.late_draft)
        assert draft is not None and draft.case_id is None
        alert = db.exec(select(Alert).where(Alert.item_id == world.late_item)).one()
        for role in OTHERS:
            assert not access.may_act_on_draft(db, role, draft)
            assert not access.may_see_item(db, role, db.get(Item, world.late_item))
            assert not access.may_see_alert(db, role, alert)
            assert not db.exec(select(access.person_seen_by(role, "facebook", PERSON))).one()
            assert db.exec(select(access.person_seen_by(role, "facebook", OTHER))).one()
            assert access.count_alerts_seen(db, role) == 1  # the other person's
        for role in LEAD_AND_DEPUTY:
            assert access.may_act_on_draft(db, role, draft)
            assert access.may_see_alert(db, role, alert)
            assert db.exec(select(access.person_seen_by(role, "facebook", PERSON))).one()
        assert access.case_of_draft(db, draft).id == world.walled_case  # type: ignore[union-attr]
        audience = access.alert_audience(db, alert)
        assert audience == access.Audience(("safeguarding_deputy", "safeguarding_lead"), True)
        other = db.exec(select(Alert).where(Alert.item_id != world.late_item)).one()
        assert access.alert_audience(db, other) == access.Audience(("moderator",), False)
        seen_items = db.exec(select(Item.id).where(access.items_seen_by("admin"))).all()
        assert world.late_item not in seen_items and len(seen_items) == 1
