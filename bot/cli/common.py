"""What every `haven` command shares: the --config option, loading settings, and the database.

Commands that work on an existing database (`DATABASE_OPTIONS`) also find the demo's: with
`--demo`, or by themselves when no DATABASE_URL is set, the default database does not exist
and a `haven demo` run here recorded where its database is (bot/demo/where.py). Which one is
used is said on stderr, so nobody mistakes the demo's made-up items for their charity's.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from bot.config import ConfigError, Settings, load_settings
from bot.crypto import ENV_NAME as KEYS_ENV
from bot.crypto import DataKeyError, install_from_settings, require_keys
from bot.db import head_revision, is_known_revision, make_engine, schema_revision, session_scope
from bot.demo.where import WHERE_FILE, DemoDatabase, demo_folder, recorded

Command = TypeVar("Command", bound=Callable[..., Any])
# Set on a command's context by DATABASE_OPTIONS: True with --demo, False without.
_DEMO_META = "haven.demo"

# Every `haven` command that reads config.yaml takes it the same way.
CONFIG_OPTION = click.option(
    "--config", "config_path", type=click.Path(dir_okay=False), help="config.yaml to use."
)


def _note_demo(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    ctx.meta[_DEMO_META] = value
    return value


_DEMO_OPTION = click.option(
    "--demo",
    is_flag=True,
    expose_value=False,
    callback=_note_demo,
    help="Use the database of the last `haven demo` run here.",
)


def DATABASE_OPTIONS(command: Command) -> Command:  # noqa: N802 - a decorator, like CONFIG_OPTION
    """--config and --demo, for commands that work on an existing database."""
    return CONFIG_OPTION(_DEMO_OPTION(command))


def cli_settings(config_path: str | None, *, need_keys: bool = False) -> Settings:
    """The validated settings, with the data keys installed so message texts can be read.

    need_keys: refuse (naming HAVEN_DATA_KEYS) when no key is set, for commands that read or
    write message texts; operator commands that do not touch text work without one.
    """
    try:
        settings = _with_chosen_database(config_path, load_settings(config_path))
        if need_keys:
            require_keys(settings)
    except (ConfigError, DataKeyError) as exc:
        raise click.ClickException(str(exc)) from None
    install_from_settings(settings)
    return settings


def _with_chosen_database(config_path: str | None, settings: Settings) -> Settings:
    """The settings again, on the demo's database when it was asked for or is the only one."""
    context = click.get_current_context(silent=True)
    if context is None or _DEMO_META not in context.meta:
        return settings  # not a command that works on an existing database
    asked = bool(context.meta[_DEMO_META])
    demo = recorded(settings.instance_path)
    if asked and demo is None:
        where = demo_folder(settings.instance_path) / WHERE_FILE
        raise click.ClickException(
            f"no demo has run here ({where} does not exist): start one with `haven demo`"
        )
    if demo is None or not (asked or _only_the_demo(settings)):
        return settings
    chosen = load_settings(config_path, _demo_environment(demo))
    why = "--demo" if asked else "no DATABASE_URL is set and there is no database here yet"
    click.echo(f"using the demo's database at {chosen.database_url} ({why})", err=True)
    return chosen


def _only_the_demo(settings: Settings) -> bool:
    """No database of the charity's own is set or made yet, so the demo's is the only one."""
    if os.environ.get("DATABASE_URL") or os.environ.get("DATABASE_URL_FILE"):
        return False
    default = Path(settings.database_url.removeprefix("sqlite:///"))
    return not default.exists() or default.stat().st_size == 0


def _demo_environment(demo: DemoDatabase) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DATABASE_URL_FILE")}
    env["DATABASE_URL"] = demo.database_url
    if demo.data_keys_file is not None:
        # The demo's texts were sealed with the key it made for its run, not the operator's.
        env.pop(KEYS_ENV, None)
        env[f"{KEYS_ENV}_FILE"] = demo.data_keys_file
    return env


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
