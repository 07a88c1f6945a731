"""The access log that `haven serve` and the Procfile's gunicorn write: no person's Meta id.

A person's page is /people/<platform>/<their Meta id>; the access log is kept longer and read
by more people than the database, and must not become a list of who was looked at.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot.cli.server import HavenServer
from tests.helpers import REPO, make_settings

PERSON = "6000000000000042"


def _logged(tmp_path: Path, path: str, method: str = "GET") -> str:
    server = HavenServer(make_settings(tmp_path))  # configured as `haven serve` runs it
    log_file = tmp_path / "access.log"
    server.cfg.set("accesslog", str(log_file))
    logger = server.cfg.logger_class(server.cfg)
    environ = {
        "REQUEST_METHOD": method,
        "RAW_URI": path,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_REFERER": f"http://127.0.0.1:5000{path}",
    }
    response = SimpleNamespace(status="200 OK", sent=512, headers=[])
    try:
        logger.access(response, SimpleNamespace(headers=[]), environ, timedelta(milliseconds=3))
    finally:
        for handler in [*logger.access_log.handlers, *logger.error_log.handlers]:
            handler.close()
    return log_file.read_text()


@pytest.mark.parametrize(
    "path",
    [
        f"/people/facebook/{PERSON}",
        f"/people/instagram/{PERSON}/removal",
        f"//people//facebook/{PERSON}",
    ],
)
def test_a_person_page_is_logged_without_the_persons_id(tmp_path: Path, path: str) -> None:
    line = _logged(tmp_path, path)
    assert PERSON not in line
    assert "/people/" in line and " 200 " in line  # the request itself is still there


def test_other_paths_are_logged_as_they_are(tmp_path: Path) -> None:
    assert '"GET /cases/17" 200' in _logged(tmp_path, "/cases/17")


def test_the_procfile_runs_gunicorn_with_the_same_access_logger() -> None:
    procfile = (REPO / "Procfile").read_text()
    web = next(line for line in procfile.splitlines() if line.startswith("web:"))
    assert "--logger-class bot.cli.server.AccessLogger" in web
