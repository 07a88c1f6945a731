"""What the webhook sets up once per process, and storing then enqueueing one delivery.

Everything a delivery needs that does not change between deliveries (the secrets a signature
may be made with, the pages we know, the engine the store uses) is read when the app starts,
not per request.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from bot.context import Context
from bot.db import make_engine, session_scope
from bot.tasks import enqueue_new_items
from webhooks.events import Parsed
from webhooks.one_statement import store_in_one_statement
from webhooks.store import Stored, store_delivery

log = logging.getLogger(__name__)

# More than the threads a web process runs (Procfile), so no delivery waits for a connection.
POOL_SIZE = 16


@dataclass(frozen=True)
class Receiver:
    context: Context  # read per delivery for the queue only: tests swap it
    secrets: tuple[str, ...]
    known_accounts: frozenset[str]
    # PostgreSQL: its own pool in autocommit and without a ping per checkout; None on SQLite.
    one_statement_engine: Engine | None

    @classmethod
    def build(cls, context: Context) -> Receiver:
        settings = context.settings
        engine = None
        if context.engine.dialect.name == "postgresql":
            engine = make_engine(
                settings.database_url,
                isolation_level="AUTOCOMMIT",
                pool_pre_ping=False,
                # Kept open for every thread of the process: a connection opened and closed
                # per delivery would cost PostgreSQL a new backend each time.
                pool_size=POOL_SIZE,
            )
            # Whoever closes the app's pool (a test, a shutdown) closes this one with it.
            event.listen(context.engine, "engine_disposed", lambda _engine: engine.dispose())
        return cls(
            context=context,
            secrets=tuple(settings.app_secrets()),
            known_accounts=frozenset(a.id for a in settings.config.meta.accounts),
            one_statement_engine=engine,
        )

    def store(self, raw_text: str, parsed: Parsed) -> Stored:
        """Store the delivery and commit; only then may it be acknowledged."""
        if self.one_statement_engine is not None:
            stored = self._store_in_one_statement(raw_text, parsed)
            if stored is not None:
                return stored
        with session_scope(self.context.engine) as session:
            return store_delivery(session, raw_text, parsed, self.known_accounts)

    def _store_in_one_statement(self, raw_text: str, parsed: Parsed) -> Stored | None:
        assert self.one_statement_engine is not None
        for attempt in (1, 2):
            try:
                with self.one_statement_engine.connect() as connection:
                    return store_in_one_statement(connection, raw_text, parsed, self.known_accounts)
            except DBAPIError as exc:
                # With no ping, a connection that died with a database restart is found by
                # using it; SQLAlchemy then drops the whole pool, so one retry is enough. The
                # statement is idempotent, so a retry never stores anything twice.
                if attempt == 2 or not exc.connection_invalidated:
                    raise
                log.warning("webhook store: database connection lost; retrying once")
        return None  # not reached

    def enqueue(self, item_ids: list[int]) -> None:
        """Enqueue what was stored; a queue that is down costs latency, never the delivery."""
        try:
            enqueue_new_items(self.context.enqueuer, item_ids)
        except Exception as exc:  # Redis down: the items are safe, the sweep will enqueue them
            log.warning("enqueue of %d item(s) failed (%s); left for the sweep", len(item_ids), exc)


def install(app: Any) -> None:
    """Build the receiver once, when the blueprint is registered (bot/app.py)."""
    app.extensions["haven.webhooks"] = Receiver.build(app.extensions["haven"])
