"""Meta's data-deletion callback: a person removed our app and asked for their data to go.

Meta POSTs a form field `signed_request`, which bot/privacy/signed_request.py verifies before
anything in it is read: the HMAC under this platform's app secret only (`META_APP_SECRET` at
/meta/data-deletion, `META_IG_APP_SECRET` at /meta/data-deletion/instagram), in constant time,
then a bounded decode, then `issued_at` within `data_protection.deletion_request_max_age_minutes`.
A forged, stale or malformed one is refused (403 or 400) and leaves nothing behind, not even an
audit entry. A verified one is erased at once, in one transaction with its request record, and
answered with a confirmation code and a status link on `data_protection.public_url`; without
that address the callback refuses (503) rather than build a link from the caller's Host header.
The status page is public and says only how the request went.

The id Meta sends is the person's id for our app. Page comments arrive under that id, but
Messenger (page-scoped) and Instagram ids are other id spaces that only Meta can map, so the
status page tells the person how to ask the charity directly for those.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import time

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request
from sqlmodel import select

from bot.context import Context
from bot.db import session_scope
from bot.models import utcnow
from bot.models.privacy import DataDeletionRequest
from bot.privacy.signed_request import Malformed, Refused, read_signed_request
from bot.privacy.subject import erase_subject

log = logging.getLogger(__name__)

bp = Blueprint("meta_deletion", __name__, url_prefix="/meta/data-deletion")

CODE = re.compile(r"^[a-f0-9]{20}$")
STATUS_PATH = "/meta/data-deletion/status/"


def _context() -> Context:
    return current_app.extensions["haven"]


@bp.post("")
def facebook_deletion() -> tuple[Response, int]:
    return _handle("facebook")


@bp.post("/instagram")
def instagram_deletion() -> tuple[Response, int]:
    return _handle("instagram")


def _refusal(status: int, error: str) -> tuple[Response, int]:
    return jsonify({"error": error}), status


def _handle(platform: str) -> tuple[Response, int]:
    ctx = _context()
    settings = ctx.settings
    privacy = settings.config.data_protection
    if not privacy.public_url:
        log.error("data-deletion request refused: data_protection.public_url is not set")
        return _refusal(503, "data_protection.public_url is not configured")
    # Each platform's callback takes its own app's secret only.
    configured = (
        settings.meta_ig_app_secret if platform == "instagram" else settings.meta_app_secret
    )
    secret = configured.get_secret_value() if configured else ""
    if not secret:
        return _refusal(503, f"the {platform} app secret is not configured")
    try:
        verified = read_signed_request(
            request.form.get("signed_request", ""),
            secret,
            now=time.time(),
            max_age_seconds=privacy.deletion_request_max_age_minutes * 60,
        )
    except Malformed as exc:
        return _refusal(400, str(exc))
    except Refused as exc:
        log.warning("data-deletion request refused: %s", exc)
        return _refusal(403, str(exc))
    user_id = verified.user_id
    digest = hmac.new(secret.encode(), f"{platform}:{user_id}".encode(), hashlib.sha256).hexdigest()
    with session_scope(ctx.engine) as session:
        found = session.exec(
            select(DataDeletionRequest).where(DataDeletionRequest.subject_digest == digest)
        ).first()
        # A repeat (Meta retries, or the person asks again) erases anything new since and
        # answers with the same code.
        deletion = found or DataDeletionRequest(
            confirmation_code=secrets.token_hex(10), subject_digest=digest
        )
        result = erase_subject(session, platform, user_id, actor="meta", source="meta_callback")
        before = (deletion.summary or {}).get("changed", {})
        deletion.summary = {
            "platform": platform,
            "changed": {
                k: before.get(k, 0) + result.changed.get(k, 0) for k in {*before, *result.changed}
            },
            "held_cases": sorted(k.case_id for k in result.kept if k.case_id is not None),
        }
        deletion.status = "completed_with_hold" if result.kept else "completed"
        deletion.completed_at = deletion.completed_at or utcnow()
        session.add(deletion)
        code = deletion.confirmation_code
    log.info("data-deletion request %s: %s", code, "repeat" if found else "new")
    url = privacy.public_url.rstrip("/") + STATUS_PATH + code
    return jsonify({"url": url, "confirmation_code": code}), 200


@bp.get("/status/<code>")
def status(code: str) -> str:
    """Public: how the request went, and nothing about the person."""
    if not CODE.match(code):
        abort(404)
    with session_scope(_context().engine) as session:
        deletion = session.exec(
            select(DataDeletionRequest).where(DataDeletionRequest.confirmation_code == code)
        ).first()
        if deletion is None:
            abort(404)
        status_value, received, completed = (
            deletion.status,
            deletion.received_at,
            deletion.completed_at,
        )
    return render_template(
        "privacy/deletion_status.html",
        code=code,
        status=status_value,
        received=received,
        completed=completed,
        organisation=_context().settings.config.organisation.name,
    )
