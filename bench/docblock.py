"""Generated blocks in docs/benchmarks.md: each bench script owns one and rewrites only it.

A block sits between `<!-- bench:NAME start -->` and `<!-- bench:NAME end -->`; the prose
around it is written by people and never touched. A block that is not there yet is appended
at the end of the file under its heading, so a first run needs no hand editing.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shlex
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"


def markers(name: str) -> tuple[str, str]:
    return f"<!-- bench:{name} start -->", f"<!-- bench:{name} end -->"


def replace_block(text: str, name: str, body: str, heading: str) -> str:
    """The document with block `name` holding `body` (appended under `heading` if absent)."""
    start, end = markers(name)
    block = f"{start}\n{body.rstrip()}\n{end}"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        _old, after = rest.split(end, 1)
        return before + block + after
    return text.rstrip() + f"\n\n{heading}\n\n{block}\n"


def write_block(name: str, body: str, heading: str, doc: Path = DOC) -> None:
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n"
    doc.write_text(replace_block(text, name, body, heading), encoding="utf-8")


def add_arguments(parser: argparse.ArgumentParser, block: str) -> None:
    """`--write-docs` and `--block`, for a script that owns the block named `block`."""
    parser.add_argument("--write-docs", action="store_true", help="update docs/benchmarks.md")
    parser.add_argument("--block", default=block, help="name of the docs block to write")


def publish(args: argparse.Namespace, text: str, heading: str) -> int:
    """Print a report and, with `--write-docs`, write it as the script's block."""
    print(text)
    if args.write_docs:
        write_block(args.block, text, heading)
    return 0


def run(main: Callable[[], int]) -> NoReturn:
    """Run a bench script's `main` and exit with its status."""
    # SIGTERM becomes an exception, so every `finally` stops processes and drops databases.
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    sys.exit(main())


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    return (
        f"{len(os.sched_getaffinity(0))} CPUs (nproc), {cpu}, {mem_kb / 1024**2:.1f} GiB RAM, "
        f"Linux {platform.release()}, Python {platform.python_version()}"
    )


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def code_state() -> str:
    """The commit measured and how many paths differ: others edit the tree while we run."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
            timeout=10,
        ).stdout.strip()  # fmt: skip
        changed = subprocess.run(
            ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, timeout=10
        ).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        return "unknown (no git)"
    return f"git {head or '?'} + {len(changed)} changed/untracked paths in the working tree"


def header(script: str, started: datetime.datetime, shared_note: str = "") -> str:
    """The lines every block starts with: command, date, machine, code, load."""
    command = shlex.join(["python", f"bench/{script}", *sys.argv[1:]])
    lines = [
        f"- command: `{command}`",
        f"- date: {started:%Y-%m-%d %H:%M} UTC",
        f"- machine: {machine()}",
        f"- code: {code_state()}",
        f"- load average (1/5/15 min) at the start: {loadavg()}",
    ]
    if shared_note:
        lines.append(f"- note: {shared_note}")
    return "\n".join(lines)


SHARED = (
    "the 2 CPUs were shared with other work during the run (other test suites and the "
    "databases), so every figure is a median of repeats and moves with that load"
)
