"""The staff dashboard, sign-in, alerts and Meta's data-deletion callback: the Flask code.

Everything here reads and writes through `bot` domain functions and enqueues jobs by name; it
never imports the Graph client or `workers`. `init_app` is the one list of what is served.
"""

from __future__ import annotations

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from bot.cases import wording
from bot.web import alerts, errors, inputs, meta_deletion
from bot.web.auth import login, totp
from bot.web.dashboard import (
    actions,
    audit,
    base,
    case_actions,
    cases,
    check,
    consent,
    directory,
    holds,
    matches,
    page_filter,
    people,
    photo_consent,
    privacy,
    queue,
    record,
    rules,
    times,
)

# Every module that serves pages, in the order their blueprints are registered. The queue and
# the case pages share the `dashboard` blueprint (dashboard.queue, dashboard.cases and
# dashboard.case_detail are linked from everywhere), so it is registered once, for both.
PAGES = (
    login,
    totp,
    queue,
    cases,
    actions,
    case_actions,
    people,
    times,
    check,
    photo_consent,
    rules,
    audit,
    directory,
    matches,
    record,
    consent,
    privacy,
    holds,
    meta_deletion,
    alerts,
)
# Meta's data-deletion callback carries no CSRF token: its HMAC signature authenticates it.
CSRF_EXEMPT = (meta_deletion,)


def init_app(app: Flask, csrf: CSRFProtect) -> None:
    """Register every page, the sign-in manager and the template helpers."""
    inputs.install(app)  # before any blueprint: their <int:...> rules bind the converter now
    login.login_manager.init_app(app)
    errors.init_app(app)
    for blueprint in dict.fromkeys(module.bp for module in PAGES):
        app.register_blueprint(blueprint)
    for module in CSRF_EXEMPT:
        csrf.exempt(module.bp)
    app.context_processor(login.permissions)
    app.context_processor(alerts.alerts_waiting)
    app.add_template_global(page_filter.page_name, "page_name")
    app.add_template_global(page_filter.page_names, "page_names")
    app.add_template_filter(base.local_time, "local")
    app.add_template_filter(base.duration, "duration")
    app.add_template_global(base.status_label, "status_label")
    app.add_template_global(base.case_status_label, "case_status_label")
    app.add_template_global(base.CONSENT_LABELS, "consent_labels")
    app.add_template_global(wording.phrase, "concern_words")
    app.add_template_global(wording.phrases, "concern_phrases")
    app.add_template_global(wording.SEVERITY_WORDS, "severity_words")
