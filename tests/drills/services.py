"""Services of the drills' own: a Redis and a PostgreSQL cluster that a drill may stop, kill and
restart, and the Haven processes (web, worker, tick) running against them.

The shared Redis (6379) and PostgreSQL (5432) serve every other test and helper on the machine:
a drill never stops them. It starts its own on free ports instead.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.engine import Engine

from bot.db import make_engine
from tests.helpers import (
    die_with_parent,
    environ_for_tests,
    service_unavailable,
    use_production_services,
    write_config,
)
from tests.support.stack import HavenProcesses, free_port, port_open, wait_until

__all__ = ["HavenProcesses", "free_port", "wait_until"]  # the drills import them from here too

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


class PrivateRedis:
    """A throwaway redis-server on a port of its own, with no persistence: killing it loses
    every queued job, which is the point of the drill."""

    def __init__(self) -> None:
        if not os.path.exists(REDIS_SERVER):
            service_unavailable("redis-server (for the drills' own Redis)")
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> PrivateRedis:
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],  # fmt: skip
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=die_with_parent,
        )
        wait_until(lambda: port_open(self.port), 10, "the drill's redis to listen")
        return self

    def kill(self) -> None:
        """Gone at once, queue and all, as when the Redis machine dies."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        self.kill()


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version_key)
    return Path(found[-1]).parent if found else None


def _version_key(path: str) -> tuple[int, ...]:
    version = Path(path).parents[1].name
    return tuple(int(part) for part in version.split(".") if part.isdigit())


class PrivateCluster:
    """A throwaway PostgreSQL cluster (initdb + pg_ctl) in a temporary folder, on a free port.

    initdb refuses to run as root, so as root everything runs as the `postgres` OS user in a
    folder it owns. Trust authentication on 127.0.0.1 only, like the shared test server.
    """

    def __init__(self) -> None:
        self.bin = _postgres_bin()
        if self.bin is None:
            service_unavailable("PostgreSQL server binaries (/usr/lib/postgresql/*/bin)")
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="haven-drill-pg-"))
        self.data = self.root / "data"
        self.as_postgres: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
            self.as_postgres = ["runuser", "-u", "postgres", "--"]

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/haven"

    def _run(self, *args: str, timeout: float = 60) -> None:
        subprocess.run([*self.as_postgres, *args], check=True, capture_output=True, timeout=timeout)

    def start(self) -> PrivateCluster:
        if not self.data.exists():
            self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres",
                      "-A", "trust", "--no-sync", "-E", "UTF8")  # fmt: skip
        self._pg_ctl("start", "-w", "-l", str(self.root / "log"))
        if not getattr(self, "_created", False):
            self._run(str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                      "-U", "postgres", "haven")  # fmt: skip
            self._created = True
        return self

    def _pg_ctl(self, *args: str) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off "
            "-c max_connections=100"
        )
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, *args)

    def stop(self, mode: str = "fast") -> None:
        """fast: disconnect every client and stop, as a restart or failover does."""
        if (self.data / "postmaster.pid").exists():
            self._pg_ctl("stop", "-w", "-m", mode)

    def destroy(self) -> None:
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def drill_config(tmp_path: Path, **meta: Any) -> Path:
    """The test config with timers short enough for a drill: the sweep runs every second and
    reclaims an item a dead worker held after three."""
    path = write_config(tmp_path, **meta)
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["queue"].update(sweep_every_seconds=1, stuck_after_seconds=3)
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@contextmanager
def running_stack(
    tmp_path: Path, database_url: str, redis_url: str, *, workers: int = 1
) -> Iterator[tuple[HavenProcesses, Engine]]:
    """Web, worker(s) and tick on PostgreSQL and a Redis of the drill's choosing, stopped (and
    any leftover process killed) however the drill ends."""
    config = str(drill_config(tmp_path))
    env = environ_for_tests(tmp_path, HAVEN_CONFIG=config, PORT=str(free_port()))
    use_production_services(env, database_url, redis_url)
    processes = HavenProcesses(env, tmp_path)
    engine = make_engine(database_url)
    try:
        processes.start_web()
        for _ in range(workers):
            processes.start_worker()
        processes.start_tick()
        yield processes, engine
    finally:
        processes.stop_all()
        engine.dispose()
