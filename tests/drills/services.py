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
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
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
    stop_leftovers,
    stop_process,
    use_production_services,
    write_config,
)

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check: Callable[[], Any], timeout: float, what: str, every: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


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
        wait_until(lambda: _port_open(self.port), 10, "the drill's redis to listen")
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


class HavenProcesses:
    """`haven serve` (gunicorn), `haven worker` and `haven tick`, as the Procfile runs them."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = {**os.environ, **env}
        self.logs = logs
        self.port = int(env["PORT"])
        self.web: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        self.others: list[subprocess.Popen[bytes]] = []

    def _spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 (closed with the process)
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", *args],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )
        log.close()  # the child has its own copy
        return process

    def start_web(self) -> subprocess.Popen[bytes]:
        self.web = self._spawn("web", "serve")
        wait_until(lambda: _port_open(self.port), 30, "gunicorn to listen")
        return self.web

    def stop_web(self, sig: int = signal.SIGTERM) -> None:
        """SIGTERM: gunicorn finishes the requests in hand and stops. SIGKILL: it just dies
        (its worker processes get SIGTERM from die_with_parent-like cleanup below)."""
        assert self.web is not None
        self.web.send_signal(sig)
        self.web.wait(timeout=30)
        wait_until(lambda: not _port_open(self.port), 30, "gunicorn's workers to stop")

    def start_worker(self) -> subprocess.Popen[bytes]:
        worker = self._spawn(f"worker{len(self.workers)}", "worker")
        self.workers.append(worker)
        return worker

    def start_tick(self) -> None:
        self.others.append(self._spawn("tick", "tick"))

    def stop_all(self) -> None:
        for process in [*self.workers, *self.others, *([self.web] if self.web else [])]:
            stop_process(process)

    def log_text(self) -> bytes:
        return b"".join(path.read_bytes() for path in sorted(self.logs.glob("*.log")))


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
        stop_leftovers(config)
        engine.dispose()
