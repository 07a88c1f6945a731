"""The drills' own Redis and PostgreSQL, which they may kill: never the shared ones."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.drills.services import PrivateCluster, PrivateRedis


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    redis = PrivateRedis().start()
    yield redis
    redis.stop()


@pytest.fixture
def private_cluster() -> Iterator[PrivateCluster]:
    cluster = PrivateCluster()
    try:
        yield cluster.start()
    finally:
        cluster.destroy()
