"""Worker throughput (issue 20): items per CPU-second of `haven worker`, by batch size and count.

Usage: .venv/bin/python bench/worker_throughput.py [--items 800] [--batch-sizes 1,32]
       [--workers 1,2,4] [--today /work/main] [--redis-db 13] [--write-docs]

The production shape (bench/ingest_stacks.py): gunicorn, a fresh PostgreSQL database, a Redis
db of its own and `haven worker` processes with the default detector (rules + learned stage).
rq is suspended while the mixed deliveries (bench/mixed.py) are posted (each stored, its job
queued) and while the workers start and load the model; once they are idle it is resumed,
and the clock and the workers' CPU counters run until every item is judged. The headline is
items per CPU-second of the worker processes (user + system from /proc, reaped children
included): it holds on a shared machine, where wall-clock rates depend on the neighbours.
Beside it: wall items/s, and the CPU the PostgreSQL backends serving the bench's database
spent meanwhile, per item, which is where a larger machine's scale-out runs out.

`--today DIR` adds a first row run by the `haven worker` of another checkout with its own
.venv (the code before batching, e.g. the main branch): the baseline the others are compared
with. The stack (web, database) is this checkout's either way; the schema is the same.
"""

from __future__ import annotations

import argparse
import datetime
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

import docblock  # noqa: E402
import ingest_stacks as stacks  # noqa: E402
from ingest_procs import BenchError, descendants  # noqa: E402
from loadgen import run_step  # noqa: E402
from mixed import mixed_deliveries  # noqa: E402

_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_of(pid: int) -> float:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    rest = raw[raw.rindex(")") + 2 :].split()
    return sum(int(x) for x in rest[11:15]) / _TICK


