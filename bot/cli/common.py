"""What every `haven` command shares: the --config option, loading settings, and the database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from bot.config import ConfigError, Settings, load_settings
from bot.crypto import DataKeyError, install_from_settings, require_keys
from bot.db import head_revision, is_known_revision, make_engine, schema_revision, session_scope

# Every `haven` command that reads config.yaml takes it the same way.
CONFIG_OPTION = click.option(
    "--config", "config_path", type=click.Path(dir_okay=False), help="config.yaml to use."
)


def cli_settings(config_path: str | None, *, need_keys: bool = False) -> Settings:
    """The validated settings, with the data keys installed so message texts can be read.

    need_keys: refuse (naming HAVEN_DATA_KEYS) when no key is set, for commands that read or
    write message texts; operator commands that do not touch text work without one.
    """
    try:
        settings = load_settings(config_path)
        if need_keys:
            require_keys(settings)
    except (ConfigError, DataKeyError) as exc:
        raise click.ClickException(str(exc)) from None
    install_from_settings(settings)
    return settings


def cli_engine(settings: Settings) -> Engine:
    """The engine of a database already migrated to this version's head, or one clear line.

    Only `haven init-db` (and serve, worker, demo) create or upgrade the schema: an operator
    command run before it would otherwise end in "no such table" and leave an empty SQLite
    file behind, so the check creates nothing.
    """
    url = settings.database_url
    shown = make_url(url).render_as_string(hide_password=True)
    try:
        current = schema_revision(url)
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise click.ClickException(f"cannot open the database at {shown}: {reason}") from None
    wanted = head_revision()
    if current is None:
        raise click.ClickException(
            f"there is no Haven database at {shown} yet: run `haven init-db` first"
        )
    if current != wanted and is_known_revision(current):
        raise click.ClickException(
            f"the Haven database at {shown} is behind this version (revision {current}, "
            f"wanted {wanted}): run `haven init-db` to upgrade it"
        )
    if current != wanted:
        raise click.ClickException(
            f"the Haven database at {shown} was migrated by a newer Haven (revision {current}, "
            f"this version knows up to {wanted}): run the newer version"
        )
    return make_engine(url)


@contextmanager
def cli_session(settings: Settings) -> Iterator[Session]:
    """A session committed on success; a refusal (ValueError) rolls back and ends the command."""
    # The domain refuses with ValueError; the operator gets its message, not a traceback.
    try:
        with session_scope(cli_engine(settings)) as session:
            yield session
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
