"""The audit log in sentences: "Sam looked at the case", not `case.viewed {"via": ...}`.

Each action the code records has words here (tests/security/test_audit_sentences.py finds
every `record(...)` call and fails on an action without them). The raw action and its detail
stay on the page behind a "details" disclosure for whoever needs the exact record.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from bot.cases.wording import phrases

# Verb phrases: the page puts who did it in front ("Sam" / "Haven").
SENTENCES: dict[str, str] = {
    "account.paused": "paused sending on a page after Meta refused its token",
    "account.resumed": "resumed sending on a page",
    "alert.acknowledged": "acknowledged an alert",
    "alert.raised": "raised an alert",
    "alert.delivery_failed": "could not deliver an alert",
    "alert.delivered": "delivered an alert",
    "case.assigned": "assigned the case",
    "case.boundary_reply": "suggested a reply pointing to professional advice",
    "case.escalated": "escalated the case to the safeguarding lead",
    "case.note_added": "added a note to the case",
    "case.note_recorded": "recorded a note on the case",
    "case.opened": "opened the case",
    "case.out_of_hours_reply": "replied out of hours with when staff are back",
    "case.status_changed": "changed the case's status",
    "case.topics_set": "set what support the case is about",
    "case.viewed": "looked at the case",
    "case.view_refused": "tried to open a safeguarding case and was refused",
    "consent.asked": "asked for consent",
    "consent.given": "recorded that consent was given",
    "consent.declined": "recorded that consent was declined",
    "consent.withdrawn": "recorded that consent was withdrawn",
    "consent.unclear": "found an answer about consent that needs reading",
    "consent.safeguarding_override": "went ahead without consent, for safeguarding",
    "consent.to_queue": "put an answer about consent on the queue",
    "directory.seeded": "filled the support directory with the demo's entries",
    "directory.added": "added a support directory entry",
    "directory.edited": "edited a support directory entry",
    "directory.deactivated": "took a support directory entry out of use",
    "directory.reactivated": "put a support directory entry back in use",
    "draft.approved": "approved a suggested reply",
    "draft.created": "suggested a reply",
    "draft.deadline_warning": "warned that a private reply's 7 days are nearly up",
    "draft.out_of_hours": "sent the out-of-hours reply",
    "draft.rejected": "rejected a suggested reply",
    "draft.sent_automatically": "sent a reply without waiting for approval (out of hours)",
    "escalation.ack_refused": "tried to acknowledge an escalation and was refused",
    "escalation.acknowledged": "acknowledged the escalation",
    "escalation.joined": "added a message to an open escalation",
    "escalation.opened": "opened an escalation to the safeguarding lead",
    "escalation.paged": "paged the safeguarding lead",
    "escalation.re_escalated": "paged again: the escalation was not acknowledged in time",
    "escalation.stopped": "stopped paging: the case was closed",
    "follow_up.due": "flagged that a follow-up is due",
    "follow_up.ended": "ended the planned follow-up",
    "follow_up.ended_by_staff": "ended the planned follow-up",
    "follow_up.scheduled": "planned a follow-up",
    "hiding.done": "hid the comment",
    "hiding.failed": "could not hide the comment",
    "hiding.left_visible": "left the comment visible, so the person is not silenced",
    "hiding.not_possible": "could not hide the comment: Meta does not allow it here",
    "hiding.requested": "asked Meta to hide the comment",
    "introduction.proposed": "proposed an introduction",
    "introduction.person_agreed": "recorded that the person agreed to an introduction",
    "introduction.supporter_agreed": "recorded that the supporter agreed to an introduction",
    "introduction.introduced": "made an introduction",
    "introduction.closed": "closed an introduction",
    "introduction.declined": "recorded that an introduction was declined",
    "introduction.cancelled": "cancelled an introduction",
    "item.processed": "checked a message",
    "item.skipped": "skipped a message it need not check",
    "item.superseded": "set aside findings an edit replaced",
    "item.reviewed": "marked a message reviewed",
    "item.review_undone": "put a message back on the queue",
    "item.edited": "noted that a message was edited",
    "item.hide": "noted that a comment was hidden on Meta",
    "item.unhide": "noted that a comment was unhidden on Meta",
    "item.remove": "noted that a message was removed on Meta",
    "item.add": "noted a message",
    "keys.rotated": "rotated the encryption keys",
    "partner.confirmed_in_writing": "recorded the written confirmation to a partner agency",
    "partner.not_told": "decided not to tell a partner agency",
    "partner.summary_raised": "prepared a written summary for a partner agency",
    "partner.task_opened": "noted that a partner agency is to be told today",
    "partner.told": "recorded that a partner agency was told",
    "person.removal_lifted": "lifted a person's removal from the community",
    "person.removal_marked": "marked a person as removed from the community",
    "privacy.hold_extended": "extended a safeguarding hold",
    "privacy.hold_placed": "placed a safeguarding hold",
    "privacy.hold_released": "released a safeguarding hold",
    "privacy.hold_review_due": "flagged safeguarding holds due for review",
    "record.entry_added": "added to the safeguarding record",
    "record.exported": "prepared a printable copy of the safeguarding record",
    "photo_consent.recorded": "recorded consent for a photo to be posted",
    "photo_consent.withdrawn": "recorded that consent for a photo was withdrawn",
    "record.refused": "was refused the safeguarding record",
    "record.signed_off": "signed off the safeguarding record",
    "record.support_opened": "opened support and introductions",
    "retention.purged": "deleted messages past their retention period",
    "subject.erased": "erased a person's data on request",
    "subject.exported": "exported a person's data on request",
    "user.code_failed": "entered a wrong second-factor code",
    "user.created": "added a user",
    "user.enrol_code_failed": "entered a wrong code while setting up a second factor",
    "user.login": "signed in",
    "user.login_failed": "failed to sign in",
    "user.login_limited": "was stopped after too many sign-in attempts",
    "user.logout": "signed out",
    "user.password_set": "set a password",
    "user.role_set": "changed a user's role",
    "user.totp_enrolled": "set up a second factor",
    "user.totp_reset": "reset a second factor",
}
# Actions whose last part is a value (`action.requested.{kind}`, `action.{status}`).
ACTION_KINDS = {
    "public_reply": "send a public reply",
    "private_reply": "send a private reply",
    "dm": "send a message",
    "hide": "hide a comment",
    "unhide": "unhide a comment",
    "delete": "delete a comment",
}
ACTION_OUTCOMES = {
    "done": "finished a request to Meta",
    "failed": "gave up on a request to Meta",
    "answer_in_inbox": "left a reply to the Meta inbox: Meta's limits had passed",
}
# Detail keys worth a sentence of their own; the rest stay in the disclosure.
DATE_KEYS = ("due_at", "until", "review_at")

Day = Callable[[datetime], str]


def sentence(action: str, detail: Mapping[str, Any] | None = None, day: Day | None = None) -> str:
    """What happened, as a verb phrase to follow "Sam" or "Haven"; never the raw key."""
    detail = detail or {}
    if action.startswith("action.requested."):
        kind = action.removeprefix("action.requested.")
        words = f"asked Haven to {ACTION_KINDS.get(kind, 'act on Meta')}"
    elif action.startswith("action."):
        words = ACTION_OUTCOMES.get(action.removeprefix("action."), "updated a request to Meta")
    else:
        words = SENTENCES.get(action, "did something Haven has no words for yet")
    return words + _particulars(action, detail, day)


def is_described(action: str) -> bool:
    """Whether an action has its own words (rather than the fallback)."""
    if action.startswith("action.requested."):
        return action.removeprefix("action.requested.") in ACTION_KINDS
    if action.startswith("action."):
        return action.removeprefix("action.") in ACTION_OUTCOMES
    return action in SENTENCES


def _particulars(action: str, detail: Mapping[str, Any], day: Day | None) -> str:
    """The one or two facts that make the sentence useful: for when, what was found, how."""
    for key in DATE_KEYS:
        value = detail.get(key)
        if isinstance(value, str) and day is not None:
            try:
                return f" for {day(datetime.fromisoformat(value))}"
            except ValueError:
                return ""
    categories = detail.get("categories")
    if action == "item.processed" and isinstance(categories, list) and categories:
        return ": " + "; ".join(phrases(str(c) for c in categories)).lower()
    via = detail.get("via")
    if isinstance(via, str) and action in ("case.viewed", "case.view_refused"):
        return f" (on the {via})" if not via.startswith("the ") else f" (on {via})"
    if detail.get("dry_run") is True:
        return " (dry run: nothing sent to Meta)"
    return ""
