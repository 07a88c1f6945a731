"""What every drill sends and what it asserts afterwards: nothing lost, nothing done twice."""

from __future__ import annotations

import http.client
import json
import time
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.models import AuditEntry, Case, Finding, Item, OutboundAction, ReplyDraft
from bot.models.alerts import Alert
from tests.helpers import APP_SECRET, page_comment
from webhooks.signature import sign

# What a charity page gets: thanks, questions, help, a phone number (hidden automatically),
# risk (a safeguarding case and an alert). Every kind of work the worker does is exercised.
TEXTS = (
    "Thank you so much for the coffee morning, the kids loved it",
    "Is the Tuesday group still on this week?",
    "Does anyone else feel like they're failing? I really need someone to talk to",
    "Call me on 07700 900123 if you have spare school uniform",
    "I feel like giving up, nobody listens, I want to end it all",
    "Is there a solicitor who can help with a custody hearing?",
)


@dataclass(frozen=True)
class Delivery:
    body: bytes
    external_id: str


def burst(count: int, tag: str, *, authors: int = 7) -> list[Delivery]:
    """`count` distinct comment deliveries; a few authors, so cases are joined as well as made."""
    out = []
    for n in range(count):
        external_id = f"900000000000001_{tag}{n:05d}"
        payload = page_comment(
            f"{TEXTS[n % len(TEXTS)]} ({tag}{n})",
            comment=f"{tag}{n:05d}",
            author=f"600000000{n % authors:07d}",
        )
        out.append(Delivery(json.dumps(payload).encode(), external_id))
    return out


def post(port: int, body: bytes, timeout: float = 15) -> str:
    """One signed POST; the status as text, or the name of the error (refused, reset...)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, APP_SECRET)}
    try:
        connection.request("POST", "/webhooks/meta", body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return str(response.status)
    except (OSError, http.client.HTTPException) as exc:
        return type(exc).__name__
    finally:
        connection.close()


def post_all(
    port: int, deliveries: Iterable[Delivery], threads: int = 8, *, pause: float = 0.0
) -> list[str]:
    """Answers in delivery order; `pause` spreads a burst out so a fault lands inside it."""

    def send(delivery: Delivery) -> str:
        time.sleep(pause)
        return post(port, delivery.body)

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(send, deliveries))


def stored_ids(engine: Engine) -> Counter[str]:
    with Session(engine) as session:
        return Counter(session.exec(select(Item.external_id)).all())


def unfinished(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(
            select(func.count())
            .select_from(Item)
            .where(Item.status.in_(("received", "processing")))
        ).one()


def assert_nothing_lost_or_doubled(engine: Engine, expected_external_ids: set[str]) -> None:
    """Every delivered update stored once and judged once; every effect at most once."""
    with Session(engine) as session:
        items = session.exec(select(Item)).all()
        ids = Counter(item.external_id for item in items)
        assert set(ids) == expected_external_ids, "stored items differ from those delivered"
        statuses = Counter(item.status for item in items)
        assert set(statuses) <= {"processed", "superseded"}, statuses
        # The record written when an item's judgement is committed (it carries categories;
        # the one written when an edit retires older versions carries those versions' ids).
        entries = session.exec(
            select(AuditEntry.subject_id, AuditEntry.detail).where(
                AuditEntry.action.in_(("item.processed", "item.superseded"))
            )
        ).all()
        judged = Counter(subject for subject, detail in entries if "categories" in detail)
        assert judged == Counter(str(item.id) for item in items), "an item judged twice or never"
        pairs = session.exec(select(Finding.item_id, Finding.rule)).all()
        assert len(pairs) == len(set(pairs)), "a finding stored twice"
        drafts = session.exec(select(ReplyDraft.item_id, ReplyDraft.kind)).all()
        assert len(drafts) == len(set(drafts)), "a reply drafted twice"
        keys = session.exec(select(Case.open_key).where(Case.open_key.is_not(None))).all()
        assert len(keys) == len(set(keys)), "two open cases for one person and thread"
        actions = session.exec(select(OutboundAction.idempotency_key)).all()
        assert len(actions) == len(set(actions)), "an action recorded twice"
        done = Counter(
            session.exec(
                select(AuditEntry.subject_id).where(AuditEntry.action == "action.done")
            ).all()
        )
        assert all(n == 1 for n in done.values()), "an action carried out twice"
        alerts = session.exec(select(Alert.dedupe_key)).all()
        assert len(alerts) == len(set(alerts))
        # Every item with findings that open a case is on one.
        risky = session.exec(
            select(Item.id)
            .join(Finding, Finding.item_id == Item.id)
            .where(Finding.category.like("risk.%"), Item.case_id.is_(None))
        ).all()
        assert not risky, "a risk finding without a case"


def processed(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(
            select(func.count()).select_from(Item).where(Item.status == "processed")
        ).one()


def warm_up(port: int, engine: Engine) -> set[str]:
    """One delivery through the whole stack, so the burst starts with every process ready."""
    from tests.drills.services import wait_until

    (delivery,) = burst(1, "w")
    assert post(port, delivery.body) == "200"
    wait_until(lambda: processed(engine) == 1, 60, "the warm-up item to be processed")
    return {delivery.external_id}


def assert_no_text_in_logs(logs: bytes) -> None:
    """Message text never reaches a log at INFO, not even in an outage's tracebacks."""
    for text in TEXTS:
        assert text[:24].encode() not in logs, "message text in a log"
