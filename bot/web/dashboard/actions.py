"""What staff do from the queue: approve, edit or reject a reply, hide or unhide a comment,
mark an item reviewed, ask which words weighed most in a learned finding.

Every action is recorded in the database and handed to the queue by name; nothing here talks
to Meta, and nothing is sent without a person's approval.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from bot.actions import approve_draft, enqueue_action, request_action
from bot.audit import record
from bot.cases.access import case_of_item, is_safeguarding
from bot.cases.offers import refusal_for_draft
from bot.cases.status import mark_first_action
from bot.cases.weighing import Outcome, weigh_finding
from bot.db import session_scope
from bot.models import Item, ReplyDraft, utcnow
from bot.web.auth.login import APPROVERS, MODERATORS, safe_target
from bot.web.dashboard.base import actor, check_case_access, check_draft_access, haven, role

bp = Blueprint("moderate", __name__)

MAX_REPLY_CHARS = 2000


def _back() -> ResponseReturnValue:
    # `back` comes from the form: only ever a path on this site, never another host.
    return redirect(safe_target(request.form.get("back")))


def _require(roles: frozenset[str]) -> None:
    if current_user.role not in roles:
        abort(403)


@bp.post("/drafts/<int:draft_id>/approve")
@login_required
def approve(draft_id: int) -> ResponseReturnValue:
    _require(APPROVERS)
    text = (request.form.get("text") or "").strip()
    if not text or len(text) > MAX_REPLY_CHARS:
        flash(f"A reply needs between 1 and {MAX_REPLY_CHARS} characters.", "error")
        return _back()
    ctx = haven()
    with session_scope(ctx.engine) as db:
        draft = db.get(ReplyDraft, draft_id) or abort(404)
        check_draft_access(db, draft)
        if refusal := refusal_for_draft(db, draft):
            flash(refusal, "error")
            return _back()
        try:
            action = approve_draft(db, draft, text=text, user_id=current_user.id)
        except ValueError as exc:
            flash(str(exc), "error")
            return _back()
        mark_first_action(db, [draft.item_id], utcnow())
        action_id = action.id
    enqueue_action(ctx.enqueuer, action_id)  # type: ignore[arg-type]
    note = " (dry run: recorded, not sent)" if ctx.settings.config.meta.dry_run else ""
    flash(f"Reply approved and queued to send{note}.", "info")
    return _back()


@bp.post("/drafts/<int:draft_id>/reject")
@login_required
def reject(draft_id: int) -> ResponseReturnValue:
    _require(APPROVERS)
    with session_scope(haven().engine) as db:
        draft = db.get(ReplyDraft, draft_id) or abort(404)
        check_draft_access(db, draft)
        if refusal := refusal_for_draft(db, draft):
            flash(refusal, "error")
            return _back()
        if draft.status == "draft":
            now = utcnow()
            draft.status, draft.decided_by = "rejected", current_user.id
            draft.decided_at = draft.updated_at = now
            db.add(draft)
            record(db, actor(), "draft.rejected", "draft", draft.id)
            mark_first_action(db, [draft.item_id], now)
    flash("Suggested reply rejected.", "info")
    return _back()


@bp.post("/items/<int:item_id>/<any(hide, unhide):kind>")
@login_required
def hide_or_unhide(item_id: int, kind: str) -> ResponseReturnValue:
    _require(MODERATORS)
    ctx = haven()
    with session_scope(ctx.engine) as db:
        item = db.get(Item, item_id) or abort(404)
        check_case_access(db, item.case_id)
        now = utcnow()
        # The same request twice within a second (a double click) is one action.
        key = f"{kind}:{item.id}:{int(now.timestamp())}"
        action = request_action(db, kind=kind, item=item, key=key, requested_by=actor())
        mark_first_action(db, [item_id], now)
        action_id = action.id
    enqueue_action(ctx.enqueuer, action_id)  # type: ignore[arg-type]
    flash(f"Comment will be {kind}d.", "info")
    return _back()


@bp.post("/items/<int:item_id>/delete")
@login_required
def delete(item_id: int) -> ResponseReturnValue:
    """Delete a comment on Meta: only ever an admin's explicit, confirmed decision.

    Never for anything on a safeguarding case: that is evidence, and a risk post is never
    silenced. Haven's own copy is kept either way.
    """
    _require(frozenset({"admin"}))
    ctx = haven()
    with session_scope(ctx.engine) as db:
        item = db.get(Item, item_id) or abort(404)
        if is_safeguarding(case_of_item(db, item)):
            abort(403)
        if item.channel not in {"fb_comment", "ig_comment"}:
            flash("Only comments can be deleted.", "error")
            return _back()
        if request.form.get("confirm") != "yes":
            flash("Tick the box to confirm the deletion.", "error")
            return _back()
        action = request_action(
            db, kind="delete", item=item, key=f"delete:{item.id}", requested_by=actor()
        )
        mark_first_action(db, [item_id], utcnow())
        action_id = action.id
    enqueue_action(ctx.enqueuer, action_id)  # type: ignore[arg-type]
    flash("Comment will be deleted on Meta. Haven keeps its record.", "info")
    return _back()


@bp.post("/items/<int:item_id>/review")
@login_required
def review(item_id: int) -> ResponseReturnValue:
    """Take an item off the queue (or, with undo, put it back): a person has dealt with it."""
    _require(MODERATORS)
    undo = request.form.get("undo") == "1"
    with session_scope(haven().engine) as db:
        item = db.get(Item, item_id) or abort(404)
        check_case_access(db, item.case_id)
        now = utcnow()
        if undo and item.reviewed_at is not None:
            item.reviewed_at, item.reviewed_by = None, None
            record(db, actor(), "item.review_undone", "item", item.id)
        elif not undo and item.reviewed_at is None:
            item.reviewed_at, item.reviewed_by = now, current_user.id
            record(db, actor(), "item.reviewed", "item", item.id)
            mark_first_action(db, [item_id], now)
        db.add(item)
    flash("Back on the queue." if undo else "Marked reviewed: off the queue.", "info")
    return _back()


WEIGHING_SAID = {
    Outcome.WEIGHED: ("The words that weighed most are under “why?”.", "info"),
    Outcome.ALREADY: ("The words that weighed most are under “why?”.", "info"),
    Outcome.NOT_LEARNED: (
        "Only the learned check's findings have words to weigh: what a written rule matched "
        "is marked in the message.",
        "error",
    ),
    Outcome.OUT_OF_DATE: (
        "The message was edited since this was found: the words it was about are gone.",
        "error",
    ),
    Outcome.NO_STAGE: (
        "The learned check is not running now, so the words cannot be weighed.",
        "error",
    ),
    Outcome.TEXT_GONE: (
        "The message was removed (after the retention period, or at the person's request), so "
        "there are no words to weigh.",
        "error",
    ),
}


@bp.post("/findings/<int:finding_id>/words")
@login_required
def weigh_words(finding_id: int) -> ResponseReturnValue:
    """Weigh the words of a learned finding stored without them (bot/cases/weighing.py)."""
    ctx = haven()
    with session_scope(ctx.engine) as db:
        outcome = weigh_finding(
            db,
            ctx.ruleset,
            ctx.settings.config,
            finding_id,
            role=role(),
            actor=actor(),
            now=utcnow(),
        )
    # Refusals after the commit: a refused look at a safeguarding case stays on the record.
    if outcome is Outcome.MISSING:
        abort(404)
    if outcome is Outcome.REFUSED:
        abort(403)
    flash(*WEIGHING_SAID[outcome])
    return _back()
