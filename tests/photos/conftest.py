from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cdn import LocalCDN


@pytest.fixture
def cdn(tmp_path: Path) -> Iterator[LocalCDN]:
    server = LocalCDN(tmp_path).start()
    try:
        yield server
    finally:
        server.stop()
