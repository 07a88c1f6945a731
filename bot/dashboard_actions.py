"""What staff do from the dashboard: approve, edit or reject a reply, hide or unhide a comment.

Every action is recorded in the database and handed to the queue by name; nothing here talks
to Meta, and nothing is sent without a person's approval.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from bot.actions import approve_draft, enqueue_action, request_action
from bot.audit import record
from bot.auth import APPROVERS, MODERATORS
from bot.context import JobContext
from bot.db import session_scope
from bot.models import SAFEGUARDING_ROLES, Case, Item, ReplyDraft, utcnow

bp = Blueprint("moderate", __name__)

MAX_REPLY_CHARS = 2000


def _context() -> JobContext:
    return current_app.extensions["haven"]


def _back() -> ResponseReturnValue:
    return redirect(request.form.get("back") or url_for("dashboard.queue"))


def _check_case_access(session, case_id: int | None) -> None:  # type: ignore[no-untyped-def]
    """Safeguarding cases are acted on by the safeguarding lead and deputy only."""
    case = session.get(Case, case_id) if case_id else None
    if case is not None and case.case_type == "safeguarding":
        if current_user.role not in SAFEGUARDING_ROLES:
            abort(403)


@bp.post("/drafts/<int:draft_id>/approve")
@login_required
def approve(draft_id: int) -> ResponseReturnValue:
    if current_user.role not in APPROVERS:
        abort(403)
    text = (request.form.get("text") or "").strip()
    if not text or len(text) > MAX_REPLY_CHARS:
        flash(f"A reply needs between 1 and {MAX_REPLY_CHARS} characters.", "error")
        return _back()
    ctx = _context()
    with session_scope(ctx.engine) as session:
        draft = session.get(ReplyDraft, draft_id) or abort(404)
        _check_case_access(session, draft.case_id)
        try:
            action = approve_draft(session, draft, text=text, user_id=current_user.id)
        except ValueError as exc:
            flash(str(exc), "error")
            return _back()
        action_id = action.id
    enqueue_action(ctx.enqueuer, action_id)
    note = " (dry run: recorded, not sent)" if ctx.settings.config.meta.dry_run else ""
    flash(f"Reply approved and queued to send{note}.", "info")
    return _back()


@bp.post("/drafts/<int:draft_id>/reject")
@login_required
def reject(draft_id: int) -> ResponseReturnValue:
    if current_user.role not in APPROVERS:
        abort(403)
    with session_scope(_context().engine) as session:
        draft = session.get(ReplyDraft, draft_id) or abort(404)
        _check_case_access(session, draft.case_id)
        if draft.status == "draft":
            draft.status, draft.decided_by = "rejected", current_user.id
            draft.decided_at = draft.updated_at = utcnow()
            session.add(draft)
            record(session, f"user:{current_user.id}", "draft.rejected", "draft", draft.id)
    flash("Suggested reply rejected.", "info")
    return _back()


@bp.post("/items/<int:item_id>/<any(hide, unhide):kind>")
@login_required
def hide_or_unhide(item_id: int, kind: str) -> ResponseReturnValue:
    if current_user.role not in MODERATORS:
        abort(403)
    ctx = _context()
    with session_scope(ctx.engine) as session:
        item = session.get(Item, item_id) or abort(404)
        _check_case_access(session, item.case_id)
        # The same request twice within a second (a double click) is one action.
        key = f"{kind}:{item.id}:{int(utcnow().timestamp())}"
        action = request_action(
            session, kind=kind, item=item, key=key, requested_by=f"user:{current_user.id}"
        )
        action_id = action.id
    enqueue_action(ctx.enqueuer, action_id)
    flash(f"Comment will be {kind}d.", "info")
    return _back()
