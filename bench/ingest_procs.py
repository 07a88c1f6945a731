"""Processes: the children the bench starts and ends, and where the CPU went during a step.

The bench shares a small machine with whatever else runs on it, so a latency figure means
little without knowing whether the servers were short of CPU: each step is charged to the
web server, the worker, the load generator, PostgreSQL/Redis and everything else. Processes
are followed by parentage, not process group: rq puts each job's work-horse in a group of
its own, and its scheduler in a session of its own. Linux only.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # children run from the repository
_TICK = os.sysconf("SC_CLK_TCK")
# Shared services: they serve the production stack, but other users' tests too.
_SERVICES = frozenset({"postgres", "redis-server"})


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    comm: str
    cpu: float  # seconds: utime + stime + cutime + cstime (reaped children included)
    start: int  # clock ticks after boot; with pid it names one process, despite pid reuse


def processes() -> dict[int, Proc]:
    table: dict[int, Proc] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(entry.path, "stat").read_text()
        except OSError:
            continue  # exited while we looked
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        rest = raw[raw.rindex(")") + 2 :].split()
        # rest[0] is field 3 (state): ppid is field 4, utime..cstime 14-17, starttime 22.
        cpu = sum(int(x) for x in rest[11:15]) / _TICK
        table[int(entry.name)] = Proc(int(entry.name), int(rest[1]), comm, cpu, int(rest[19]))
    return table


def descendants(roots: Iterable[int], table: dict[int, Proc] | None = None) -> list[Proc]:
    """The roots and every process below them that is still alive."""
    table = processes() if table is None else table
    children: dict[int, list[int]] = {}
    for proc in table.values():
        children.setdefault(proc.ppid, []).append(proc.pid)
    found, todo = [], [r for r in roots if r in table]
    while todo:
        pid = todo.pop()
        found.append(table[pid])
        todo.extend(children.get(pid, ()))
    return found


@dataclass(frozen=True)
class Snapshot:
    wall: float
    busy: float  # CPU seconds the whole machine spent not idle (steal included)
    web: float
    worker: float
    client: float  # this process: the load generator's threads
    services: float
    own_db: float = 0.0  # the PostgreSQL backends serving the bench's own database


@dataclass(frozen=True)
class CpuShare:
    """Average CPUs in use (1.0 = one core fully busy) over an interval of `wall` seconds."""

    web: float
    worker: float
    client: float
    services: float
    other: float
    wall: float
    own_db: float = 0.0

    def cell(self) -> str:
        parts = (self.web, self.worker, self.client, self.services, self.other)
        return " / ".join(f"{p:.2f}" for p in parts)


def _machine_busy() -> float:
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    # guest time is already inside user; leave it out so it is not counted twice.
    return (sum(fields[:8]) - idle) / _TICK


def _backends_of(database: str, table: dict[int, Proc]) -> float:
    """CPU seconds of the PostgreSQL backends connected to `database` (their process title
    names it), so other users of the shared server are not charged to the bench."""
    total = 0.0
    for proc in table.values():
        if proc.comm != "postgres":
            continue
        try:
            title = Path(f"/proc/{proc.pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if f" {database} " in title:
            total += proc.cpu
    return total


def snapshot(
    web_roots: Iterable[int], worker_roots: Iterable[int], database: str | None = None
) -> Snapshot:
    table = processes()
    times = os.times()
    return Snapshot(
        wall=time.monotonic(),
        busy=_machine_busy(),
        # A live child is counted itself, a reaped one in its parent's cutime: never twice.
        web=sum(p.cpu for p in descendants(web_roots, table)),
        worker=sum(p.cpu for p in descendants(worker_roots, table)),
        client=times.user + times.system,
        services=sum(p.cpu for p in table.values() if p.comm in _SERVICES),
        own_db=_backends_of(database, table) if database else 0.0,
    )


def share(before: Snapshot, after: Snapshot) -> CpuShare:
    wall = max(after.wall - before.wall, 1e-9)
    pairs = (
        (before.web, after.web),
        (before.worker, after.worker),
        (before.client, after.client),
        (before.services, after.services),
    )
    # A process that exited unreaped between snapshots can make a delta negative: clamp.
    used = [max(0.0, b - a) for a, b in pairs]
    other = max(0.0, after.busy - before.busy - sum(used))
    own_db = max(0.0, after.own_db - before.own_db)
    return CpuShare(*(u / wall for u in used), other / wall, wall, own_db / wall)


class BenchError(RuntimeError):
    """A stack could not be set up; the message says which part and where its log is."""


class Processes:
    """Children in their own process groups, so a gunicorn master takes its workers with it."""

    def __init__(self) -> None:
        self.children: list[tuple[str, subprocess.Popen[bytes], Path]] = []

    def start(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> None:
        handle = log.open("ab")
        try:
            child = subprocess.Popen(
                argv, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        finally:
            handle.close()
        self.children.append((name, child, log))

    def pids(self, role: str) -> set[int]:
        """Pids of the children whose name starts with role ("web" or "worker")."""
        return {child.pid for name, child, _log in self.children if name.startswith(role)}

    def check_alive(self) -> None:
        for name, child, log in self.children:
            if child.poll() is not None:
                raise BenchError(f"{name} exited with {child.returncode}; see {log}\n{_tail(log)}")

    def stop_all(self) -> None:
        # rq gives each job's work-horse its own process group and its scheduler its own
        # session: note every descendant now, so none outlives the bench.
        tree = descendants(child.pid for _name, child, _log in self.children)
        for _name, child, _log in reversed(self.children):
            _signal_group(child, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for _name, child, _log in reversed(self.children):
            try:
                child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                # Still alive, so its group id is still ours to signal.
                _signal_group(child, signal.SIGKILL)
                try:
                    child.wait(5)
                except subprocess.TimeoutExpired:
                    print(f"warning: pid {child.pid} did not exit", file=sys.stderr)
        alive = processes()  # whatever of the noted tree is left: a leader's group is gone
        for proc in tree:
            if proc.pid in alive and alive[proc.pid].start == proc.start:  # not a reused pid
                try:
                    os.kill(proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        self.children.clear()


def _signal_group(child: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    try:
        os.killpg(child.pid, sig)  # the group id is the child's pid (start_new_session)
    except (ProcessLookupError, PermissionError):
        pass


def _tail(log: Path, lines: int = 15) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
