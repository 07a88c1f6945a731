"""Meta's data-deletion callback: a person removed our app and asked for their data to go.

Meta POSTs a form field `signed_request` ("<base64url signature>.<base64url JSON>", the
signature an HMAC-SHA256 of the JSON part under the app secret). It is verified with
facebook-sdk's `parse_signed_request` before anything else happens: a forged or malformed one
is refused (403 or 400) and leaves nothing behind, not even an audit entry. A verified one is
erased at once, in one transaction with its request record, and answered with a confirmation
code and a status link. The status page is public and says only how the request went.

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
from typing import Any

import facebook
from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request
from sqlmodel import select

from bot.context import Context
from bot.db import session_scope
from bot.models import utcnow
from bot.models.privacy import DataDeletionRequest
from bot.privacy.subject import erase_subject

log = logging.getLogger(__name__)

bp = Blueprint("meta_deletion", __name__, url_prefix="/meta/data-deletion")

# Two base64url parts joined by one dot; anything else is malformed before any parsing.
SIGNED_REQUEST = re.compile(r"^[A-Za-z0-9_-]{16,200}={0,2}\.[A-Za-z0-9_-]{8,8000}={0,2}$")
CODE = re.compile(r"^[a-f0-9]{20}$")
USER_ID = re.compile(r"^[0-9A-Za-z_-]{1,64}$")


def _context() -> Context:
    return current_app.extensions["haven"]


@bp.post("")
def facebook_deletion() -> tuple[Response, int]:
    return _handle("facebook")


@bp.post("/instagram")
def instagram_deletion() -> tuple[Response, int]:
    return _handle("instagram")


def verify(signed_request: str, app_secrets: list[str]) -> tuple[dict[str, Any], str] | None:
    """The payload and the secret that signed it, or None when no configured secret did.

    Raises ValueError for a request that is malformed rather than wrongly signed.
    """
    if not SIGNED_REQUEST.match(signed_request):
        raise ValueError("malformed signed_request")
    for secret in app_secrets:
        try:
            data = facebook.parse_signed_request(signed_request, secret)
        # The SDK decodes the JSON before it checks the signature, and lets a payload that is
        # not JSON, not an object or not ASCII escape as these.
        except (ValueError, TypeError, AttributeError, UnicodeError) as exc:
            raise ValueError("malformed signed_request") from exc
        if data:
            return data, secret
    return None


def _handle(platform: str) -> tuple[Response, int]:
    ctx = _context()
    app_secrets = ctx.settings.app_secrets()
    if not app_secrets:
        return jsonify({"error": "the app secret is not configured"}), 503
    try:
        verified = verify(request.form.get("signed_request", ""), app_secrets)
    except ValueError:
        return jsonify({"error": "malformed signed_request"}), 400
    if verified is None:
        log.warning("data-deletion request with a bad signature refused")
        return jsonify({"error": "signature does not match"}), 403
    data, secret = verified
    user_id = str(data.get("user_id", ""))
    if not USER_ID.match(user_id):
        return jsonify({"error": "signed_request has no user_id"}), 400
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
    return jsonify({"url": _status_url(ctx, code), "confirmation_code": code}), 200


def _status_url(ctx: Context, code: str) -> str:
    base = ctx.settings.config.data_protection.public_url.rstrip("/")
    path = f"/meta/data-deletion/status/{code}"
    return f"{base}{path}" if base else request.host_url.rstrip("/") + path


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
