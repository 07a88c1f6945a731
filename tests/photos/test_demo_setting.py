"""`haven demo` contacts nothing of Meta's: its sample photo's made-up URL is not fetched."""

from __future__ import annotations

from pathlib import Path

from bot.demo.run import demo_settings
from tests.helpers import REPO, environ_for_tests


def test_the_demo_does_not_fetch_photos(tmp_path: Path) -> None:
    settings = demo_settings(str(REPO / "config.yaml"), environ_for_tests(tmp_path))
    assert settings.config.photos.fetch is False
    assert settings.config.meta.dry_run is True
