"""Row builders for the size benchmark: every column from the models, as Haven would store it."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import TypeDecorator

from bot.models import AuditEntry, ReplyDraft
from bot.models.alerts import Alert

_DIALECT = postgresql.dialect()


def fill(table: Table, given: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Every column of the table: given values, else the model default, else NULL."""
    row: dict[str, Any] = {}
    for column in table.columns:
        if column.name in given:
            value = given[column.name]
        elif column.default is not None and column.default.is_scalar:
            value = column.default.arg
        elif column.default is not None and column.default.is_callable:
            value = now  # the only callable defaults are utcnow (and list/dict, set below)
            probe = column.default.arg(None)  # type: ignore[operator]
            value = probe if not isinstance(probe, datetime) else now
        elif column.server_default is not None:
            continue  # the database fills it
        elif column.nullable or column.primary_key:
            value = None
        else:
            raise ValueError(f"{table.name}.{column.name}: no value and no default")
        if isinstance(column.type, JSON) and value is not None:
            value = json.dumps(value)
        elif isinstance(column.type, TypeDecorator) and value is not None:
            # What the ORM would store: encrypted text is sealed here, as Haven seals it.
            process = column.type.bind_processor(_DIALECT)
            value = process(value) if process else value
        row[column.name] = value
    return row


def audit_row(
    number: int, at: datetime, categories: list[str], tail: str, now: datetime
) -> dict[str, Any]:
    """An `item.processed` entry, linked into the audit hash chain when the schema has one."""
    given: dict[str, Any] = {
        "id": number, "at": at, "actor": "system", "action": "item.processed",
        "subject_type": "item", "subject_id": str(number), "detail": {"categories": categories},
    }  # fmt: skip
    if "entry_hash" in AuditEntry.__table__.columns:  # type: ignore[attr-defined]
        from bot.audit.chain import compute_hash

        given["prev_hash"] = tail
        given["entry_hash"] = compute_hash(prev_hash=tail, **{k: given[k] for k in (
            "at", "actor", "action", "subject_type", "subject_id", "detail")})  # fmt: skip
    return fill(AuditEntry.__table__, given, now)  # type: ignore[attr-defined]


def alert_row(
    number: int, item: dict[str, Any], case: dict[str, Any], now: datetime, rng: random.Random
) -> dict:  # type: ignore[type-arg]
    """The safeguarding alert a risk finding raises; the queue sorts unacknowledged
    out-of-hours ones first, so some of the open cases' alerts are left unacknowledged."""
    at = item["received_at"]
    acknowledged = None if case["open"] and rng.random() < 0.5 else at + timedelta(minutes=20)
    return fill(Alert.__table__, {  # type: ignore[attr-defined]
        "id": number, "dedupe_key": f"risk:item:{item['id']}", "kind": "safeguarding",
        "category": "risk.suicide", "severity": "critical", "roles": ["safeguarding_lead"],
        "case_id": case["id"], "item_id": item["id"], "out_of_hours": rng.random() < 0.3,
        "created_at": at, "routed_at": at, "acknowledged_at": acknowledged}, now)  # fmt: skip


def draft_row(number: int, item: dict[str, Any], case: dict[str, Any], now: datetime) -> dict:  # type: ignore[type-arg]
    kind = "dm" if case["channel"].endswith("dm") else "private"
    status = "draft" if case["open"] else ("sent", "rejected")[number % 2]
    return fill(ReplyDraft.__table__, {  # type: ignore[attr-defined]
        "id": number, "item_id": item["id"], "case_id": case["id"], "kind": kind,
        "template": f"{case['type']}_first", "status": status,
        "text": "Thank you for getting in touch. We're here to listen; could we message you?",
        "created_at": item["received_at"], "updated_at": item["received_at"]}, now)  # fmt: skip


def delivery_body(page: str, external: str, author: str, text: str, at: datetime, dm: bool) -> str:
    """The webhook body Meta would have sent (kept verbatim in inbound_events)."""
    stamp = int(at.timestamp())
    if dm:
        event = {"sender": {"id": author}, "recipient": {"id": page}, "timestamp": stamp * 1000,
                 "message": {"mid": external, "text": text}}  # fmt: skip
        entry = {"id": page, "time": stamp * 1000, "messaging": [event]}
    else:
        value = {"item": "comment", "verb": "add", "post_id": f"{page}_900000000000001",
                 "comment_id": external, "from": {"id": author, "name": "Jo Visitor"},
                 "message": text, "created_time": stamp}  # fmt: skip
        entry = {"id": page, "time": stamp, "changes": [{"field": "feed", "value": value}]}
    return json.dumps({"object": "page", "entry": [entry]}, separators=(",", ":"))
