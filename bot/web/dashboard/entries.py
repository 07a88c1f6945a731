"""Items as staff see them, loaded a page at a time in a fixed number of queries.

A page of 50 items costs six queries (findings, drafts, photos, cases, removal marks, last
messages) whatever its length: nothing is fetched per item.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from bot.cases.access import is_safeguarding
from bot.cases.looks import record_looks
from bot.cases.offers import draft_refusal, is_spam_only
from bot.cases.wording import SEVERITY_WORDS, Concern, concerns
from bot.models import Case, Finding, Item, ReplyDraft
from bot.models.dashboard import PersonMark
from bot.models.photos import PhotoObservation
from bot.web.dashboard.base import (
    CHANNEL_LABELS,
    DM_CHANNELS,
    MESSAGING_WINDOW,
    PRIVATE_REPLY_CHANNELS,
    PRIVATE_REPLY_WINDOW,
    SEVERITY_RANK,
    Segment,
    actor,
    display_author,
    duration,
    highlight,
    permalink,
    restricted,
)


@dataclass(frozen=True)
class Countdown:
    """A limit Meta puts on answering, and how long is left."""

    label: str
    deadline: datetime | None
    state: str  # "open" | "soon" | "closed" | "used"
    text: str


@dataclass
class Entry:
    item: Item
    case: Case | None
    restricted: bool
    author: str
    channel: str
    link: str | None
    removed_mark: PersonMark | None
    segments: list[Segment] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    drafts: list[ReplyDraft] = field(default_factory=list)
    # What was seen in its pictures, or why they were not looked at (bot/photos/outcome.py).
    photos: list[PhotoObservation] = field(default_factory=list)
    countdowns: list[Countdown] = field(default_factory=list)
    concerns: list[Concern] = field(default_factory=list)

    @property
    def severity(self) -> str:
        ranked = sorted(self.findings, key=lambda f: SEVERITY_RANK.get(f.severity, 0))
        return ranked[-1].severity if ranked else "none"

    @property
    def severity_word(self) -> str:
        return SEVERITY_WORDS.get(self.severity, self.severity)

    @property
    def spam_only(self) -> bool:
        return is_spam_only(f.category for f in self.findings)

    @property
    def draft_refusal(self) -> str | None:
        """Why its suggested replies are shown but not offered for approval; None if they are."""
        return draft_refusal(self.case, (f.category for f in self.findings))


def load_entries(
    db: Session, items: Sequence[Item], now: datetime, *, via: str | None
) -> list[Entry]:
    """Entries for these items, in their order; safeguarding content only for the roles.

    `via` names the page for the audit log's record of safeguarding content shown; None
    when the caller records the view itself.
    """
    ids = [item.id for item in items if item.id is not None]
    findings = _by_item(
        db.exec(
            select(Finding).where(Finding.item_id.in_(ids), Finding.superseded_at.is_(None))
        ).all()
    )
    drafts = _by_item(
        db.exec(select(ReplyDraft).where(ReplyDraft.item_id.in_(ids)).order_by(ReplyDraft.id)).all()
    )
    photos = _by_item(
        db.exec(
            select(PhotoObservation)
            .where(PhotoObservation.item_id.in_(ids))  # type: ignore[attr-defined]
            .order_by(PhotoObservation.position)
        ).all()
    )
    case_ids = {item.case_id for item in items if item.case_id}
    cases = {c.id: c for c in db.exec(select(Case).where(Case.id.in_(case_ids))).all()}
    marks = removal_marks(db, items)
    last_inbound = _last_inbound(db, [i for i in items if i.channel in DM_CHANNELS])
    entries = []
    shown_safeguarding: set[int] = set()
    for item in items:
        case = cases.get(item.case_id) if item.case_id else None
        hidden = restricted(case)
        entry = Entry(
            item=item,
            case=case,
            restricted=hidden,
            author="restricted" if hidden else display_author(item.author_name),
            channel=CHANNEL_LABELS.get(item.channel, item.channel),
            link=None if hidden else permalink(item),
            removed_mark=marks.get((item.platform, item.author_id or "")),
        )
        if not hidden:
            item_findings = findings.get(item.id, [])
            entry.findings = sorted(item_findings, key=lambda f: -SEVERITY_RANK.get(f.severity, 0))
            entry.concerns = concerns(item_findings)
            # The strongest evidence of each concern, not every rule's every match.
            spans = [c.span for c in entry.concerns if c.span is not None]
            entry.segments = highlight(item.text or "", spans)
            entry.drafts = drafts.get(item.id, [])
            entry.photos = photos.get(item.id, [])
            # Spam is not answered, so Meta's time limits on answering are beside the point.
            entry.countdowns = [] if entry.spam_only else countdowns(item, last_inbound, now)
            if is_safeguarding(case):
                shown_safeguarding.add(case.id)  # type: ignore[arg-type]
        entries.append(entry)
    if via:
        # Every look at a safeguarding case's content is on the record, wherever it is seen;
        # a reload inside the same look adds nothing (bot/cases/looks.py).
        record_looks(db, actor(), shown_safeguarding, via, now)
    return entries


def _by_item(
    rows: Sequence[Finding] | Sequence[ReplyDraft] | Sequence[PhotoObservation],
) -> dict[int, list]:  # type: ignore[type-arg]
    grouped: dict[int, list] = defaultdict(list)  # type: ignore[type-arg]
    for row in rows:
        grouped[row.item_id].append(row)
    return grouped


def removal_marks(db: Session, items: Sequence[Item]) -> dict[tuple[str, str], PersonMark]:
    """Standing "removed from the community" marks for these items' authors."""
    authors = {item.author_id for item in items if item.author_id}
    if not authors:
        return {}
    rows = db.exec(
        select(PersonMark).where(PersonMark.author_id.in_(authors), PersonMark.lifted_at.is_(None))
    ).all()
    return {(m.platform, m.author_id): m for m in rows}


