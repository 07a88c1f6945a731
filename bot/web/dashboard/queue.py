"""The queue: what arrived, what Haven found, and what it suggests, most urgent first.

Reads the database only. Actions that reach Meta (approve and send) enqueue a job; the
dashboard never talks to the Graph API. The other pages live in the modules beside this one;
`bot.web.init_app` registers them all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import render_template, request
from flask.typing import ResponseReturnValue
from flask_login import login_required
from sqlalchemy import and_, exists, func, literal, or_, tuple_, union_all
from sqlalchemy import case as sql_case
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from bot.config.voices import page_config
from bot.db import session_scope
from bot.models import Case, Finding, Item, utcnow
from bot.models.alerts import Escalation
from bot.models.dashboard import PersonMark
from bot.notify.alerts import overnight_first
from bot.notify.duty import on_duty
from bot.untrusted import ascii_int
from bot.web.dashboard.base import (
    SEVERITY_RANK,
    bp,
    display_author,
    engine,
    haven,
    highlight,
    pager,
)
from bot.web.dashboard.entries import load_entries
from bot.web.dashboard.page_filter import chosen_page

__all__ = ["bp", "display_author", "highlight"]

# Comment and message versions that only change state carry no text to review.
STATE_VERBS = ("remove", "hide", "unhide")
# A page number is taken as asked until the count, which comes with the page, says otherwise.
ANY_TOTAL = 2**62
# Anything from someone removed from the community is put in front of staff, as high.
REMOVED_PERSON_RANK = SEVERITY_RANK["high"]
# Above every severity: what is waiting on an escalated case (a rule's or a person's) comes
# first, whatever its own finding says. A medium finding a moderator judged to be a
# safeguarding concern is the most urgent thing on the lead's queue, not the seventh.
ESCALATED_RANK = max(SEVERITY_RANK.values()) + 1


def _queue_ranks():  # type: ignore[no-untyped-def]
    """(item_id, rank) for everything waiting on the queue, one row per item: flagged items by
    their worst finding, items by someone removed from the community, and anything on an
    escalated case above them all.

    Findings outlive their review: at a million items nearly every finding belongs to an item
    reviewed long ago. So the flagged branch first drops the reviewed ones, by an anti-join on
    the reviewed items' own small index (migration 0010), instead of ranking every finding
    ever made and then looking each one's item up.
    """
    severity = sql_case(*((Finding.severity == s, r) for s, r in SEVERITY_RANK.items()), else_=0)
    seen = aliased(Item)
    was_reviewed = exists().where(seen.id == Finding.item_id, seen.reviewed_at.is_not(None))
    flagged = select(Finding.item_id.label("item_id"), severity.label("rank")).where(
        Finding.superseded_at.is_(None), ~was_reviewed
    )
    removed = (
        select(Item.id.label("item_id"), literal(REMOVED_PERSON_RANK).label("rank"))
        .join(PersonMark, _by_removed_person())
        .where(
            # Said twice so the planner starts from the (few) marks and the author index,
            # rather than reading every item to look for a mark.
            Item.author_id.in_(select(PersonMark.author_id).where(PersonMark.lifted_at.is_(None))),
            Item.from_page.is_(False),
            Item.verb.not_in(STATE_VERBS),
            Item.reviewed_at.is_(None),
        )
    )
    # Still paging (nobody has acknowledged yet) before what a lead has already taken on.
    paging = exists().where(Escalation.case_id == Item.case_id, Escalation.status == "open")
    rank = sql_case((paging, ESCALATED_RANK + 1), else_=ESCALATED_RANK)
    escalated = select(Item.id.label("item_id"), rank.label("rank")).where(
        # Few cases are escalated at once: start from them (the status index), then their items.
        Item.case_id.in_(select(Case.id).where(Case.status == "escalated")),
        Item.from_page.is_(False),
        Item.verb.not_in(STATE_VERBS),
        Item.reviewed_at.is_(None),
    )
    both = union_all(flagged, removed, escalated).subquery()
    return (
        select(both.c.item_id, func.max(both.c.rank).label("rank"))
        .group_by(both.c.item_id)
        .subquery()
    )


def _by_removed_person():  # type: ignore[no-untyped-def]
    """An item by someone with a standing "removed from the community" mark, after it."""
    return and_(
        PersonMark.platform == Item.platform,
        PersonMark.author_id == Item.author_id,
        PersonMark.lifted_at.is_(None),
        Item.received_at >= PersonMark.removed_at,
    )


def _reviewed_ids(
    db: Session, before: tuple[datetime, int] | None, size: int, account: str | None
) -> list[Any]:
    """(id, reviewed_at) of up to size + 1 reviewed queue items, newest review first.

    Keyset paging: each page starts after the last one's (reviewed_at, id), walking down
    the reviewed items' index, so the thousandth page costs what the first does and no
    count of the whole history is needed (there is no page number to show).
    """
    flagged = (
        exists().where(Finding.item_id == Item.id, Finding.superseded_at.is_(None)).correlate(Item)
    )
    removed = and_(
        exists().where(_by_removed_person()).correlate(Item),
        Item.from_page.is_(False),
        Item.verb.not_in(STATE_VERBS),
    )
    query = select(Item.id, Item.reviewed_at).where(
        Item.reviewed_at.is_not(None), or_(flagged, removed)
    )
    if before is not None:
        query = query.where(tuple_(Item.reviewed_at, Item.id) < tuple_(*before))
    query = query.where(*_on_page(account))
    order = (Item.reviewed_at.desc(), Item.id.desc())
    return list(db.exec(query.order_by(*order).limit(size + 1)).all())


def _on_duty_now(account: str | None) -> str | None:
    """ "sam (safeguarding lead), alex (deputy)" from the rota (the chosen page's own, if it
    has one); None when there is no rota."""
    config = page_config(haven().settings.config, account)
    if not config.alerts.rota.shifts:
        return None
    return on_duty(config.alerts.rota, config.organisation.timezone, utcnow()).describe()


def _cursor(raw: str) -> tuple[datetime, int] | None:
    """The `before` argument, "<reviewed_at ISO>_<id>"; anything else means the newest."""
    when, _, number = raw.rpartition("_")
    try:
        at = datetime.fromisoformat(when)
    except ValueError:
        return None
    row_id = ascii_int(number)
    return (at, row_id) if row_id is not None and at.tzinfo is not None else None


@bp.get("/")
@login_required
def queue() -> ResponseReturnValue:
    """Flagged items, most severe first, then oldest first within a severity."""
    reviewed = request.args.get("view") == "reviewed"
    older, before = None, _cursor(request.args.get("before", ""))
    account = chosen_page()
    with session_scope(engine()) as db:
        if reviewed:
            size = haven().settings.config.dashboard.page_size
            found = _reviewed_ids(db, before, size, account)
            if len(found) > size:
                last_id, last_at = found[size - 1]
                older = f"{last_at.isoformat()}_{last_id}"
            ids, total, page = [row[0] for row in found[:size]], None, None
        else:
            ranks = _queue_ranks()
            query = (
                # The total rides along with the page: one pass over the waiting items.
                select(Item.id, func.count().over())
                .join(ranks, ranks.c.item_id == Item.id)
                .where(Item.reviewed_at.is_(None), *_on_page(account))
                .order_by(
                    ranks.c.rank.desc(),
                    # Within a severity, what raised an alert overnight that nobody has
                    # acknowledged comes first in the morning (the alerts subsystem's key).
                    overnight_first(Item.id, Item.case_id).desc(),
                    # Age is how long the person has been waiting: from when they wrote.
                    Item.created_at.asc(),
                    Item.id.asc(),
                )
            )
            # The page's ids first, then their rows: a deep page skips ids, not whole items.
            asked = pager(ANY_TOTAL)
            found = db.exec(query.offset(asked.offset).limit(asked.size)).all()
            counted = select(func.count()).select_from(ranks)
            if account is not None:
                counted = counted.join(Item, Item.id == ranks.c.item_id).where(*_on_page(account))
            total = found[0][1] if found else db.exec(counted).one()
            page = pager(total)
            if page.offset != asked.offset:  # asked past the end: the last page instead
                found = db.exec(query.offset(page.offset).limit(page.size)).all()
            ids = [row[0] for row in found]
        rows = {i.id: i for i in db.exec(select(Item).where(Item.id.in_(ids))).all()}
        items = [rows[i] for i in ids if i in rows]
        entries = load_entries(db, items, utcnow(), via="queue")
    return render_template(
        "dashboard/queue.html",
        on_duty=_on_duty_now(account),
        entries=entries,
        page=page,
        reviewed=reviewed,
        total=total,
        older=older,
        newest=before is None,
        account=account,
    )


def _on_page(account: str | None) -> list[Any]:
    """The queue's condition for one page (`account=` in the query string), if one is chosen."""
    return [] if account is None else [Item.account_id == account]
