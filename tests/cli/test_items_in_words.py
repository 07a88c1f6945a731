"""`haven items` says what Haven found in the dashboard's words; `--json` keeps the codes."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from bot.app import create_app
from bot.cli import main
from bot.tasks import LocalEnqueuer
from tests.helpers import environ_for_tests, make_settings, page_comment, signed_post, write_config


def test_items_name_what_was_found_in_words_and_json_keeps_the_codes(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    app = create_app(settings, enqueuer=LocalEnqueuer([0]), migrate=True)
    delivery = page_comment("Call me on 07700 900123, I really need someone to talk to")
    assert signed_post(app.test_client(), delivery).status_code == 200
    assert app.extensions["haven"].enqueuer.wait_idle()
    app.extensions["haven"].enqueuer.stop()
    app.extensions["haven"].engine.dispose()
    env = environ_for_tests(
        tmp_path, DATABASE_URL=settings.database_url, HAVEN_CONFIG=str(write_config(tmp_path))
    )
    shown = CliRunner().invoke(main, ["items"], env=env)
    assert shown.exit_code == 0, shown.output
    (line,) = shown.output.splitlines()
    assert "Gives a phone number" in line
    assert "pii." not in line and "help_request." not in line
    listed = CliRunner().invoke(main, ["items", "--json"], env=env)
    (row,) = [json.loads(x) for x in listed.output.splitlines()]
    assert "pii.phone" in row["categories"]
