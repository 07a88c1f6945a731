"""Seeding for the data-protection tests: a person's messages, cases, drafts and notes.

Rows are written with the models on a migrated database (SQLite or PostgreSQL), so the same
seed serves retention, export and erasure on both.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import count
from typing import Any

from sqlmodel import Session

from bot.models import Case, Finding, InboundEvent, Item, ReplyDraft, utcnow
from bot.models.dashboard import CaseEvent
from tests.helpers import PAGE_ID

PERSON = "6000000000000042"
OTHER = "6000000000000099"
SECRET_TEXT = "my daughter Lily at Oakfield School"
_numbers = count(1)


@dataclass
class Seeded:
    item_id: int
    event_id: int
    case_id: int | None
    draft_id: int
    note_id: int | None


def seed_message(
    session: Session,
    *,
    author: str = PERSON,
    age_days: float = 100,
    text: str = SECRET_TEXT,
    case_type: str | None = "support",
    with_other: str | None = None,
    now: datetime | None = None,
) -> Seeded:
    """One delivery carrying the person's comment (and another person's, when asked), with a
    finding, a case, a drafted reply and a case note, all `age_days` old."""
    at = (now or utcnow()) - timedelta(days=age_days)
    number = next(_numbers)
    values = [{"from": {"id": author, "name": "Jo Visitor"}, "message": text}]
    if with_other:
        values.append({"from": {"id": with_other, "name": "Sam Other"}, "message": "hello all"})
    body = json.dumps(
        {"object": "page", "entry": [{"id": PAGE_ID, "time": number, "changes": values}]}
    )
    event = InboundEvent(
        body_sha256=hashlib.sha256(body.encode()).hexdigest(),
        object="page",
        body=body,
        received_at=at,
        item_count=len(values),
    )
    session.add(event)
    session.flush()
    case = None
    if case_type:
        case = Case(
            case_type=case_type,
            status="escalated" if case_type == "safeguarding" else "new",
            platform="facebook",
            account_id=PAGE_ID,
            author_id=author,
            open_key=f"facebook:{PAGE_ID}:{author}:{number}",
            opened_at=at,
            updated_at=at,
        )
        session.add(case)
        session.flush()
    item = _item(event.id, author, text, at, number, case.id if case else None, "Jo Visitor")
    session.add(item)
    if with_other:
        session.add(_item(event.id, with_other, "hello all", at, number + 10_000, None, "Sam"))
    session.flush()
    session.add(Finding(item_id=item.id, rule="pii.child_name", category="pii", severity="high"))
    draft = ReplyDraft(
        item_id=item.id,
        case_id=case.id if case else None,
        kind="public",
        template="ack",
        text="Thanks Jo, we will message you",
        created_at=at,
        updated_at=at,
    )
    session.add(draft)
    note = None
    if case:
        note = CaseEvent(case_id=case.id, at=at, kind="note", text="Spoke to Jo about Lily")
        session.add(note)
    session.flush()
    return Seeded(
        item_id=item.id,  # type: ignore[arg-type]
        event_id=event.id,  # type: ignore[arg-type]
        case_id=case.id if case else None,
        draft_id=draft.id,  # type: ignore[arg-type]
        note_id=note.id if note else None,
    )


def _item(
    event_id: int | None,
    author: str,
    text: str,
    at: datetime,
    number: int,
    case_id: int | None,
    name: str,
) -> Item:
    return Item(
        event_id=event_id,  # type: ignore[arg-type]
        delivery_key=f"test:{number}",
        platform="facebook",
        channel="fb_comment",
        verb="add",
        account_id=PAGE_ID,
        external_id=f"900_{number}",
        post_id=f"{PAGE_ID}_900",
        thread_id=f"{PAGE_ID}_900",
        author_id=author,
        author_name=name,
        author_username="jo.v",
        text=text,
        attachments=[{"type": "photo", "url": "https://scontent.example/x.jpg"}],
        created_at=at,
        received_at=at,
        case_id=case_id,
        status="processed",
    )


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def signed_request(payload: dict[str, Any], secret: str) -> str:
    """What Meta sends: base64url(HMAC-SHA256(payload part)) + "." + base64url(JSON)."""
    part = _b64(json.dumps(payload).encode())
    signature = hmac.new(secret.encode(), part.encode(), hashlib.sha256).digest()
    return f"{_b64(signature)}.{part}"


def deletion_payload(user_id: str = PERSON, *, issued_at: int | None = None) -> dict[str, Any]:
    """Meta's payload; issued now unless told otherwise (Haven refuses stale requests)."""
    at = int(time.time()) if issued_at is None else issued_at
    return {"algorithm": "HMAC-SHA256", "expires": 0, "issued_at": at, "user_id": user_id}