def known_to(old: Any, new: Any) -> Any:
    """`new` without the keys `old` (an earlier config.yaml) lacks, at every depth: the code
    of --today refuses keys it does not know."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return new
    return {k: known_to(old[k], v) for k, v in new.items() if k in old}


def worker_cpu(stack: stacks.Stack) -> float:
    assert stack.processes is not None
    return sum(p.cpu for p in descendants(stack.processes.pids("worker")))


def backend_pids(stack: stacks.Stack) -> list[int]:
    database = stack.database_url.rsplit("/", 1)[1]
    rows = stack._query(
        f"SELECT pid FROM pg_stat_activity WHERE datname = '{database}' AND pid <> pg_backend_pid()"
    )
    return [int(r[0]) for r in rows]


def _settle(stack: stacks.Stack, limit: float = 120.0) -> None:
    """Wait until the workers have loaded everything and sit idle (suspended)."""
    deadline, last = time.monotonic() + limit, -1.0
    while time.monotonic() < deadline:
        assert stack.processes is not None
        stack.processes.check_alive()
        now = worker_cpu(stack)
        if now - last < 0.03:
            return
        last = now
        time.sleep(1.0)
    raise BenchError("the workers did not settle")


def one_run(batch: int, workers: int, args: argparse.Namespace, tag: str) -> dict:  # type: ignore[type-arg]
    from redis import Redis
    from rq.suspension import resume, suspend

    with tempfile.TemporaryDirectory(prefix="haven-wt-") as tmp:
        context = stacks.production_stack(
            Path(tmp), web_workers=1, rq_workers=0, redis_db=args.redis_db,
            use_cli=stacks.cli_works(),
        )  # fmt: skip
        with context as stack:
            redis = Redis.from_url(stack.env["REDIS_URL"])
            suspend(redis)
            config_path = Path(stack.env["HAVEN_CONFIG"])
            config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
            if batch:
                config["queue"]["batch_size"] = batch
            else:  # the code of --today knows no batch_size, nor sections added since
                config["queue"].pop("batch_size", None)
                old = yaml.safe_load((Path(args.today) / "config.yaml").read_text("utf-8"))
                config = known_to(old, config)
            if args.no_explain_words:
                config.setdefault("rules", {}).setdefault("semantic", {})["explain_words"] = False
            config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
            deliveries = mixed_deliveries(
                args.items, page_id=stacks.PAGE_ID, secret=stack.secret, tag=tag
            )
            sent = run_step("127.0.0.1", stack.port, "/webhooks/meta", deliveries, 300.0)
            if sent.ok != len(deliveries):
                raise BenchError(f"only {sent.ok}/{len(deliveries)} deliveries stored")
            assert stack.processes is not None
            command = (
                [str(Path(args.today) / ".venv" / "bin" / "haven"), "worker"]
                if batch == 0
                else stacks.haven("worker", stacks.cli_works())
            )
            for n in range(workers):
                stack.processes.start(
                    f"worker: haven worker {n}",
                    command,
                    stack.env,
                    Path(tmp) / f"worker{n}.log",
                )
            _settle(stack)
            cpu0, pg_pids = worker_cpu(stack), backend_pids(stack)
            pg0 = {pid: _cpu_of(pid) for pid in pg_pids}
            load0 = os.getloadavg()[0]
            t0 = time.monotonic()
            resume(redis)
            deadline = t0 + args.limit
            while stack.progress()[0] > 0:
                if time.monotonic() > deadline:
                    raise BenchError(f"items left after {args.limit:.0f} s: {stack.statuses()}")
                stack.processes.check_alive()
                time.sleep(0.05)
            wall = time.monotonic() - t0
            cpu = worker_cpu(stack) - cpu0
            pg_now = backend_pids(stack)
            pg = sum(_cpu_of(pid) - pg0.get(pid, 0.0) for pid in set(pg_now) | set(pg_pids))
            statuses = stack.statuses()
            load = os.getloadavg()[0]
    return {
        "batch": batch, "workers": workers, "items": args.items, "wall": wall, "cpu": cpu,
        "pg": pg, "statuses": statuses, "load": (load0 + load) / 2,
    }  # fmt: skip


def report(args: argparse.Namespace, started: datetime.datetime, runs: list[dict]) -> str:  # type: ignore[type-arg]
    base = next((r for r in runs if r["workers"] == 1), None)
    lines = [
        docblock.header("worker_throughput.py", started, docblock.SHARED),
        f"- load: {args.items} mixed deliveries (bench/mixed.py) stored first, then judged by "
        "`haven worker` processes with the default detector"
        + (" without word weighing (explain_words off)" if args.no_explain_words else "")
        + ", PostgreSQL + Redis; CPU from "
        "/proc of the worker processes; the machine is shared (load average beside each row)",
        "",
        "| batch size | workers | items/s (wall) | worker CPU-s | items per worker CPU-s "
        "| vs first row | PostgreSQL CPU ms/item | load avg | statuses |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in runs:
        per_cpu = r["items"] / r["cpu"] if r["cpu"] else float("nan")
        ratio = per_cpu / (base["items"] / base["cpu"]) if base and base["cpu"] else float("nan")
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(r["statuses"].items()))
        lines.append(
            f"| {r['batch'] or 'today: ' + args.today_label} | {r['workers']} "
            f"| {r['items'] / r['wall']:.0f} | {r['cpu']:.1f} "
            f"| {per_cpu:.0f} | {ratio:.1f}x | {1000 * r['pg'] / r['items']:.2f} "
            f"| {r['load']:.1f} | {statuses} |"
        )
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=800)
    parser.add_argument("--batch-sizes", default="1,32", help="comma-separated")
    parser.add_argument("--workers", default="1,2,4", help="comma-separated process counts")
    parser.add_argument("--today", help="checkout (with .venv) whose worker is the baseline")
    parser.add_argument("--limit", type=float, default=300.0, help="max s to judge the items")
    parser.add_argument(
        "--no-explain-words",
        action="store_true",
        help="rules.semantic.explain_words: false (no word-by-word weighing of each finding)",
    )
    stacks.add_redis_db_argument(parser, default=13)  # ingest.py has 12
    docblock.add_arguments(parser, block="worker_throughput")
    args = parser.parse_args(argv)
    args.batch_sizes = [int(b) for b in args.batch_sizes.split(",")]
    args.workers = [int(w) for w in args.workers.split(",")]
    if not (10 <= args.items <= 20_000) or not all(1 <= w <= 8 for w in args.workers):
        parser.error("--items 10..20000 and --workers 1..8")
    if not all(1 <= b <= 500 for b in args.batch_sizes):
        parser.error("--batch-sizes 1..500")
    stacks.check_redis_db(parser, args.redis_db)
    args.today_label = ""
    if args.today:
        if not (Path(args.today) / ".venv" / "bin" / "haven").exists():
            parser.error(f"--today {args.today}: no .venv/bin/haven there")
        commit = subprocess.run(
            ["git", "-C", args.today, "rev-parse", "--short", "HEAD"], capture_output=True
        )
        args.today_label = f"{args.today} @ {commit.stdout.decode().strip()}, one by one"
    return args


def main(argv: list[str] | None = None) -> int:
    return stacks.bench_main(argv, parse_args, measure_all)


def measure_all(args: argparse.Namespace, started: datetime.datetime, nonce: int) -> int:
    runs = []
    plan = [(0, 1)] if args.today else []
    plan += [(batch, workers) for batch in args.batch_sizes for workers in args.workers]
    for batch, workers in plan:
        try:
            runs.append(one_run(batch, workers, args, f"{nonce:03d}{batch:03d}{workers}"))
        except BenchError as exc:
            print(f"FAILED: {exc}")
            return 1
        r = runs[-1]
        print(f"  batch {batch}, {workers} worker(s): {r['items'] / r['wall']:.0f} items/s, "
              f"{r['items'] / r['cpu']:.0f} per CPU-s", file=sys.stderr)  # fmt: skip
    return docblock.publish(args, report(args, started, runs), "## Scale (issue 20): the worker")


if __name__ == "__main__":
    docblock.run(main)
