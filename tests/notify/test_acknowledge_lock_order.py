"""Acknowledging an escalation while a page of it is being sent: the two transactions queue one
behind the other on PostgreSQL, never each waiting for the other.

The delivery job locks its delivery row, then inserts the message's acknowledge link, whose
foreign key takes a key-share lock on the escalation. Acknowledging clears the escalation's
`open_key` (a unique column, so its row is locked FOR UPDATE) and cancels the pages not yet
sent. Taken escalation-first, a page being sent at that moment deadlocked them (seen in the
end-to-end escalation flow under load); `acknowledge` now takes the pending pages first.
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import update
from sqlmodel import Session

from bot.db import make_engine
from bot.models import Case, User, utcnow
from bot.models.alerts import AckLink, Alert, AlertDelivery, Escalation
from bot.notify.escalation import acknowledge

pytestmark = pytest.mark.postgres


def test_a_page_being_sent_while_the_lead_acknowledges_does_not_deadlock(
    migrated_postgres_url: str,
) -> None:
    engine = make_engine(migrated_postgres_url)
    with Session(engine) as db:
        lead = User(username="sam", password_hash="x", role="safeguarding_lead")
        case = Case(case_type="safeguarding", platform="facebook", account_id="1")
        db.add_all([lead, case])
        db.flush()
        escalation = Escalation(
            case_id=case.id, open_key=f"case:{case.id}", category="risk.suicide", severity="high"
        )
        db.add(escalation)
        db.flush()
        alert = Alert(dedupe_key="esc:1:0", kind="escalation", escalation_id=escalation.id)
        db.add(alert)
        db.flush()
        page = AlertDelivery(alert_id=alert.id, channel="email", recipient="sam@example.org")
        db.add(page)
        db.commit()
        ids = (lead.id, escalation.id, page.id)
    lead_id, escalation_id, page_id = ids

    # The delivery job's first transaction, up to the point where it holds its page.
    sender = Session(engine)
    sender.exec(update(AlertDelivery).where(AlertDelivery.id == page_id).values(status="sending"))
    outcome: dict[str, object] = {}

    def lead_acknowledges() -> None:
        try:
            with Session(engine) as db:
                found = db.get(Escalation, escalation_id)
                assert found is not None
                outcome["acknowledged"] = acknowledge(
                    db, found, user_id=lead_id, via="inbox", now=utcnow()
                )
                db.commit()
        except Exception as exc:  # a deadlock surfaces here or in the sender
            outcome["error"] = exc

    lead = threading.Thread(target=lead_acknowledges)
    lead.start()
    time.sleep(0.5)  # the lead's transaction now waits for the page being sent
    # The job issues the message's acknowledge link, then commits.
    sender.add(AckLink(token_sha256="a" * 64, escalation_id=escalation_id, delivery_id=page_id))
    sender.commit()
    sender.close()
    lead.join(timeout=30)
    assert not lead.is_alive()
    assert "error" not in outcome, outcome.get("error")
    assert outcome["acknowledged"] is True
    with Session(engine) as db:
        ended = db.get(Escalation, escalation_id)
        assert ended is not None and (ended.status, ended.open_key) == ("acknowledged", None)
        sent = db.get(AlertDelivery, page_id)
        assert sent is not None and sent.status == "sending"  # already on its way: not cancelled
    engine.dispose()
