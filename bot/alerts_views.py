"""The alerts inbox and acknowledge links."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("alerts", __name__)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
