"""The pages staff see when something cannot be shown or done: in words, inside the dashboard.

Flask's own error pages are a bare line of server language ("Forbidden: You don't have the
permission to access the requested resource"); a volunteer who meets one at 11pm should learn
what happened and what to do. The status codes do not change: a safeguarding case that a
moderator may not open still answers exactly as before (tests/web/dashboard/test_permissions.py).
Meta's endpoints keep Flask's plain answers: no person reads them.

A fault of Haven's own (500) gets the same kind of page, with a reference to quote. Flask's
own log line would carry the request path (a person's Meta id on their page) and the
exception's message (a database error repeats the values it was given, message text
included), so Haven logs the reference, the route's pattern and the traceback's frames instead.
"""

from __future__ import annotations

import logging
import secrets
import traceback
from dataclasses import dataclass
from types import TracebackType

from flask import Flask, g, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)
ExcInfo = tuple[type[BaseException], BaseException, TracebackType] | tuple[None, None, None]

# Machine-facing paths: Meta's webhooks and data-deletion callback, and the health check.
MACHINE_PATHS = ("/webhooks/", "/meta/", "/healthz")


@dataclass(frozen=True)
class Explained:
    title: str
    what: str
    next_step: str


EXPLAINED = {
    400: Explained(
        "That could not be read",
        "Something in what was sent was not in the form Haven expects.",
        "Go back, check what you entered and try again.",
    ),
    403: Explained(
        "This is not open to your account",
        "Your role cannot open this page or do this. Some things, such as safeguarding cases, "
        "are for the safeguarding lead and deputy only.",
        "If you think you need it, ask whoever runs Haven for your charity.",
    ),
    404: Explained(
        "Nothing here",
        "The link may be old, or what it pointed to has been removed.",
        "Start again from the queue.",
    ),
    405: Explained(
        "That cannot be done this way",
        "This page only answers a form sent from Haven itself.",
        "Go back and use the button on the page.",
    ),
    500: Explained(
        "Something went wrong on Haven's side",
        "This is a fault in Haven, not something you did. What you were doing may not have "
        "been saved.",
        "Check whether it was saved before trying again; if it keeps happening, tell whoever "
        "runs Haven for your charity and give them the reference below.",
    ),
}


def init_app(app: Flask) -> None:
    for code in EXPLAINED:
        app.register_error_handler(code, _explained)
    # Flask calls `app.log_exception` for every unhandled exception before the 500 handler;
    # replacing it on this app is the one place its content-bearing log line can be stopped.
    app.log_exception = _log_without_content  # type: ignore[method-assign]


def _log_without_content(exc_info: ExcInfo) -> None:
    """Log an unhandled exception by its type, route pattern and frames: no values, no path."""
    g.error_reference = secrets.token_hex(4)
    # The exception's message is left out: it may repeat what was sent or stored.
    kind, _, trace = exc_info
    frames = "".join(traceback.format_tb(trace)) if trace is not None else ""
    rule = request.url_rule.rule if request.url_rule is not None else "(no route)"
    log.error(
        "fault %s: %s on %s %s\n%s",
        g.error_reference,
        kind.__name__ if kind is not None else "unknown",
        request.method,
        rule,
        frames.rstrip(),
    )


def _explained(error: HTTPException) -> ResponseReturnValue:
    if request.path.startswith(MACHINE_PATHS) or error.code not in EXPLAINED:
        return error
    reference = g.get("error_reference") if isinstance(error, InternalServerError) else None
    try:
        page = render_template(
            "errors/explained.html", page=EXPLAINED[error.code], reference=reference
        )
    except Exception as fault:  # noqa: BLE001 - the fault may be the database the nav reads
        log.error("fault page could not be drawn (%s); plain words instead", type(fault).__name__)
        page = f"<!doctype html><title>{EXPLAINED[error.code].title}</title>"
        page += f'<p>{EXPLAINED[error.code].what} <a href="/">Back to the queue</a></p>'
    return page, error.code
