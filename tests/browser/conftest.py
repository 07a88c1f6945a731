"""What every browser test shares: one headless Chromium per test process (each test takes a
context of its own, so nothing but the start-up is shared)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.support import browser_or_skip


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    yield from browser_or_skip()
