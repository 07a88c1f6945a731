"""What a job needs (settings, database, queue, rules), built once per process.

Jobs take ids only, so they find their dependencies here. The process that starts jobs installs
its context (`haven worker`, or the web app in the embedded default); a bare `rq worker` builds one
from the environment on first use. No Flask app context is involved.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cached_property

import requests
from sqlalchemy.engine import Engine

from bot.config import Settings, load_settings
from bot.crypto import install_from_settings
from bot.db import make_engine
from bot.graph.client import GraphClient
from bot.semantic import detection_ruleset
from bot.tasks import Enqueuer, make_enqueuer
from rules import RuleSet
from rules.semantic import naming_words


@dataclass
class Context:
    """What the web views and the jobs share: settings, database, queue and rules, no Graph."""

    settings: Settings
    engine: Engine
    enqueuer: Enqueuer

    @cached_property
    def ruleset(self) -> RuleSet:
        # The rules plus, when installed, the semantic stage; its model loads once per process.
        return detection_ruleset(self.settings.config.rules)

    @cached_property
    def ruleset_naming_words(self) -> RuleSet:
        # Trying a message: someone is waiting for the answer, so the words that weighed most
        # are named at once, whatever `explain_words` says for the worker (which leaves them
        # to "why?": bot/cases/weighing.py).
        return naming_words(self.ruleset)


@dataclass
class JobContext(Context):
    """A job's context: the shared one, and the Graph client only jobs may use."""

    def for_views(self) -> Context:
        """The same settings, database and queue without the Graph client (views never send)."""
        return Context(settings=self.settings, engine=self.engine, enqueuer=self.enqueuer)

    @cached_property
    def graph(self) -> GraphClient:
        settings, meta = self.settings, self.settings.config.meta
        secret = settings.meta_app_secret
        return GraphClient(
            session=requests.Session(),
            base_url=settings.graph_url,
            instagram_base_url=settings.instagram_graph_url,
            api_version=meta.graph_api_version,
            app_secret=secret.get_secret_value() if secret else None,
            tokens={k: v.get_secret_value() for k, v in settings.tokens.items()},
            dry_run=meta.dry_run,
            timeout=meta.timeout_seconds,
            instagram_login_accounts={a.id for a in meta.accounts if a.instagram_login},
        )


_current: JobContext | None = None
_install_lock = threading.Lock()


def build_context(settings: Settings, enqueuer: Enqueuer | None = None) -> JobContext:
    install_from_settings(settings)  # every process that builds a context reads and writes text
    engine = make_engine(settings.database_url)
    queue = enqueuer or make_enqueuer(settings.redis_url, settings.config.queue.retry_intervals)
    return JobContext(settings=settings, engine=engine, enqueuer=queue)


def install(context: JobContext) -> JobContext:
    global _current
    with _install_lock:
        _current = context
    return context


def current() -> JobContext:
    """The installed context, or one built from config.yaml and the environment."""
    global _current
    with _install_lock:
        if _current is None:
            _current = build_context(load_settings())
        return _current
