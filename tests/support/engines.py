"""One compiled-statement cache per kind of database for the whole test process.

SQLAlchemy compiles each statement once per engine: it caches the SQL on the engine, keyed by
the engine's dialect object. Haven makes one engine per process, so it compiles each statement
once. The tests make a new app, so a new engine, for almost every test, and compiled every
statement again: a quarter of a test process's time (cProfile over tests/web, tests/cases and
tests/workers).

Here each new engine takes the dialect and the cache of the first engine of its kind (driver
and engine options) that has connected. A dialect holds what SQLAlchemy learned of the driver
and the server on first connecting, which is the same for every engine of one kind here; the
new engine still opens its own connections to its own database. Only engines made in the test
process share: Haven's own processes (gunicorn, `haven worker`) make their engines as they do
in production.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.util import LRUCache

import bot.db

# Room for every statement of the suite, so no test evicts another's.
CACHE_SIZE = 20_000

_Kind = tuple[str, str]
_shared: dict[_Kind, tuple[Dialect, Any]] = {}


def _kind(engine: Engine, options: dict[str, Any]) -> _Kind:
    return (engine.url.drivername, repr(sorted(options.items(), key=lambda kv: kv[0])))


def _sharing(create_engine: Any) -> Any:
    def create(url: Any, **options: Any) -> Engine:
        engine = create_engine(url, **options)
        kind = _kind(engine, options)
        if kind in _shared:
            engine.dialect, engine._compiled_cache = _shared[kind]
            return engine

        def adopt(_dbapi_connection: Any, _record: Any) -> None:
            # After SQLAlchemy's own first-connect listener has initialised the dialect.
            engine._compiled_cache = LRUCache(CACHE_SIZE)
            _shared.setdefault(kind, (engine.dialect, engine._compiled_cache))

        event.listen(engine, "connect", adopt, once=True)
        return engine

    return create


@contextmanager
def shared_compiled_statements() -> Iterator[None]:
    """While open, engines made through bot.db.make_engine share their kind's cache."""
    original = bot.db.create_engine
    bot.db.create_engine = _sharing(original)
    try:
        yield
    finally:
        bot.db.create_engine = original
        _shared.clear()
