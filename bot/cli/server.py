"""`haven serve`: gunicorn in front of create_app, bound to 127.0.0.1:$PORT.

In the embedded default there is one gunicorn worker process with a few threads, because the
in-process queue and the SQLite file belong to that one process. With Redis, run as many web
processes as you like (Procfile `web`), and `haven worker` / `haven tick` beside them.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from bot.app import create_app
from bot.config import Settings
from bot.ticker import start_ticker


def serving_app(settings: Settings) -> Flask:
    app = create_app(settings)
    if settings.embedded:
        context = app.extensions["haven"]
        start_ticker(context.enqueuer, settings.config.queue.sweep_every_seconds)
    return app


class HavenServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings, *, host: str = "127.0.0.1", workers: int = 2) -> None:
        self.settings = settings
        self.options = {
            "bind": f"{host}:{settings.port}",
            "workers": 1 if settings.embedded else workers,
            "worker_class": "gthread",
            "threads": 8,
            "timeout": 30,
            "graceful_timeout": 10,
            "accesslog": "-",
            # Query strings can carry the verify token; log the path only.
            "access_log_format": '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss',
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return serving_app(self.settings)
