"""What every dashboard view shares: the blueprint, the database, paging and display helpers.

The dashboard reads the database and enqueues jobs; it never talks to Meta.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, request, url_for
from flask_login import current_user
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.cases import access
from bot.cases.consent import shown_status
from bot.context import Context
from bot.models import Case, Item, ReplyDraft
from bot.web.inputs import query_int

# The queue and the case pages; their endpoint names (dashboard.queue, dashboard.cases,
# dashboard.case_detail) are linked from elsewhere, so they stay on this one blueprint.
bp = Blueprint("dashboard", __name__)

SEVERITY_RANK = {"critical": 4, "high": 3, "medium": 2, "low": 1}
# Meta's limits, as workers/send_plans.py applies them (a test keeps the two equal; the
# dashboard may not import workers).
PRIVATE_REPLY_WINDOW = timedelta(days=7)
MESSAGING_WINDOW = timedelta(hours=24)
DM_CHANNELS = frozenset({"fb_dm", "ig_dm"})
COMMENT_CHANNELS = frozenset({"fb_comment", "ig_comment"})
PRIVATE_REPLY_CHANNELS = COMMENT_CHANNELS | {"fb_post"}
CHANNEL_LABELS = {
    "fb_comment": "Facebook comment",
    "fb_post": "Facebook post",
    "fb_dm": "Messenger",
    "ig_comment": "Instagram comment",
    "ig_mention": "Instagram mention",
    "ig_dm": "Instagram message",
}
CASE_TYPES = ("support", "safeguarding", "privacy", "moderation", "complaint", "boundary")
STATUS_LABELS = {
    "follow_up_due": "follow-up due",
    "awaiting_consent": "awaiting consent",
    # Waiting after the person answered (bot/cases/consent.py shown_status).
    "consent_given": "consent given",
    "consent_declined": "consent declined",
    "consent_withdrawn": "consent withdrawn",
}
CONSENT_LABELS = {
    "not_asked": "not asked yet",
    "asked": "asked, no answer yet",
    "given": "given",
    "declined": "declined",
    "withdrawn": "withdrawn",
}
MAX_TEXT = 2000


def haven() -> Context:
    return current_app.extensions["haven"]


def engine() -> Engine:
    return haven().engine


def actor() -> str:
    return f"user:{current_user.id}"


def role() -> str | None:
    """The signed-in user's role, which bot/cases/access.py decides everything by."""
    return current_user.role if current_user.is_authenticated else None


def can_see_safeguarding() -> bool:
    return access.sees_safeguarding(role())


def restricted(case: Case | None) -> bool:
    """True when this user may know the case exists but not what it is about."""
    return not access.may_see_case(role(), case)


def check_case_access(db: Session, case_id: int | None) -> Case | None:
    """Safeguarding cases are acted on by the safeguarding lead and deputy only."""
    case = db.get(Case, case_id) if case_id else None
    if restricted(case):
        abort(403)
    return case


def check_draft_access(db: Session, draft: ReplyDraft) -> None:
    """A reply on anything on a safeguarding case is the lead's and deputy's to decide."""
    if not access.may_act_on_draft(db, role(), draft):
        abort(403)


@dataclass(frozen=True)
class Pager:
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    def url(self, number: int) -> str:
        """This page's address with the current filters and another page number."""
        args = {k: v for k, v in request.args.items() if k != "page" and v}
        if number > 1:
            args["page"] = str(number)
        return url_for(request.endpoint or "dashboard.queue", **(request.view_args or {}), **args)


def pager(total: int) -> Pager:
    size = haven().settings.config.dashboard.page_size
    number = query_int("page", 1, low=1)
    return Pager(min(number, max(1, -(-total // size))), size, total)


@dataclass(frozen=True)
class Segment:
    text: str
    marked: bool


def highlight(text: str, spans: list[tuple[int, int]]) -> list[Segment]:
    """Split text into plain and marked runs; overlapping spans merge."""
    merged: list[list[int]] = []
    for start, end in sorted((s, e) for s, e in spans if 0 <= s < e <= len(text)):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    segments, cursor = [], 0
    for start, end in merged:
        if start > cursor:
            segments.append(Segment(text[cursor:start], False))
        segments.append(Segment(text[start:end], True))
        cursor = end
    if cursor < len(text):
        segments.append(Segment(text[cursor:], False))
    return segments


def display_author(name: str | None) -> str:
    """First name and an initial at most: staff need to recognise people, not profile them."""
    if not name:
        return "someone"
    parts = name.split()
    return parts[0] if len(parts) == 1 else f"{parts[0]} {parts[-1][0]}."


def permalink(item: Item) -> str | None:
    """Where the item is on Facebook, from its ids; None where Meta gives no stable link.

    Page post ids are "PAGE_POST", which is Facebook's own permalink form
    (facebook.com/PAGE/posts/POST); a comment adds ?comment_id=. Instagram webhooks carry
    media ids, not the shortcodes its links use, and messages have no public link.
    """
    if item.platform != "facebook" or not item.post_id or "_" not in item.post_id:
        return None
    if item.channel not in {"fb_post", "fb_comment"}:
        return None
    page, post = item.post_id.split("_", 1)
    url = f"https://www.facebook.com/{page}/posts/{post}"
    if item.channel == "fb_comment":
        url += f"?comment_id={item.external_id.rsplit('_', 1)[-1]}"
    return url


def local_time(value: datetime | None, fmt: str = "%d %b %Y %H:%M") -> str:
    """A stored UTC time as the organisation's staff read it."""
    if value is None:
        return ""
    zone = ZoneInfo(haven().settings.config.organisation.timezone)
    return value.astimezone(zone).strftime(fmt)


def duration(delta: timedelta) -> str:
    """Like "3 d 4 h", "5 h 12 min" or "12 min": enough precision to act on, no more."""
    minutes = int(abs(delta).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {mins} min"
    return f"{mins} min"


def status_label(status: str | None) -> str:
    return STATUS_LABELS.get(status or "", (status or "").replace("_", " "))


def case_status_label(case: Case) -> str:
    """A case's status in words, agreeing with its consent (one source: bot/cases/consent.py)."""
    return status_label(shown_status(case.status, case.consent))
