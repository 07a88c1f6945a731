"""create_app: the composition root of the web process (webhooks + dashboard)."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, jsonify
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import text
from werkzeug.exceptions import RequestEntityTooLarge

from bot.config import Settings, dashboard_secret_key, load_settings
from bot.context import JobContext, build_context, install
from bot.crypto import require_keys
from bot.db import upgrade
from bot.semantic import announce
from bot.tasks import Enqueuer
from bot.web import init_app as init_web
from bot.web.compiled_templates import PROCESS_TEMPLATES
from bot.web.uploads import InMemoryRequest
from bot.web.url_rules import SharedBuilderRule

csrf = CSRFProtect()


class HavenFlask(Flask):
    """Flask, with what every app would compile anew compiled once per process instead."""

    url_rule_class = SharedBuilderRule  # URL builders (bot/web/url_rules.py)
    jinja_options = {**Flask.jinja_options, "bytecode_cache": PROCESS_TEMPLATES}  # templates


def create_app(
    settings: Settings | None = None,
    *,
    enqueuer: Enqueuer | None = None,
    migrate: bool | None = None,
) -> Flask:
    """Build the web app. Without REDIS_URL it also owns the in-process queue and worker.

    `migrate` defaults to True for SQLite (the embedded default sets itself up) and False
    for PostgreSQL, where `haven init-db` runs once per release instead.
    """
    settings = settings or load_settings()
    require_keys(settings)  # gunicorn calls this directly (Procfile `web`), not through the CLI
    app = HavenFlask(
        __name__,
        instance_path=str(Path(settings.instance_path).resolve()),
        template_folder="web/templates",
        static_folder="web/static",
    )
    app.request_class = InMemoryRequest  # uploaded photos are hashed in memory, never spooled
    secure = settings.config.dashboard.secure_cookies
    app.config.update(
        SECRET_KEY=dashboard_secret_key(settings),
        # Werkzeug stops reading a body past this size and answers 413.
        MAX_CONTENT_LENGTH=settings.config.meta.max_body_bytes,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        REMEMBER_COOKIE_SECURE=secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        WTF_CSRF_TIME_LIMIT=None,
    )
    context = build_context(settings, enqueuer)
    if migrate if migrate is not None else settings.database_url.startswith("sqlite"):
        upgrade(context.engine)
    install(context)
    app.extensions["haven"] = context.for_views()  # views enqueue; they never call Graph
    announce(settings.config.rules.semantic)  # rules alone when the extra is absent: say so

    csrf.init_app(app)
    init_web(app, csrf)
    _register_webhooks(app)
    _register_health(app, context)
    _security_headers(app)
    if not logging.getLogger().handlers:
        # Under gunicorn nothing has configured logging yet; without this the app's INFO
        # lines (ids and counts only, never message text) would be dropped.
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
    return app


def _register_webhooks(app: Flask) -> None:
    from webhooks.routes import bp as webhooks_bp

    # Meta cannot send a CSRF token; the HMAC signature is what authenticates it.
    csrf.exempt(webhooks_bp)
    app.register_blueprint(webhooks_bp)

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(_error: RequestEntityTooLarge):  # type: ignore[no-untyped-def]
        return jsonify({"status": "body too large"}), 413


def _register_health(app: Flask, context: JobContext) -> None:
    @app.get("/healthz")
    def healthz():  # type: ignore[no-untyped-def]
        with context.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return jsonify(
            {"status": "ok", "queue": "redis" if context.settings.redis_url else "in-process"}
        )


def _security_headers(app: Flask) -> None:
    @app.after_request
    def _headers(response):  # type: ignore[no-untyped-def]
        # The people in these conversations are vulnerable: no framing, no sniffing, no
        # referrer leaking a case URL, and nothing loaded from anywhere but here.
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        )
        if response.mimetype == "text/html":
            response.headers.setdefault("Cache-Control", "no-store")
        return response
