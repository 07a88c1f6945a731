"""Realistic rows for the size benchmark, bulk-loaded into PostgreSQL with COPY.

The rows are built from the models' own columns: a column this file does not set gets its
model default (or NULL), so a column added later by another migration does not break the load.
Ids are given explicitly (foreign keys point at them) and the sequences are moved past them.

Shape (for N items): items spread over two years, ids in arrival order; one inbound event
per item holding its delivery; `open_cases` open and `closed_cases` closed cases of 1-4 items
each by one person in one thread; findings on every item in a case and on ~4% of the others
(personal details, spam); one draft for the first item of each case; one `item.processed`
audit entry per item. Items in closed cases and most other flagged items are reviewed, so the
queue holds what a busy team would really have waiting.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from size_rows import alert_row, audit_row, delivery_body, draft_row, fill
from sqlalchemy import Table

from bot.models import AuditEntry, Case, Finding, InboundEvent, Item, ReplyDraft, User
from bot.models.alerts import Alert

PAGES = ("104000000000777", "104000000000778", "17841400000000901")
TEXTS = (
    "Thank you so much for the coffee morning, the kids loved it",
    "Is the Tuesday group still on this week?",
    "Lovely photos from the picnic!",
    "Where do I find the food bank vouchers?",
    "Brilliant work everyone, so proud to volunteer here",
    "Thinking of you all today x",
    "Any advice on getting an EHCP assessment started?",
    "We're new to the area, what support is there for single dads?",
)
CASE_TEXTS = {
    "support": "I really need someone to talk to about our adoption, it's been so hard lately",
    "safeguarding": "I can't do this anymore, everyone would be better off without me",
    "privacy": "So proud! Call me on 07700 900123, she goes to St Mary's Primary School",
    "moderation": "You lot are useless and so is everyone who works there",
    "complaint": "I want to make a formal complaint about how my call was handled",
}
CASE_MIX = (("support", 60), ("safeguarding", 15), ("privacy", 10), ("moderation", 10),
            ("complaint", 5))  # fmt: skip
CATEGORY = {
    "support": ("help_request.emotional_support", "medium"),
    "safeguarding": ("risk.suicide", "critical"),
    "privacy": ("pii.phone", "high"),
    "moderation": ("abusive.offensive", "medium"),
    "complaint": ("complaint", "medium"),
}
OPEN_STATUSES = ("new", "new", "awaiting_consent", "matched", "follow_up_due", "escalated")
FIRST_NAMES = ("Jo", "Sam", "Alex", "Priya", "Tom", "Aisha", "Megan", "Owen", "Lena", "Kofi")
SPAN = timedelta(days=730)


@dataclass
class Plan:
    """Which items belong to which case; decided before any row is written."""

    items: int
    open_cases: int
    closed_cases: int
    seed: int = 7
    case_of: dict[int, int] = field(default_factory=dict)  # item index -> case id
    cases: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        rng = random.Random(self.seed)
        used: set[int] = set()
        types = [t for t, weight in CASE_MIX for _ in range(weight)]
        number = 0
        while number < self.open_cases + self.closed_cases:
            is_open = number < self.open_cases
            # Open cases are recent (most within 90 days); closed ones span the two years.
            window = 0.12 if is_open else 1.0
            base = self.items - 1 - int(rng.random() ** 1.5 * window * (self.items - 8))
            size = rng.choice((1, 1, 2, 2, 3, 4))
            members = []
            for step in range(size):
                index = min(self.items - 1, base + step * rng.randint(1, 40))
                if index not in used:
                    used.add(index)
                    members.append(index)
            if not members:
                continue  # every slot taken: try another place, so the counts come out exact
            number += 1
            for index in members:
                self.case_of[index] = number
            self.cases.append(
                {"id": number, "open": is_open, "type": rng.choice(types), "items": members}
            )


def item_time(index: int, items: int, now: datetime) -> datetime:
    return now - SPAN + SPAN * (index + 0.5) / items


def _external(index: int, channel: str) -> str:
    return f"m_bench_{index}" if channel.endswith("dm") else f"900000000000001_{index}"


def load(
    dsn: str, plan: Plan, now: datetime, *, batch: int = 50_000, audit: bool = True
) -> dict[str, int]:
    """COPY every table; returns rows written per table."""
    rng = random.Random(plan.seed + 1)
    counts: dict[str, int] = {}
    users = [
        fill(User.__table__, {"id": n, "username": f"bench{n}", "role": role,  # type: ignore[attr-defined]
             "password_hash": "!bench-no-login"}, now)
        for n, role in enumerate(("admin", "moderator", "safeguarding_lead",
                                  "safeguarding_deputy", "moderator"), start=1)
    ]  # fmt: skip
    with psycopg.connect(dsn, autocommit=False) as conn:
        conn.execute("SET synchronous_commit = off")
        counts["users"] = _copy(conn, User.__table__, users)  # type: ignore[attr-defined]
        case_rows, by_case = _cases(plan, now, rng)
        counts["cases"] = _copy(conn, Case.__table__, case_rows)  # type: ignore[attr-defined]
        conn.commit()
        counts |= {"items": 0, "inbound_events": 0, "findings": 0, "reply_drafts": 0, "alerts": 0}
        if audit:
            counts["audit_log"] = 0
        finding_id = draft_id = 0
        tail = "0" * 64
        for start in range(0, plan.items, batch):
            events, items, findings, drafts, entries, alerts = [], [], [], [], [], []
            for index in range(start, min(plan.items, start + batch)):
                event, item, flagged = _item(index, plan, by_case, now, rng)
                at = item_time(index, plan.items, now) + timedelta(milliseconds=40)
                events.append(event)
                items.append(item)
                for category, severity, span in flagged:
                    finding_id += 1
                    findings.append(fill(Finding.__table__, {  # type: ignore[attr-defined]
                        "id": finding_id, "item_id": index + 1, "rule": category + ".bench",
                        "category": category, "severity": severity, "score": 1.0,
                        "span_start": span[0], "span_end": span[1],
                        "created_at": item["received_at"]}, now))  # fmt: skip
                case_id = plan.case_of.get(index)
                if case_id and by_case[case_id]["items"][0] == index:
                    draft_id += 1
                    drafts.append(draft_row(draft_id, item, by_case[case_id], now))
                    if by_case[case_id]["type"] == "safeguarding":
                        alerts.append(alert_row(len(alerts) + counts["alerts"] + 1, item,
                                             by_case[case_id], now, rng))  # fmt: skip
                if audit:
                    entry = audit_row(index + 1, at, [f[0] for f in flagged], tail, now)
                    tail = entry.get("entry_hash") or tail
                    entries.append(entry)
            counts["inbound_events"] += _copy(conn, InboundEvent.__table__, events)  # type: ignore[attr-defined]
            counts["items"] += _copy(conn, Item.__table__, items)  # type: ignore[attr-defined]
            counts["findings"] += _copy(conn, Finding.__table__, findings)  # type: ignore[attr-defined]
            counts["reply_drafts"] += _copy(conn, ReplyDraft.__table__, drafts)  # type: ignore[attr-defined]
            counts["alerts"] += _copy(conn, Alert.__table__, alerts)  # type: ignore[attr-defined]
            if audit:
                counts["audit_log"] += _copy(conn, AuditEntry.__table__, entries)  # type: ignore[attr-defined]
            conn.commit()
        for table in counts:
            # Later inserts (the bench's own sign-in, audit of page views) need fresh ids.
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            )
        conn.commit()
    return counts


def _cases(
    plan: Plan, now: datetime, rng: random.Random
) -> tuple[list[dict[str, Any]], dict[int, dict[str, Any]]]:
    rows, by_case = [], {}
    for case in plan.cases:
        first, last = case["items"][0], case["items"][-1]
        opened = item_time(first, plan.items, now)
        updated = item_time(last, plan.items, now) + timedelta(minutes=rng.randint(1, 600))
        author = f"61{case['id']:012d}"
        channel = rng.choice(("fb_comment", "fb_comment", "fb_dm", "ig_comment", "ig_dm"))
        page = PAGES[2] if channel.startswith("ig") else rng.choice(PAGES[:2])
        thread = author if channel.endswith("dm") else f"{page}_9{case['id']:011d}"
        category, severity = CATEGORY[case["type"]]
        status = rng.choice(OPEN_STATUSES) if case["open"] else "closed"
        if case["type"] == "safeguarding" and case["open"]:
            status = "escalated"
        by_case[case["id"]] = case | {"author": author, "channel": channel, "page": page,
                                      "thread": thread}  # fmt: skip
        rows.append(fill(Case.__table__, {  # type: ignore[attr-defined]
            "id": case["id"], "case_type": case["type"], "status": status,
            "priority": "urgent" if severity == "critical" else "normal", "severity": severity,
            "platform": "instagram" if channel.startswith("ig") else "facebook",
            "account_id": page, "author_id": author,
            "open_key": f"fb:{page}:{author}:{thread}" if case["open"] else None,
            "opened_at": opened, "updated_at": min(updated, now),
            "closed_at": None if case["open"] else min(updated, now),
            "outcome": None if case["open"] else "signposted",
            "assignee_id": rng.choice((None, 1, 3, 4, 5)),
        }, now))  # fmt: skip
    return rows, by_case


def _item(
    index: int, plan: Plan, by_case: dict[int, dict[str, Any]], now: datetime, rng: random.Random
) -> tuple[dict[str, Any], dict[str, Any], list[tuple[str, str, tuple[int | None, int | None]]]]:
    at = item_time(index, plan.items, now)
    case = by_case.get(plan.case_of.get(index, 0))
    flagged: list[tuple[str, str, tuple[int | None, int | None]]] = []
    if case is not None:
        channel, page, author = case["channel"], case["page"], case["author"]
        text = CASE_TEXTS[case["type"]]
        category, severity = CATEGORY[case["type"]]
        flagged.append((category, severity, (0, min(len(text), 30))))
        reviewed = None if case["open"] and rng.random() < 0.8 else at + timedelta(hours=3)
    else:
        roll = rng.random()
        channel = ("fb_comment", "fb_comment", "fb_comment", "ig_comment", "fb_dm")[index % 5]
        page = PAGES[2] if channel.startswith("ig") else PAGES[index % 2]
        author = f"62{rng.randrange(100_000):012d}"
        text = rng.choice(TEXTS)
        reviewed = None
        if roll < 0.03:
            text, category, severity = CASE_TEXTS["privacy"], "pii.phone", "high"
            flagged.append((category, severity, (16, 29)))
        elif roll < 0.04:
            text, category, severity = "Free followers!!! click here", "spam", "low"
            flagged.append((category, severity, (None, None)))
        if flagged:  # most one-off flags were dealt with long ago; recent ones may wait
            reviewed = at + timedelta(hours=2) if at < now - timedelta(days=3) else None
    dm = channel.endswith("dm")
    external = _external(index, channel)
    post = None if dm else f"{page}_9{(index // 50):011d}"
    thread = (case["thread"] if case else author) if dm else None
    body = delivery_body(page, external, author, text, at, dm)
    event = fill(InboundEvent.__table__, {  # type: ignore[attr-defined]
        "id": index + 1, "body_sha256": hashlib.sha256(body.encode()).hexdigest(),
        "object": "instagram" if channel.startswith("ig") else "page", "body": body,
        "received_at": at, "item_count": 1}, now)  # fmt: skip
    item = fill(Item.__table__, {  # type: ignore[attr-defined]
        "id": index + 1, "event_id": index + 1, "delivery_key": f"{channel}:{external}:add",
        "platform": "instagram" if channel.startswith("ig") else "facebook",
        "channel": channel, "verb": "add", "account_id": page, "external_id": external,
        "post_id": post, "parent_id": post, "thread_id": thread, "author_id": author,
        "author_name": f"{FIRST_NAMES[int(author[-1])]} Visitor", "text": text,
        "attachments": [], "created_at": at - timedelta(seconds=2), "received_at": at,
        "status": "processed", "status_changed_at": at + timedelta(milliseconds=40),
        "attempts": 1, "case_id": case["id"] if case else None, "reviewed_at": reviewed,
        "reviewed_by": 3 if reviewed else None,
        "first_action_at": reviewed}, now)  # fmt: skip
    return event, item, flagged


def _copy(conn: psycopg.Connection, table: Table, rows: Iterable[dict[str, Any]]) -> int:
    rows = list(rows)
    if not rows:
        return 0
    # Only what the migrated schema has: others add model columns while their migrations are
    # still being written, and `--revision` may stop before some.
    present = {r[0] for r in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s", (table.name,)
    )}  # fmt: skip
    columns = [c for c in rows[0] if c in present]
    names = ", ".join(f'"{c}"' for c in columns)
    with conn.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])
    return len(rows)


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
