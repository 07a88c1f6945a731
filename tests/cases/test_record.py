"""The safeguarding record (bot/cases/record.py) and telling partner agencies
(bot/cases/partners.py), on SQLite and on real PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session, select

from bot.cases import partners, record
from bot.cases.record import Keeper, NewEntry, NotNow, Refused
from bot.crypto import generate_key, install_keys
from bot.crypto_rotate import rotate
from bot.db import session_scope
from bot.models import AuditEntry, Case, Finding, InboundEvent, Item, User, utcnow
from bot.models.alerts import Alert
from bot.models.dashboard import CaseEvent
from bot.models.record import PartnerTask, RecordEntry
from tests.helpers import DATA_KEY

WORDS = "I can't see a way through this any more"
PARTNER = "Northshire Adoption Support"
LEAD, DEPUTY = "safeguarding_lead", "safeguarding_deputy"


@pytest.fixture
def engine(migrated_engine: Engine) -> Engine:
    return migrated_engine


def _people(engine: Engine) -> dict[str, int]:
    with session_scope(engine) as session:
        users = [User(username=r, password_hash="x", role=r) for r in (LEAD, DEPUTY, "moderator")]
        session.add_all(users)
        session.flush()
        return {u.role: u.id for u in users}  # type: ignore[misc]


def _case(engine: Engine, *, risk: bool = True, case_type: str = "safeguarding") -> int:
    """A case holding one comment; with `risk`, Haven found a risk of suicide in it."""
    with session_scope(engine) as session:
        case = Case(case_type=case_type, platform="facebook", account_id="1", author_id="42")
        event = InboundEvent(body_sha256=Fernet.generate_key().hex()[:64], body="{}")
        session.add_all([case, event])
        session.flush()
        written = utcnow() - timedelta(minutes=30)
        item = Item(
            event_id=event.id,
            delivery_key=f"k{case.id}",
            platform="facebook",
            channel="fb_comment",
            verb="add",
            account_id="1",
            external_id=f"c{case.id}",
            author_id="42",
            text=WORDS,
            created_at=written,
            received_at=written + timedelta(seconds=4),
            case_id=case.id,
        )
        session.add(item)
        session.flush()
        if risk:
            session.add(
                Finding(item_id=item.id, rule="risk-1", category="risk.suicide", severity="high")
            )
        return case.id  # type: ignore[return-value]


def _entry(kind: str = "action", **given: object) -> NewEntry:
    fields: dict = {"basis": "fact", "happened_at": utcnow(), "text": "Phoned the person back"}
    return NewEntry(kind=kind, **{**fields, **given})  # type: ignore[arg-type]


def _add(engine: Engine, case_id: int, user_id: int, entry: NewEntry, role: str = LEAD) -> int:
    with session_scope(engine) as session:
        row = record.add_entry(session, case_id, entry, Keeper(user_id, role, utcnow()))
        return row.id  # type: ignore[return-value]


def test_the_concern_opens_with_the_words_when_and_who_raised_it(engine: Engine) -> None:
    case_id = _case(engine)
    with Session(engine) as session:
        concern = record.concern_of(session, session.get(Case, case_id))  # type: ignore[arg-type]
    assert concern is not None
    assert (concern.words, concern.raised_by, concern.by_staff) == (WORDS, "Haven", False)
    assert concern.found == "risk of suicide"
    assert concern.recorded_at - concern.happened_at == timedelta(seconds=4)


def test_a_concern_a_member_of_staff_raised_names_them_and_their_reason(engine: Engine) -> None:
    people = _people(engine)
    case_id = _case(engine, risk=False)
    with session_scope(engine) as session:
        session.add(
            CaseEvent(
                case_id=case_id,
                actor_id=people["moderator"],
                kind="status",
                from_status="new",
                to_status="escalated",
                text="Sounds like she means it",
            )
        )
    with Session(engine) as session:
        concern = record.concern_of(session, session.get(Case, case_id))  # type: ignore[arg-type]
    assert concern is not None and concern.by_staff
    assert (concern.raised_by, concern.words) == ("moderator", WORDS)
    assert concern.staff_reason == "Sounds like she means it"


def test_entries_are_encrypted_at_rest_and_the_database_refuses_to_change_them(
    engine: Engine,
) -> None:
    people = _people(engine)
    case_id = _case(engine)
    entry_id = _add(
        engine,
        case_id,
        people[LEAD],
        _entry(
            "decision",
            basis="opinion",
            text="No referral to children's services",
            reason="Mum is safe and has her GP tomorrow",
            decision="no_referral",
            told_whom="Duty social worker A.B.",
        ),
    )
    with engine.connect() as connection:
        raw = connection.execute(
            text("SELECT text, reason, told_whom FROM safeguarding_record_entries")
        ).one()
    assert all(value.startswith("enc1:gAAAAA") for value in raw)
    assert not any("GP tomorrow" in value or "social worker" in value for value in raw)
    with Session(engine) as session:
        (kept,) = record.entries_of(session, case_id)
        assert (kept.reason, kept.decision, kept.basis) == (
            "Mum is safe and has her GP tomorrow",
            "no_referral",
            "opinion",
        )
    statements = (
        "UPDATE safeguarding_record_entries SET text = 'something else'",
        "UPDATE safeguarding_record_entries SET basis = 'fact'",
        "DELETE FROM safeguarding_record_entries",
    )
    for statement in statements:
        with pytest.raises(DatabaseError, match="append-only"):
            with engine.begin() as connection:
                connection.execute(text(statement))
    # A new key re-seals the record too (the one change the database allows).
    new = generate_key()
    try:
        install_keys([new, DATA_KEY])
        assert rotate(engine)["safeguarding_record_entries"] == 1
        install_keys([new])
        with Session(engine) as session:
            kept = session.get(RecordEntry, entry_id)
            assert kept is not None and kept.reason == "Mum is safe and has her GP tomorrow"
    finally:
        install_keys([DATA_KEY])


def test_only_the_lead_and_deputy_keep_the_record_and_bad_entries_are_refused(
    engine: Engine,
) -> None:
    people = _people(engine)
    case_id = _case(engine)
    refusals = [
        (_entry(), "moderator", "Only the safeguarding lead and deputy"),
        (_entry(basis="feeling"), LEAD, "fact or an opinion"),
        (_entry(text="   "), LEAD, "what happened"),
        (_entry(happened_at=utcnow() + timedelta(hours=1)), LEAD, "in the future"),
        (_entry("decision", decision="no_referral"), LEAD, "reason for the decision"),
        (_entry("decision", reason="because"), LEAD, "Choose the decision"),
        (_entry("sign_off"), LEAD, "action, a decision or the outcome"),
    ]
    for entry, role, why in refusals:
        with pytest.raises(Refused, match=why):
            with session_scope(engine) as session:
                record.add_entry(
                    session, case_id, entry, Keeper(people["moderator"], role, utcnow())
                )
    _add(engine, case_id, people[DEPUTY], _entry(by_whom="the deputy"), role=DEPUTY)
    with Session(engine) as session:
        (entry,) = record.entries_of(session, case_id)
        assert (entry.kind, entry.by_whom, entry.addendum) == ("action", "the deputy", False)
        audit = session.exec(
            select(AuditEntry).where(AuditEntry.action == "record.entry_added")
        ).one()
    assert audit.detail["kind"] == "action" and audit.subject_id == str(case_id)
    assert "Phoned" not in str(audit.detail)  # what was written never reaches the audit log


def test_the_lead_signs_off_when_it_is_complete_and_later_entries_are_addenda(
    engine: Engine,
) -> None:
    people = _people(engine)
    case_id = _case(engine)
    with session_scope(engine) as session:
        partners.open_partner_task(
            session, case_id, PARTNER, "risk.suicide", utcnow(), automatic=False
        )

    def sign(role: str) -> None:
        with session_scope(engine) as session:
            record.sign_off(
                session, case_id, "Closed: safe plan in place", Keeper(people[role], role, utcnow())
            )

    with pytest.raises(Refused, match="Only the safeguarding lead signs off"):
        sign(DEPUTY)
    with pytest.raises(NotNow) as refused:
        sign(LEAD)
    assert str(refused.value) == (
        "Before signing off, the record needs a decision on referring on, with its reason; "
        f"the outcome; to tell {PARTNER}, or a decision not to."
    )
    referred = _entry(
        "decision",
        basis="opinion",
        text="Refer to CSC",
        decision="refer",
        reason="A child is at risk",
    )
    _add(engine, case_id, people[LEAD], referred)
    _add(engine, case_id, people[LEAD], _entry("outcome", text="CSC took it on"))
    with session_scope(engine) as session:
        (task,) = partners.tasks_of(session, case_id)
        partners.record_not_told(
            session,
            case_id,
            task.id,
            "CSC will tell them",  # type: ignore[arg-type]
            Keeper(people[LEAD], LEAD, utcnow()),
        )
    sign(LEAD)
    with pytest.raises(NotNow, match="already signed off"):
        sign(LEAD)
    _add(engine, case_id, people[DEPUTY], _entry(text="CSC visited"), role=DEPUTY)
    with Session(engine) as session:
        entries = record.entries_of(session, case_id)
        kept = record.record_of(session, case_id)
    assert [(e.kind, e.addendum) for e in entries] == [
        ("decision", False),
        ("outcome", False),
        ("decision", False),
        ("sign_off", False),
        ("action", True),
    ]
    assert entries[3].text == "Closed: safe plan in place" and entries[3].basis is None
    assert kept is not None and kept.signed_off_by == people[LEAD]
    # Not telling the partner is recorded as a decision, but not as the one on referring on.
    assert (entries[2].decision, entries[2].reason) == ("other", "CSC will tell them")


def test_telling_a_partner_is_recorded_once_with_who_when_how_and_in_writing(
    engine: Engine,
) -> None:
    people = _people(engine)
    case_id = _case(engine)
    now = utcnow()
    with session_scope(engine) as session:
        alert = Alert(dedupe_key="t", kind="partner_task", case_id=case_id, partner=PARTNER)
        session.add(alert)
        session.flush()
        first = partners.open_partner_task(
            session, case_id, PARTNER, "risk.suicide", now, automatic=False
        )
        assert first is not None
        first.alert_id = alert.id
        again = partners.open_partner_task(
            session, case_id, PARTNER, "risk.suicide", now, automatic=False
        )
        assert again is None  # one task per case and partner, however many messages
        task_id = first.id
    told = partners.Told(
        by_whom="lead",
        told_whom="K. at the duty desk",
        how="phone",
        at=now - timedelta(minutes=10),
        confirmed_in_writing=False,
    )

    def tell(role: str, how: partners.Told = told) -> None:
        with session_scope(engine) as session:
            keeper = Keeper(people[role], role, now)
            partners.record_told(session, case_id, task_id, how, keeper)  # type: ignore[arg-type]

    with pytest.raises(Refused, match="Only the safeguarding lead and deputy"):
        tell("moderator")
    with pytest.raises(Refused, match="Choose how"):
        tell(LEAD, partners.Told(**{**told.__dict__, "how": "carrier pigeon"}))
    with pytest.raises(Refused, match="when it was confirmed"):
        tell(LEAD, partners.Told(**{**told.__dict__, "confirmed_in_writing": True}))
    tell(DEPUTY)
    with pytest.raises(NotNow, match="already recorded as done"):
        tell(LEAD)
    deputy = Keeper(people[DEPUTY], DEPUTY, now)
    with session_scope(engine) as session:
        partners.record_confirmed(session, case_id, task_id, "deputy", now, deputy)  # type: ignore[arg-type]
    with pytest.raises(NotNow, match="no telling"):
        with session_scope(engine) as session:
            partners.record_confirmed(session, case_id, task_id, "deputy", now, deputy)  # type: ignore[arg-type]
    with Session(engine) as session:
        phoned, wrote = record.entries_of(session, case_id)
        task = session.get(PartnerTask, task_id)
        acknowledged = session.get(Alert, alert.id)
    assert (phoned.kind, phoned.basis, phoned.partner, phoned.how) == (
        "action",
        "fact",
        PARTNER,
        "phone",
    )
    assert (phoned.by_whom, phoned.told_whom) == ("lead", "K. at the duty desk")
    assert phoned.happened_at == told.at and phoned.confirmed_in_writing is False
    assert (wrote.confirmed_in_writing, wrote.confirmed_at) == (True, now)
    assert task is not None and (task.status, task.entry_id, task.done_by) == (
        "told",
        phoned.id,
        people[DEPUTY],
    )
    assert task.confirmed_at == now
    assert acknowledged is not None and acknowledged.acknowledged_by == people[DEPUTY]


def test_the_draft_for_a_partner_names_the_case_and_never_the_person() -> None:
    task = PartnerTask(id=1, case_id=12, partner=PARTNER, category="risk.self_harm")
    draft = partners.draft_notice(task, organisation="Haven Support", when="Wed 11 Mar 2026")
    assert "Haven Support reference case 12" in draft and "(self-harm)" in draft
    assert PARTNER in draft and WORDS not in draft and "42" not in draft


def test_support_and_introductions_stay_closed_on_a_safeguarding_case_until_opened(
    engine: Engine,
) -> None:
    people = _people(engine)
    safeguarding, support = _case(engine), _case(engine, risk=False, case_type="support")
    with Session(engine) as session:
        assert record.support_open(session, session.get(Case, support))  # type: ignore[arg-type]
        assert not record.support_open(session, session.get(Case, safeguarding))  # type: ignore[arg-type]
    with pytest.raises(Refused):
        with session_scope(engine) as session:
            record.open_support(
                session, safeguarding, Keeper(people["moderator"], "moderator", utcnow())
            )
    for expected in (True, False):  # the second time changes nothing
        with session_scope(engine) as session:
            opened = record.open_support(
                session, safeguarding, Keeper(people[LEAD], LEAD, utcnow())
            )
        assert opened is expected
    with Session(engine) as session:
        assert record.support_open(session, session.get(Case, safeguarding))  # type: ignore[arg-type]
        opened_at: datetime | None = record.record_of(session, safeguarding).support_opened_at  # type: ignore[union-attr]
    assert opened_at is not None
