"""What every `haven` command shares: the --config option and loading settings for a command."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlmodel import Session

from bot.config import ConfigError, Settings, load_settings
from bot.crypto import DataKeyError, install_from_settings, require_keys
from bot.db import make_engine, session_scope

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


@contextmanager
def cli_session(settings: Settings) -> Iterator[Session]:
    """A session committed on success; a refusal (ValueError) rolls back and ends the command."""
    # The domain refuses with ValueError; the operator gets its message, not a traceback.
    try:
        with session_scope(make_engine(settings.database_url)) as session:
            yield session
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
