"""The pages staff see when something cannot be shown or done: in words, inside the dashboard.

Flask's own error pages are a bare line of server language ("Forbidden: You don't have the
permission to access the requested resource"); a volunteer who meets one at 11pm should learn
what happened and what to do. The status codes do not change: a safeguarding case that a
moderator may not open still answers exactly as before (tests/web/dashboard/test_permissions.py).
Meta's endpoints keep Flask's plain answers: no person reads them.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

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
}


def init_app(app: Flask) -> None:
    for code in EXPLAINED:
        app.register_error_handler(code, _explained)


def _explained(error: HTTPException) -> ResponseReturnValue:
    if request.path.startswith(MACHINE_PATHS) or error.code not in EXPLAINED:
        return error
    return render_template("errors/explained.html", page=EXPLAINED[error.code]), error.code