def _last_inbound(db: Session, items: Sequence[Item]) -> dict[tuple[str, str], datetime]:
    """When each conversation's person last wrote: Meta's 24-hour window starts there."""
    threads = {item.thread_id for item in items if item.thread_id}
    if not threads:
        return {}
    rows = db.exec(
        select(Item.account_id, Item.thread_id, func.max(Item.created_at))
        .where(
            Item.thread_id.in_(threads),
            Item.channel.in_(DM_CHANNELS),
            Item.from_page.is_(False),
        )
        .group_by(Item.account_id, Item.thread_id)
    ).all()
    return {(account, thread): at for account, thread, at in rows}


def countdowns(
    item: Item, last_inbound: dict[tuple[str, str], datetime], now: datetime
) -> list[Countdown]:
    """The 7-day private-reply deadline of a comment, the 24-hour window of a conversation."""
    if item.from_page or item.is_echo:
        return []
    if item.channel in PRIVATE_REPLY_CHANNELS:
        if item.private_reply_used_at is not None:
            return [Countdown("Private reply", None, "used", "already used")]
        return [_countdown("Private reply", item.created_at + PRIVATE_REPLY_WINDOW, now, 1)]
    if item.channel in DM_CHANNELS and item.thread_id:
        last = last_inbound.get((item.account_id, item.thread_id), item.created_at)
        return [_countdown("Messaging window", last + MESSAGING_WINDOW, now, 1 / 12)]
    return []


def _countdown(label: str, deadline: datetime, now: datetime, soon_days: float) -> Countdown:
    left = deadline - now
    if left <= timedelta(0):
        return Countdown(label, deadline, "closed", f"closed {duration(left)} ago")
    state = "soon" if left <= timedelta(days=soon_days) else "open"
    return Countdown(label, deadline, state, f"{duration(left)} left")
