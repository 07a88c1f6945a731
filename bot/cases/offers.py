"""What staff are offered for an item: only what makes sense in its state (issue 18).

A closed case is finished: a reply drafted while it was open is not approved, edited or
rejected afterwards (a new message from the person opens a new case). An item whose findings
are all spam is an advert or a scam: nobody writes to the sender privately or opens a case
about them; hiding, deleting and marking it reviewed are what is left.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, select

from bot.cases.access import case_of_item
from bot.models import Case, Finding, Item, ReplyDraft

SPAM = "spam"
CLOSED_CASE_REFUSAL = "This case is closed: its suggested replies can no longer be sent or changed."
SPAM_REFUSAL = "This looks like spam: Haven does not answer it."
SPAM_CASE_REFUSAL = (
    "This looks like spam: no case is opened for it. Hide it or mark it reviewed instead."
)


def is_spam_only(categories: Iterable[str]) -> bool:
    """True when there are findings and every one of them is spam."""
    found = list(categories)
    return bool(found) and all(c == SPAM or c.startswith(SPAM + ".") for c in found)


def draft_refusal(case: Case | None, categories: Iterable[str]) -> str | None:
    """Why a suggested reply may not be decided on now, in a volunteer's words; None if it may."""
    if case is not None and case.status == "closed":
        return CLOSED_CASE_REFUSAL
    if is_spam_only(categories):
        return SPAM_REFUSAL
    return None


def refusal_for_draft(db: Session, draft: ReplyDraft) -> str | None:
    """`draft_refusal` for a stored draft: its item's case now, and its current findings."""
    case = case_of_item(db, db.get(Item, draft.item_id))
    categories = db.exec(
        select(Finding.category).where(
            Finding.item_id == draft.item_id, Finding.superseded_at.is_(None)
        )
    ).all()
    return draft_refusal(case, categories)


def case_refusal(db: Session, item: Item) -> str | None:
    """Why no case may be opened by hand for this item, in a volunteer's words; None if one may."""
    categories = db.exec(
        select(Finding.category).where(Finding.item_id == item.id, Finding.superseded_at.is_(None))
    ).all()
    return SPAM_CASE_REFUSAL if is_spam_only(categories) else None
