"""Hiding a public comment on its own, and what the case says about it.

The rules hide personal details, abuse and spam. Two safeguarding reasons come first:

- A comment that says a child is in danger and who or where the child is (a name, a school, an
  address) is hidden at once, whatever the rules say: every minute it stays public, anyone can
  read who the child is and where to find them. Meta keeps a hidden comment visible to the person
  who wrote it (on Facebook, to their friends too), so they are not silenced or alerted.
- A comment about suicide or self-harm stays visible, even when a rule would hide it for the
  personal details in it (unless `hiding.hide_cries_for_help`): hiding it silences a cry for help
  and the people who might answer it. The lead can still hide it from the queue.

Either way the case says, in words, what Haven did and why, and later whether Meta did it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlmodel import Session

from bot.actions import request_action
from bot.audit import record
from bot.config.hiding import Hiding
from bot.models import Case, Item, OutboundAction, utcnow
from bot.models.dashboard import CaseEvent
from rules import Finding
from rules.model import PUBLIC_CHANNELS, top_of

CHILD_IN_DANGER = "child_in_danger"  # hide now, for the child's sake
CANNOT_HIDE = "cannot_hide"  # ... but Meta has no hide for this kind of post
LEFT_VISIBLE = "left_visible"  # a cry for help a rule would have hidden
BY_RULES = "rules"  # the rules' own hide (personal details, abuse, spam)

# Meta hides comments only (visitor posts and mentions have no hide in the API).
HIDEABLE_CHANNELS = frozenset({"fb_comment", "ig_comment"})
# The idempotency key of a safeguarding hide: one per comment, and how its outcome is recognised.
SAFEGUARDING_HIDE_KEY = "safeguarding-hide:"

IDENTIFYING_WORDS = {
    "pii.child_name": "the child's name",
    "pii.person_name": "a name",
    "pii.school": "a school",
    "pii.address": "an address",
    "pii.postcode": "a postcode",
    "pii.phone": "a phone number",
    "pii.email": "an email address",
    "pii.id_number": "an ID number",
    "pii.council": "a council",
    "pii.location": "a place",
    "photo.child": "a photo of the child",
    "photo.family": "a family photo",
}
HIDE_REASON_WORDS = {
    "pii": "personal details",
    "photo": "a photo",
    "abusive": "abusive words",
    "unsafe_practice": "unsafe advice",
    "spam": "spam",
}
UNHIDEABLE_WORDS = {
    "fb_post": "a visitor post on the page",
    "ig_mention": "a mention of the account on someone else's post",
}


def decide(
    categories: Collection[str],
    *,
    rules_hide: bool,
    channel: str,
    config: Hiding,
    cries: Collection[str] | None = None,
) -> str | None:
    """Which hide, if any, a judged public comment gets (one of the constants above).

    `cries` are the categories that count as a cry for help (default: all of `categories`).
    """
    if channel not in PUBLIC_CHANNELS:
        return None
    found = set(categories)
    if (
        config.child_in_danger
        and found & set(config.child_in_danger_categories)
        and found & set(config.identifying_categories)
    ):
        return CHILD_IN_DANGER if channel in HIDEABLE_CHANNELS else CANNOT_HIDE
    if not rules_hide or channel not in HIDEABLE_CHANNELS:
        return None
    cries = found if cries is None else set(cries)
    if not config.hide_cries_for_help and cries & set(config.cry_for_help_categories):
        return LEFT_VISIBLE
    return BY_RULES


def hide_on_arrival(
    session: Session, item: Item, findings: Sequence[Finding], config: Hiding
) -> str | None:
    """Ask Meta to hide the item if `decide` says so, and put the reason on its case."""
    if item.removed_at is not None or item.hidden:
        return None  # gone, or hidden already (a hide that arrived before this version)
    categories = {f.category for f in findings}
    rules_hide = any(f.actions.hide for f in findings)
    decision = decide(
        categories, rules_hide=rules_hide, channel=item.channel, config=config,
        cries=_cries_for_help(findings, config),
    )  # fmt: skip
    if decision == BY_RULES:
        key = f"hide:{item.id}"
        request_action(session, kind="hide", item=item, key=key, requested_by="system")
        return decision
    if decision == CHILD_IN_DANGER:
        # One per comment, not per version: an edit does not hide it again, nor undo the
        # lead's decision to unhide it.
        key = f"{SAFEGUARDING_HIDE_KEY}{item.account_id}:{item.external_id}"
        action = request_action(session, kind="hide", item=item, key=key, requested_by="system")
        if action.item_id != item.id:
            return decision  # asked already, for an earlier version of this comment
    case = session.get(Case, item.case_id) if item.case_id else None
    if decision is None or case is None:
        return decision
    where = _platform(item)
    if decision == CHILD_IN_DANGER:
        text = (
            f"Haven asked {where} to hide this comment: it says a child is in danger and "
            f"gives {_identifying(categories, config)}. {_who_still_sees(item)}"
        )
        _note(session, case, text, "hiding.requested", item=item.id, action_id=action.id)
    elif decision == CANNOT_HIDE:
        text = (
            f"This says a child is in danger and gives {_identifying(categories, config)}, "
            f"but it is {UNHIDEABLE_WORDS.get(item.channel, 'not a comment')}, which {where} "
            f"does not let Haven hide. If it should not stay up, remove it on {where} or ask "
            "the person who posted it to."
        )
        _note(session, case, text, "hiding.not_possible", item=item.id)
    else:
        reasons = sorted(
            {HIDE_REASON_WORDS.get(top_of(f.category), "") for f in findings if f.actions.hide}
            - {""}
        )
        text = (
            f"Haven left this comment visible although it has {_and(reasons) or 'something'} "
            "in it that would normally be hidden: it reads as a cry for help (suicide or "
            "self-harm), and hiding it would silence the person and the people who might "
            "answer them. Hide it from the queue if you decide otherwise."
        )
        _note(session, case, text, "hiding.left_visible", item=item.id)
    return decision


def _cries_for_help(findings: Sequence[Finding], config: Hiding) -> set[str]:
    """Cry-for-help categories a rule found (alone, or confirmed by the learned stage).

    The learned stage on its own raises risk at low confidence on purpose, so the lead looks
    at more than the rules catch; a guess that weak does not outweigh hiding personal details
    (the lead, paged anyway, can unhide).
    """
    return {
        f.category
        for f in findings
        if f.category in config.cry_for_help_categories
        and (f.explanation is None or f.explanation.rule is not None)
    }


def note_hide_outcome(
    session: Session, action: OutboundAction, item: Item, *, now: datetime | None = None
) -> None:
    """A safeguarding hide ended (done or failed): the case says what Meta did."""
    if action.kind != "hide" or not action.idempotency_key.startswith(SAFEGUARDING_HIDE_KEY):
        return
    case = session.get(Case, item.case_id) if item.case_id else None
    if case is None:
        return
    where = _platform(item)
    if action.status == "done" and action.dry_run:
        text = (
            f"Dry run: Haven recorded the hide but sent nothing to {where}, so the comment is "
            f"still public. Hide it on {where} yourself if it should not stay up."
        )
    elif action.status == "done":
        text = f"{where} has hidden the comment. Unhide on the queue shows it again."
    elif action.error_kind == "parameter":
        text = (
            f"{where} could not find the comment: most likely its author or the page deleted "
            f"it, so nothing is left to hide. Check the post on {where} to be sure. Haven "
            "keeps its own copy for this case."
        )
    elif action.error_kind == "permission":
        text = (
            f"{where} refused to hide the comment: the page has not given Haven permission to "
            f"hide comments. The comment is still public: hide it on {where} now, and ask "
            "whoever connected the page to Haven to grant the permission."
        )
    else:
        text = (
            f"{where} did not hide the comment ({action.error or 'no reason given'}). It is "
            f"still public: hide it on {where} yourself."
        )
    outcome = "hiding.done" if action.status == "done" else "hiding.failed"
    _note(session, case, text, outcome, item=item.id, action_id=action.id,
          error_kind=action.error_kind, dry_run=action.dry_run, now=now)  # fmt: skip


def _note(
    session: Session, case: Case, text: str, audit_action: str, *,
    now: datetime | None = None, **detail: object,
) -> None:  # fmt: skip
    session.add(CaseEvent(case_id=case.id, at=now or utcnow(), kind="note", text=text))
    record(session, "system", audit_action, "case", case.id, **detail)


def _platform(item: Item) -> str:
    return "Instagram" if item.platform == "instagram" else "Facebook"


def _who_still_sees(item: Item) -> str:
    if item.platform == "instagram":
        return "The person who wrote it still sees it; nobody else does."
    return "The person who wrote it and their friends still see it; nobody else does."


def _identifying(categories: Collection[str], config: Hiding) -> str:
    found = sorted(set(categories) & set(config.identifying_categories))
    words = [IDENTIFYING_WORDS.get(c, c) for c in found]
    return _and(list(dict.fromkeys(words))) or "something that identifies them"


def _and(words: Sequence[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]
