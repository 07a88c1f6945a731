"""Message texts and names are encrypted at rest; rotation, legacy rows and missing keys."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import StatementError
from sqlmodel import Session, select

from bot.config import ConfigError, load_settings
from bot.crypto import DataKeyError, generate_key
from bot.crypto_rotate import rotate
from bot.db import session_scope
from bot.models import AuditEntry, Case, InboundEvent, Item, ReplyDraft, utcnow
from bot.models.dashboard import CaseEvent, PersonMark
from tests.helpers import REPO, environ_for_tests, make_settings

WORDS = "I feel unsafe at home tonight"
NAME = "Jo Visitor"


def _write_rows(engine: Engine) -> int:
    """One of each encrypted kind of row; returns the item id."""
    with session_scope(engine) as session:
        event = InboundEvent(body_sha256="a" * 64, body=f'{{"message": "{WORDS}"}}')
        session.add(event)
        session.flush()
        item = Item(
            event_id=event.id, delivery_key="k1", platform="facebook", channel="fb_comment",
            verb="add", account_id="1", external_id="c1", author_id="42", author_name=NAME,
            author_username="jo.v", text=WORDS, created_at=utcnow(),
        )  # fmt: skip
        case = Case(case_type="help", platform="facebook", account_id="1", author_id="42")
        session.add_all([item, case])
        session.flush()
        session.add(ReplyDraft(item_id=item.id, kind="private", template="t", text=f"Hi {NAME}"))
        session.add(CaseEvent(case_id=case.id, kind="note", text=f"{NAME} asked for help"))
        session.add(PersonMark(platform="facebook", author_id="42", reason=f"{NAME} was abusive"))
        return item.id  # type: ignore[return-value]


RAW_COLUMNS = (
    "SELECT text FROM items", "SELECT author_name FROM items", "SELECT author_username FROM items",
    "SELECT body FROM inbound_events", "SELECT text FROM reply_drafts",
    "SELECT text FROM case_events", "SELECT reason FROM person_marks",
)  # fmt: skip


def _raw_values(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return [connection.execute(text(q)).scalar_one() for q in RAW_COLUMNS]


def test_the_database_holds_only_ciphertext_and_haven_reads_plain_text(engine: Engine) -> None:
    item_id = _write_rows(engine)
    for raw in _raw_values(engine):
        assert raw.startswith("enc1:gAAAAA")
        assert NAME not in raw and "unsafe" not in raw and "jo.v" not in raw
    with Session(engine) as session:
        item = session.get(Item, item_id)
        assert item is not None and (item.text, item.author_name) == (WORDS, NAME)
        assert session.exec(select(PersonMark.reason)).one() == f"{NAME} was abusive"
        assert session.exec(select(CaseEvent.text)).one() == f"{NAME} asked for help"


def test_rows_written_before_encryption_are_still_read(engine: Engine) -> None:
    _write_rows(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE items SET text = 'plain old words', author_name = NULL"))
    with Session(engine) as session:
        item = session.exec(select(Item)).one()
        assert item.text == "plain old words" and item.author_name is None


def test_rotation_reseals_everything_so_the_old_key_can_go(
    engine: Engine, use_keys: Callable[..., None]
) -> None:
    old, new = generate_key(), generate_key()
    use_keys(old)
    _write_rows(engine)
    with engine.begin() as connection:  # and one row from before encryption was switched on
        connection.execute(text("UPDATE items SET author_username = 'legacy.handle'"))
    use_keys(new, old)
    changed = rotate(engine, batch_size=2)
    assert changed["items"] == 1 and changed["inbound_events"] == 1
    assert changed["case_events"] == 1 and changed["person_marks"] == 1
    assert rotate(engine) == {table: 0 for table in changed}  # a second run changes nothing

    use_keys(new)  # the old key is gone, and everything is still readable
    for raw in _raw_values(engine):
        Fernet(new).decrypt(raw.removeprefix("enc1:"))
    with Session(engine) as session:
        item = session.exec(select(Item)).one()
        assert (item.text, item.author_name, item.author_username) == (WORDS, NAME, "legacy.handle")
        assert session.exec(select(CaseEvent.text)).one() == f"{NAME} asked for help"
        rotations = session.exec(select(AuditEntry).where(AuditEntry.action == "keys.rotated"))
        assert [entry.detail["rows"]["items"] for entry in rotations] == [1, 0]


def test_a_value_sealed_with_an_unknown_key_fails_with_a_clear_error(
    engine: Engine, use_keys: Callable[..., None]
) -> None:
    _write_rows(engine)
    use_keys(generate_key())
    with Session(engine) as session, pytest.raises(DataKeyError, match="HAVEN_DATA_KEYS"):
        session.exec(select(Item)).one()
    with pytest.raises(DataKeyError, match=r"(items|inbound_events) row 1: .* HAVEN_DATA_KEYS"):
        rotate(engine)


def test_writing_text_without_any_key_is_refused(
    engine: Engine, use_keys: Callable[..., None]
) -> None:
    use_keys()
    with pytest.raises(StatementError, match="haven keys generate") as error:
        _write_rows(engine)
    assert isinstance(error.value.orig, DataKeyError)


def test_encrypted_columns_cannot_be_searched_in_sql() -> None:
    with pytest.raises(TypeError, match="encrypted at rest"):
        select(Item).where(Item.text.contains("unsafe"))  # type: ignore[union-attr]
    with pytest.raises(TypeError, match="encrypted at rest"):
        select(Item).where(Item.author_name == NAME)
    assert "IS NOT NULL" in str(select(Item.id).where(Item.text.is_not(None)))  # type: ignore[union-attr]


def test_long_running_processes_refuse_to_start_without_a_key(tmp_path: Path) -> None:
    from bot.app import create_app
    from bot.cli import main

    env = environ_for_tests(tmp_path)
    del env["HAVEN_DATA_KEYS"]
    with pytest.raises(DataKeyError, match="HAVEN_DATA_KEYS.*haven keys generate"):
        create_app(load_settings(REPO / "config.yaml", env))
    for command in (["serve"], ["worker"], ["tick", "--once"]):
        result = CliRunner().invoke(main, command, env={**env, "HAVEN_CONFIG": ""})
        assert result.exit_code == 1, result.output
        assert (
            "HAVEN_DATA_KEYS is not set" in result.output and "haven keys generate" in result.output
        )


def test_keys_come_from_the_environment_and_are_never_shown(tmp_path: Path) -> None:
    from bot.cli import main

    key = generate_key()
    settings = make_settings(tmp_path, HAVEN_DATA_KEYS=f"{key}, {generate_key()}")
    assert len(settings.data_keys) == 2 and key not in repr(settings)
    with pytest.raises(ConfigError, match="key 2 of 2 is not a Fernet key") as error:
        make_settings(tmp_path, HAVEN_DATA_KEYS=f"{key},not-a-key")
    assert "not-a-key" not in str(error.value)
    runner = CliRunner()
    env = environ_for_tests(tmp_path, HAVEN_DATA_KEYS=key)
    checked = runner.invoke(main, ["check-config", "--config", str(REPO / "config.yaml")], env=env)
    assert "data keys 1 set" in checked.output and key not in checked.output
    del env["HAVEN_DATA_KEYS"]
    unset = runner.invoke(main, ["check-config", "--config", str(REPO / "config.yaml")], env=env)
    assert "data keys NOT SET" in unset.output
    generated = runner.invoke(main, ["keys", "generate"]).output.strip()
    assert Fernet(generated).decrypt(Fernet(generated).encrypt(b"x")) == b"x"


def test_haven_keys_rotate_from_the_command_line(
    tmp_path: Path, use_keys: Callable[..., None]
) -> None:
    from bot.cli import main
    from bot.db import make_engine

    old, new = generate_key(), generate_key()
    env = environ_for_tests(tmp_path, HAVEN_DATA_KEYS=old)
    engine = make_engine(env["DATABASE_URL"])
    use_keys(old)
    _write_rows(engine)
    config = ["--config", str(REPO / "config.yaml")]
    result = CliRunner().invoke(
        main, ["keys", "rotate", *config], env={**env, "HAVEN_DATA_KEYS": f"{new},{old}"}
    )
    assert result.exit_code == 0, result.output
    assert "items: 1 rows re-encrypted" in result.output
    use_keys(new)
    assert all(Fernet(new).decrypt(raw.removeprefix("enc1:")) for raw in _raw_values(engine))
    engine.dispose()
