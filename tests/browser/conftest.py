"""What every browser test shares: one headless Chromium per module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.support import CHROMIUM, chromium
from tests.helpers import service_unavailable


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        service_unavailable(f"Chromium at {CHROMIUM}")
    with chromium() as browser:
        yield browser
