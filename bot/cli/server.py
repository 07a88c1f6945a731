"""`haven serve`: gunicorn in front of create_app, bound to 127.0.0.1:$PORT.

In the embedded default there is one gunicorn worker process with a few threads, because the
in-process queue and the SQLite file belong to that one process. With Redis, run as many web
processes as you like (Procfile `web`), and `haven worker` / `haven tick` beside them.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from bot.app import create_app
from bot.config import Settings
from bot.ticker import start_ticker


def serving_app(settings: Settings) -> Flask:
    app = create_app(settings)
    if settings.embedded:
        context = app.extensions["haven"]
        start_ticker(context.enqueuer, settings.config.queue.sweep_every_seconds)
    return app


# /people/<platform>/<a person's Meta id>[/removal]: the id is who was looked at. Slashes are
# matched loosely, as a client may send them doubled.
_PERSON_PATH = re.compile(r"(/+people/+[^/?\s]+/+)[^/?\s]+", re.IGNORECASE)
# Every atom a log format could read a request's address from.
_ADDRESS_ATOMS = ("r", "U", "f", "{raw_uri}e", "{path_info}e", "{request_uri}e", "{referer}i")


def redact_people(text: str) -> str:
    """The text with any person's id in a /people/ address replaced by "-"."""
    return _PERSON_PATH.sub(r"\1-", text)


class AccessLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger, writing addresses without people's ids (Procfile: --logger-class)."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        for name in _ADDRESS_ATOMS:
            if isinstance(atoms.get(name), str):
                atoms[name] = redact_people(atoms[name])
        return atoms


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
            # Query strings can carry the verify token; log the path only, and that without
            # people's ids.
            "access_log_format": '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss',
            "logger_class": "bot.cli.server.AccessLogger",
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return serving_app(self.settings)
