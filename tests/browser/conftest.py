"""What every browser test shares: one headless Chromium per module."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.support import browser_or_skip


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from browser_or_skip()
