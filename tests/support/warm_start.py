"""Haven's processes for the end-to-end tests, forked from a Python that has imported Haven.

A `haven worker`, `haven serve` or `haven tick` started with `python -m bot` spends 1.5
CPU-seconds or more before its first job, importing (0.9), compiling the rules and loading the
model, and the suite starts some fifty of them. The starter is one `python -m
tests.support.warm_start` per test process: it imports what those commands import, compiles
the repository's rules and loads the model, then forks a child for each start. The child takes
the test's environment, log file and arguments, and runs the `haven` command's own entry point,
as `python -m bot` would; it is a real process of its own, which the drills signal and kill.
Gunicorn's `--preload` starts its workers the same way. What the cold start itself does is
still tested where it matters: tests/cli and tests/browser/test_demo.py run `python -m bot`.

The protocol is a line of JSON per start on a Unix socket; the starter answers with the
child's pid and, when the child ends, its exit code on the same connection.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from tests.helpers import REPO, die_with_parent

# What the commands started through the starter import before their first line of work,
# some of it only once they connect (the drivers of PostgreSQL and Redis, rq, the webhooks).
PRELOAD = (
    "bot.cli",
    "bot.cli.server",
    "bot.app",
    "bot.ticker",
    "workers.jobs",
    "gunicorn.arbiter",
    "psycopg",
    "sqlalchemy.dialects.postgresql.psycopg",
    "redis",
    "rq",
    "webhooks.routes",
    "threadpoolctl",
)


class WarmProcess:
    """The part of `subprocess.Popen` the tests use, for a child of the starter (not of this
    process, so its exit code comes over the connection instead of from waitpid)."""

    def __init__(self, connection: socket.socket, pid: int) -> None:
        self._connection = connection
        self.pid = pid
        self.returncode: int | None = None

    def _read_exit(self, timeout: float | None) -> None:
        if self.returncode is not None:
            return
        self._connection.settimeout(timeout)
        try:
            data = self._connection.recv(64)
        except (TimeoutError, BlockingIOError):
            return
        self._connection.settimeout(5)
        while data and (more := self._connection.recv(64)):  # the starter closes after it
            data += more
        # Nothing at all means the starter itself went away, and its children with it.
        self.returncode = int(data) if data else -signal.SIGKILL
        self._connection.close()

    def poll(self) -> int | None:
        self._read_exit(0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        self._read_exit(timeout)
        if self.returncode is None:
            raise subprocess.TimeoutExpired(f"haven process {self.pid}", timeout or 0)
        return self.returncode

    def send_signal(self, sig: int) -> None:
        # As Popen: a process already reaped is not signalled (its pid may be someone else's).
        if self.poll() is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def kill_group(self) -> None:
        """Kill the child and whatever it started (rq's scheduler is a child of the worker)."""
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


class WarmStarter:
    """This test process's starter, started on first use."""

    _lock = threading.Lock()
    _running: WarmStarter | None = None

    def __init__(self) -> None:
        self.address = str(Path(tempfile.mkdtemp(prefix="haven-warm-")) / "starter.sock")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.warm_start", self.address],
            cwd=REPO,  # where `tests` can be imported, wherever pytest was started
            stdin=subprocess.DEVNULL,
            preexec_fn=die_with_parent,
        )
        self._ready()

    def _ready(self) -> None:
        from tests.support.stack import wait_until

        def up() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(f"the warm starter exited with {self.process.returncode}")
            return Path(self.address).exists()

        wait_until(up, 60, "the warm starter", every=0.02)

    @classmethod
    def shared(cls) -> WarmStarter:
        with cls._lock:
            if cls._running is None or cls._running.process.poll() is not None:
                cls._running = cls()
            return cls._running

    def start(self, args: list[str], env: dict[str, str], log: Path) -> WarmProcess:
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.connect(self.address)
        request = {"args": args, "env": env, "log": str(log), "cwd": os.getcwd()}
        connection.sendall(json.dumps(request).encode() + b"\n")
        pid = b""
        while not pid.endswith(b"\n"):
            chunk = connection.recv(32)
            if not chunk:
                raise RuntimeError("the warm starter closed the connection before starting")
            pid += chunk
        return WarmProcess(connection, int(pid))


# --- the starter process -----------------------------------------------------------------


def _serve(address: str) -> None:
    import gc
    import importlib

    gc.set_threshold(10_000, 10, 10)  # as bot/__main__.py: the imports build long-lived graphs
    for module in PRELOAD:
        importlib.import_module(module)
    _compile_the_rules()
    gc.collect()
    gc.freeze()  # the children share these pages instead of each collector touching them

    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(address + ".tmp")
    listener.listen(16)
    os.rename(address + ".tmp", address)  # the test process waits for this name
    waiting: dict[int, socket.socket] = {}
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    selector.register(wake_read, selectors.EVENT_READ)
    while True:
        for key, _ in selector.select():
            if key.fileobj is listener:
                connection, _ = listener.accept()
                pid = _start(connection, listener, waiting, (wake_read, wake_write))
                waiting[pid] = connection
                connection.sendall(f"{pid}\n".encode())
            else:
                os.read(wake_read, 512)
        _reap(waiting)


def _compile_the_rules() -> None:
    """The repository's rules compiled and the model loaded, as each worker's first item needs
    them. Both are pure and kept by configuration (rules/loader.py, bot/semantic.py), so a
    child with the same rules finds them built; one with other rules builds its own."""
    from bot.config import load_settings
    from bot.semantic import _embedder, availability
    from rules import load_ruleset
    from tests.helpers import environ_for_tests

    rules = load_settings(REPO / "config.yaml", environ_for_tests(Path(os.devnull))).config.rules
    load_ruleset(rules)
    state = availability(rules.semantic)
    if state.on:
        _embedder(str(state.model_path), str(state.tokenizer_path))


def _reap(waiting: dict[int, socket.socket]) -> None:
    while waiting:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        connection = waiting.pop(pid, None)
        if connection is not None:
            try:
                connection.sendall(str(os.waitstatus_to_exitcode(status)).encode())
            except OSError:  # the test is gone already
                pass
            connection.close()


def _start(
    connection: socket.socket,
    listener: socket.socket,
    waiting: dict[int, socket.socket],
    wake: tuple[int, int],
) -> int:
    line = b""
    while not line.endswith(b"\n") and (chunk := connection.recv(65536)):
        line += chunk
    request = json.loads(line)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        # As a fresh Python's: the starter's own handlers are not the command's.
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        for fd in wake:
            os.close(fd)
        for other in (listener, connection, *waiting.values()):
            other.close()
        # A group of its own, so that what it starts (rq's scheduler, gunicorn's workers) can
        # be stopped with it; and it dies with the starter, as the starter with the test.
        os.setpgid(0, 0)
        die_with_parent()
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        log = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.dup2(log, 1)
        os.dup2(log, 2)
        sys.argv = ["haven", *request["args"]]
        from bot.__main__ import haven

        haven()
        code = 0
    except SystemExit as exit:
        code = exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        import atexit

        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _main(argv: list[str]) -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        _serve(argv[0])
    finally:
        for path in (argv[0], argv[0] + ".tmp"):
            Path(path).unlink(missing_ok=True)
        Path(argv[0]).parent.rmdir()


if __name__ == "__main__":
    _main(sys.argv[1:])
