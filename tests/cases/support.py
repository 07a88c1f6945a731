"""Helpers for the consent tests: a help request whose private reply has gone (dry run)."""

from __future__ import annotations

from flask import Flask
from sqlmodel import select

from bot.actions import approve_draft
from bot.db import session_scope
from bot.models import Case, Item, ReplyDraft, User
from bot.web.auth.login import create_user
from tests.helpers import job_context
from tests.web.dashboard.support import HELP, case_of, comment
from workers.sending import perform


def send_draft(app: Flask, item: Item, kind: str = "private") -> int:
    """Approve the item's draft as an admin and carry out the send (a dry run here)."""
    context = app.extensions["haven"]
    with session_scope(context.engine) as db:
        draft = db.exec(
            select(ReplyDraft).where(ReplyDraft.item_id == item.id, ReplyDraft.kind == kind)
        ).one()
        admin = db.exec(select(User).where(User.role == "admin")).first()
        if admin is None:
            admin = create_user(db, "approver", "a-long-enough-password", "admin")
            db.flush()
        action_id = approve_draft(db, draft, text=draft.text, user_id=admin.id).id  # type: ignore[arg-type]
    assert perform(context.engine, job_context(app).graph, action_id) == "done"  # type: ignore[arg-type]
    return action_id  # type: ignore[return-value]


def asked_case(app: Flask, author: str = "6000000000000042") -> Case:
    """A help request in a comment, its private reply sent: the case waits for consent."""
    item = comment(app, app.test_client(), HELP, author=author)
    send_draft(app, item)
    return case_of(app, item)
