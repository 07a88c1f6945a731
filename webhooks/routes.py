"""GET/POST /webhooks/meta: verify, store, enqueue ids, answer. Nothing slow happens here.

Meta unsubscribes a Page after an hour of failed deliveries, so this answers within
milliseconds and leaves every judgement to the workers.
"""

from __future__ import annotations

import hmac
import logging
import re

from flask import Blueprint, Response, current_app, jsonify, request

from bot.context import Context
from bot.untrusted import UntrustedInput, json_loads
from webhooks.events import parse_payload
from webhooks.receiver import Receiver
from webhooks.receiver import install as install_receiver
from webhooks.signature import verify_signature

log = logging.getLogger(__name__)

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
bp.record_once(lambda state: install_receiver(state.app))

# The challenge is echoed back to the caller: only ever echo something that cannot be markup.
CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


def _context() -> Context:
    return current_app.extensions["haven"]


def _receiver() -> Receiver:
    return current_app.extensions["haven.webhooks"]


@bp.get("/meta")
def verify() -> Response | tuple[str, int]:
    """The subscription handshake: echo hub.challenge only for our verify token."""
    settings = _context().settings
    expected = settings.meta_verify_token.get_secret_value() if settings.meta_verify_token else ""
    given = request.args.get("hub.verify_token", "")
    challenge = request.args.get("hub.challenge", "")
    if (
        request.args.get("hub.mode") != "subscribe"
        or not expected
        or not hmac.compare_digest(given.encode(), expected.encode())
        or not CHALLENGE.match(challenge)
    ):
        return "verification refused", 403
    return Response(challenge, status=200, mimetype="text/plain")


@bp.post("/meta")
def receive() -> tuple[Response, int]:
    receiver = _receiver()
    if request.mimetype != "application/json":
        return _answer(415, "expected application/json")
    # Werkzeug stops reading at MAX_CONTENT_LENGTH and raises 413 (handled in bot.app).
    raw = request.get_data(cache=False)
    if not verify_signature(raw, request.headers.get("X-Hub-Signature-256"), receiver.secrets):
        log.warning("webhook refused: bad or missing signature (%d bytes)", len(raw))
        return _answer(403, "invalid signature")
    # Any failure to read the body is a 400 with nothing stored: a 500 would make Meta
    # retry the same bytes for 36 hours. Depth is bounded, so nothing later recurses too far.
    try:
        raw_text = raw.decode("utf-8")
        payload = json_loads(raw_text)
    except UnicodeDecodeError:
        return _answer(400, "malformed JSON: not UTF-8")
    except UntrustedInput as exc:
        return _answer(400, str(exc))
    parsed = parse_payload(payload)
    # Stored and committed before anything is enqueued or answered: a crash after this line
    # loses nothing, because the sweep finds whatever the queue did not get.
    stored = receiver.store(raw_text, parsed)
    receiver.enqueue(stored.new_item_ids)
    log.info(
        "webhook stored %d new, %d duplicate, %d erased, %d ignored, %d unknown",
        len(stored.new_item_ids),
        stored.duplicates,
        stored.erased,
        len(parsed.ignored),
        len(parsed.unknown),
    )
    return _answer(
        200,
        "ok",
        stored=len(stored.new_item_ids),
        duplicates=stored.duplicates,
        erased=stored.erased,
        ignored=len(parsed.ignored),
        unknown=len(parsed.unknown),
    )


def _answer(status: int, message: str, **extra: int) -> tuple[Response, int]:
    return jsonify({"status": message, **extra}), status
