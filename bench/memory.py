"""Memory and start-up benchmark (issue 10): how big the processes are, how fast they start.

Usage: .venv/bin/python bench/memory.py [--rate 100] [--duration 20] [--repeats 3]
       [--redis-db 10] [--write-docs]

Production shape (bench/ingest_stacks.py: gunicorn 2 workers x 8 threads, PostgreSQL, Redis,
one `haven worker`) and the embedded default (`haven serve`). For each process group (a
gunicorn master with its workers; a worker with any children) it reads resident size from
/proc: RSS summed over the processes, and PSS (pages shared between a gunicorn master and its
forked workers counted once, split between them), which is what the group really costs.
Sizes are taken after start-up and 20 warm-up requests ("at rest"), as the peak sampled every
0.5 s while `--rate` signed deliveries a second arrive for `--duration` s ("under load"), and
5 s after the load stops.

Start-up: `haven serve` and the production gunicorn, from exec to the first 200 from /healthz;
`haven worker`, from exec to the first job done (one item stored before it starts, so the
time includes importing, compiling the rules, connecting and claiming). Median of `--repeats`.
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import docblock  # noqa: E402
import ingest_stacks as stacks  # noqa: E402
from ingest_procs import Processes, descendants  # noqa: E402
from loadgen import make_deliveries, run_step  # noqa: E402

WEBHOOK_PATH = "/webhooks/meta"
MIB = 1024 * 1024


def group_memory(roots: set[int]) -> tuple[float, float, int]:
    """(RSS MiB, PSS MiB, process count) of these processes and all below them."""
    rss = pss = 0
    procs = descendants(roots)
    for proc in procs:
        try:
            for line in Path(f"/proc/{proc.pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1]) * 1024
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1]) * 1024
        except OSError:
            continue  # exited while we looked
    return rss / MIB, pss / MIB, len(procs)


def measure(stack: stacks.Stack, args: argparse.Namespace, tag: str) -> dict[str, dict]:  # type: ignore[type-arg]
    procs = stack.processes
    assert procs is not None
    groups = {role: procs.pids(role) for role in ("web", "worker") if procs.pids(role)}
    warm = make_deliveries(20, page_id=stacks.PAGE_ID, secret=stack.secret, tag=f"{tag}8")
    run_step("127.0.0.1", stack.port, WEBHOOK_PATH, warm, 20.0, connections=4)
    time.sleep(3)
    rest = {role: group_memory(pids) for role, pids in groups.items()}
    peak = dict(rest)
    deliveries = make_deliveries(
        round(args.rate * args.duration), page_id=stacks.PAGE_ID, secret=stack.secret, tag=tag
    )
    sender = threading.Thread(
        target=run_step,
        args=("127.0.0.1", stack.port, WEBHOOK_PATH, deliveries, args.rate),
        kwargs={"connections": 16},
    )
    sender.start()
    while sender.is_alive():
        for role, pids in groups.items():
            now = group_memory(pids)
            peak[role] = tuple(max(a, b) for a, b in zip(peak[role], now, strict=True))  # type: ignore[assignment]
        time.sleep(0.5)
    sender.join()
    time.sleep(5)
    after = {role: group_memory(pids) for role, pids in groups.items()}
    return {role: {"rest": rest[role], "peak": peak[role], "after": after[role]} for role in groups}


def time_web_start(argv: list[str], env: dict[str, str], workdir: Path) -> float:
    """Seconds from exec to the first 200 on /healthz, on a port of its own."""
    port = stacks.free_port()
    procs = Processes()
    try:
        started = time.monotonic()
        procs.start("web: timed", argv(port), {**env, "PORT": str(port)}, workdir / "t.log")  # type: ignore[operator]
        stacks._wait_ready(port, procs)
        return time.monotonic() - started
    finally:
        procs.stop_all()


def time_worker_start(stack: stacks.Stack, workdir: Path, tag: str) -> float:
    """Seconds from exec of `haven worker` to its first job done (one item waiting)."""
    one = make_deliveries(1, page_id=stacks.PAGE_ID, secret=stack.secret, tag=tag, dm_share=0)
    run_step("127.0.0.1", stack.port, WEBHOOK_PATH, one, 10.0, connections=1)
    procs = Processes()
    try:
        started = time.monotonic()
        procs.start("worker: timed", stacks.haven("worker", True), stack.env, workdir / "w.log")
        deadline = started + 60
        while time.monotonic() < deadline:
            procs.check_alive()
            if stack.progress()[0] == 0:
                return time.monotonic() - started
            time.sleep(0.05)
        raise stacks.BenchError("the timed worker did not finish its job in 60 s")
    finally:
        procs.stop_all()


def gunicorn_argv(port: int) -> list[str]:
    return [
        str(stacks.BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2",
        "--worker-class", "gthread", "--threads", "8", "bot.app:create_app()",
    ]  # fmt: skip


def serve_argv(_port: int) -> list[str]:
    return stacks.haven("serve", True)  # PORT comes from the environment


def run(args: argparse.Namespace) -> tuple[list[dict], dict[str, list[float]]]:  # type: ignore[type-arg]
    sizes: list[dict] = []  # type: ignore[type-arg]
    starts: dict[str, list[float]] = {"haven serve (embedded)": [], "gunicorn (production)": [],
                                      "haven worker": []}  # fmt: skip
    nonce = int(time.time()) % 1000
    for repeat in range(args.repeats):
        with tempfile.TemporaryDirectory(prefix="haven-mem-") as tmp:
            workdir = Path(tmp)
            with stacks.production_stack(
                workdir, web_workers=2, rq_workers=1, redis_db=args.redis_db, use_cli=True
            ) as stack:
                sizes.append({"stack": "production", **measure(stack, args, f"{nonce}{repeat}1")})
                starts["gunicorn (production)"].append(
                    time_web_start(gunicorn_argv, stack.env, workdir)  # type: ignore[arg-type]
                )
        with tempfile.TemporaryDirectory(prefix="haven-mem-") as tmp:
            # No worker of its own: the timed one is the only one to take the waiting item.
            with stacks.production_stack(
                Path(tmp), web_workers=1, rq_workers=0, redis_db=args.redis_db, use_cli=True
            ) as stack:
                starts["haven worker"].append(
                    time_worker_start(stack, Path(tmp), f"{nonce}{repeat}7")
                )
        with tempfile.TemporaryDirectory(prefix="haven-mem-") as tmp:
            with stacks.embedded_stack(Path(tmp), use_cli=True) as stack:
                sizes.append({"stack": "embedded", **measure(stack, args, f"{nonce}{repeat}2")})
                starts["haven serve (embedded)"].append(
                    time_web_start(serve_argv, stack.env, Path(tmp))  # type: ignore[arg-type]
                )
        print(f"  repeat {repeat + 1}: {sizes[-2:]} {starts}", file=sys.stderr)
    return sizes, starts


def report(
    args: argparse.Namespace,
    started: datetime.datetime,
    sizes: list[dict],  # type: ignore[type-arg]
    starts: dict[str, list[float]],
) -> str:
    lines = [
        docblock.header("memory.py", started, docblock.SHARED),
        f"- load: {args.rate:g} signed deliveries a second for {args.duration:g} s (80% Page "
        f"comments, 20% DMs); {args.repeats} runs, medians shown (MiB, 1 MiB = 2^20 bytes)",
        "",
        "| stack | processes | at rest RSS / PSS | under load, peak RSS / PSS "
        "| 5 s after RSS / PSS |",
        "|---|---|---:|---:|---:|",
    ]
    for stack, role in (("production", "web"), ("production", "worker"), ("embedded", "web")):
        rows = [s[role] for s in sizes if s["stack"] == stack and role in s]
        if not rows:
            continue
        cells = []
        for phase in ("rest", "peak", "after"):
            rss = statistics.median(r[phase][0] for r in rows)
            pss = statistics.median(r[phase][1] for r in rows)
            cells.append(f"{rss:.0f} / {pss:.0f}")
        count = rows[0]["rest"][2]
        name = {"production": {"web": "gunicorn master + 2 workers", "worker": "`haven worker`"},
                "embedded": {"web": "`haven serve` (gunicorn master + 1 worker, in-process "
                             "queue and worker)"}}[stack][role]  # fmt: skip
        lines.append(f"| {stack} | {name} ({count} processes) | {' | '.join(cells)} |")
    lines += ["", "| start-up | median s | runs |", "|---|---:|---|"]
    for name, values in starts.items():
        if values:
            each = ", ".join(f"{v:.2f}" for v in values)
            lines.append(f"| {name} | {statistics.median(values):.2f} | {each} |")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--repeats", type=int, default=3)
    stacks.add_redis_db_argument(parser, default=10)
    docblock.add_arguments(parser, block="memory")
    args = parser.parse_args(argv)
    if not (0 < args.rate <= 1000 and 0 < args.duration <= 300 and 1 <= args.repeats <= 10):
        parser.error("--rate in (0, 1000], --duration in (0, 300], --repeats 1..10")
    stacks.check_redis_db(parser, args.redis_db)
    return args


def main(argv: list[str] | None = None) -> int:
    return stacks.bench_main(argv, parse_args, measure_all)


def measure_all(args: argparse.Namespace, started: datetime.datetime, _nonce: int) -> int:
    try:
        sizes, starts = run(args)
    except stacks.BenchError as exc:
        print(f"FAILED: {exc}")
        return 1
    text = report(args, started, sizes, starts)
    return docblock.publish(args, text, "## Memory and start-up")


if __name__ == "__main__":
    docblock.run(main)
