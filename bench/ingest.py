"""Ingest benchmark (issue 3): signed webhook POSTs against the production and embedded stacks.

Usage: .venv/bin/python bench/ingest.py [--quick] [--stack both|production|embedded]
       [--rates 50,100,200,400,800] [--duration 12] [--json results.json]

For each stack it starts the real processes (see bench/ingest_stacks.py), offers open-loop
load at rising rates of unique, signed Page comment and Messenger deliveries (bench/loadgen.py),
and after every step checks the database: every delivery answered 200 must be exactly one
stored item. It prints markdown: the command, the machine, the date, one table per stack and
the conclusions. The production stack is skipped with a message (exit 0) when PostgreSQL or
Redis is not reachable; `--quick` is a smoke run of well under a minute.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import io
import json
import shlex
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import docblock  # noqa: E402
import ingest_procs as cpu  # noqa: E402
import ingest_stacks as stacks  # noqa: E402
from ingest_report import (  # noqa: E402
    SUSTAINED_P99_MS,
    Row,
    conclusions,
    table,
)
from loadgen import StepResult, make_deliveries, percentile, run_step  # noqa: E402

WEBHOOK_PATH = "/webhooks/meta"


def run_stack(stack: stacks.Stack, args: argparse.Namespace, nonce: int) -> list[Row]:
    # Warm-up, not reported: the first requests pay for lazy imports, each thread's first
    # database connection and the generator's own start, which is not what the rates measure.
    warm = make_deliveries(
        max(1, round(50 * args.warmup)), page_id=stacks.PAGE_ID, secret=stack.secret,
        tag=f"{nonce:04d}99",
    )  # fmt: skip
    run_step("127.0.0.1", stack.port, WEBHOOK_PATH, warm, 50.0, connections=args.connections)
    _drain(stack, args.drain_wait)
    rows = [_step(stack, args, rate, step, nonce) for step, rate in enumerate(args.rates)]
    # The rising rates bracket the ceiling; halving the gap between the highest rate that
    # held and the lowest that did not then finds it to within a few requests a second.
    for step in range(len(rows), len(rows) + args.refine):
        held = [r.rate for r in rows if r.sustained and r.p99 < SUSTAINED_P99_MS]
        failed = [r.rate for r in rows if r.rate > max(held, default=0)]
        if not held or not failed:
            break
        low, high = max(held), min(failed)
        rate = round((low + high) / 2 / 10) * 10
        if rate <= low or rate >= high:
            break
        rows.append(_step(stack, args, rate, step, nonce))
    return rows


def _step(stack: stacks.Stack, args: argparse.Namespace, rate: float, step: int, nonce: int) -> Row:
    if stack.processes is not None:
        stack.processes.check_alive()
    count = max(1, round(rate * args.duration))
    tag = f"{nonce:04d}{step:02d}"  # digits, so comment ids keep Meta's all-digit form
    deliveries = make_deliveries(count, page_id=stacks.PAGE_ID, secret=stack.secret, tag=tag)
    procs = stack.processes
    groups = (procs.pids("web"), procs.pids("worker")) if procs else (set(), set())
    before = cpu.snapshot(*groups, stack.pg_database)
    result = run_step(
        "127.0.0.1", stack.port, WEBHOOK_PATH, deliveries, rate,
        connections=args.connections, timeout=args.timeout,
    )  # fmt: skip
    used = cpu.share(before, cpu.snapshot(*groups, stack.pg_database))
    row = _check(stack, result, {d.external_id for d in deliveries}, args)
    row.cpu = used.cell()
    # CPU per request is what contention on a shared machine distorts least.
    row.web_cpu_ms = used.web * used.wall * 1000 / max(1, result.ok)
    row.pg_cpu_ms = used.own_db * used.wall * 1000 / max(1, result.ok)
    print(f"  {stack.name} {rate:g}/s: {_summary(row)}", file=sys.stderr)
    return row


def _check(
    stack: stacks.Stack, result: StepResult, sent_ids: set[str], args: argparse.Namespace
) -> Row:
    # Items are committed before the 200, so the database is read straight away; only the
    # worker's processing (the backlog) is waited for, and only for a bounded time.
    stored = stack.stored_ids()
    duplicates = sum(stored[i] - 1 for i in sent_ids if stored[i] > 1)
    backlog, drain_seconds, drain_rate = _drain(stack, args.drain_wait)
    lat = result.latencies_ms
    return Row(
        stack=stack.name,
        rate=result.rate,
        duration=result.duration,
        sent=result.sent,
        ok=result.ok,
        throughput=result.throughput,
        p50=percentile(lat, 50),
        p95=percentile(lat, 95),
        p99=percentile(lat, 99),
        max=max(lat, default=float("nan")),
        lag_p99=percentile(result.lags_ms, 99),
        errors={**result.statuses, **({"not sent": result.not_sent} if result.not_sent else {})},
        odd_bodies=result.odd_bodies,
        stored_ok=sum(1 for i in result.ok_ids if stored[i] >= 1),
        missing=sum(1 for i in result.ok_ids if stored[i] == 0),
        duplicates=duplicates,
        stored_without_200=sum(1 for i in sent_ids - result.ok_ids if stored[i]),
        reconnects=result.reconnects,
        backlog_after=backlog,
        drain_seconds=drain_seconds,
        drain_rate=drain_rate,
    )


def _drain(stack: stacks.Stack, wait: float) -> tuple[int, float | None, float | None]:
    """Wait (bounded) for the worker to finish the backlog; return what is left, how long it
    took (None if it did not finish) and how many items per second the worker got through.

    Gives up early once the observed pace cannot finish within `wait`: a slow worker should
    cost the bench seconds, not the whole budget at every step.
    """
    started = time.monotonic()
    backlog, done0 = stack.progress()
    done = done0
    while backlog:
        elapsed = time.monotonic() - started
        pace = (done - done0) / elapsed if elapsed > 0 else 0.0
        if elapsed >= wait or (elapsed >= 3 and backlog > pace * (wait - elapsed)):
            return backlog, None, pace
        time.sleep(0.5)
        backlog, done = stack.progress()
    elapsed = time.monotonic() - started
    return 0, elapsed, (done - done0) / elapsed if elapsed > 0 and done > done0 else None


def _summary(row: Row) -> str:
    return (
        f"{row.throughput:.0f}/s p50 {row.p50:.1f} p99 {row.p99:.1f} ms, "
        f"errors {sum(row.errors.values())}, stored {'exact' if row.exact else 'NOT exact'}"
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 50 and 200 req/s, 3 s")
    parser.add_argument("--stack", choices=("both", "production", "embedded"), default="both")
    parser.add_argument("--rates", help="comma-separated req/s (default 50,100,200,400,800)")
    parser.add_argument(
        "--refine", type=int, default=0,
        help="extra steps halving the gap above the highest rate that held (default 0)",
    )  # fmt: skip
    parser.add_argument("--duration", type=float, help="seconds per rate (default 12)")
    parser.add_argument("--warmup", type=float, help="s at 50 req/s first (default 3)")
    parser.add_argument("--connections", type=int, default=32, help="keep-alive connections")
    parser.add_argument("--timeout", type=float, default=10.0, help="per-request timeout, s")
    parser.add_argument("--drain-wait", type=float, help="max s to wait for the queue per step")
    parser.add_argument("--web-workers", type=int, default=2, help="production gunicorn workers")
    parser.add_argument("--threads", type=int, default=8, help="gthreads per web worker")
    parser.add_argument("--keep-alive", type=int, help="gunicorn --keep-alive, s (default its own)")
    parser.add_argument(
        "--rq-workers", type=int, default=1, help="`haven worker` processes (0: web tier alone)"
    )
    stacks.add_redis_db_argument(parser, default=12)
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    parser.add_argument("--logs", type=Path, help="copy the server and worker logs here")
    parser.add_argument("--write-docs", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args(argv)
    default_rates = "50,200" if args.quick else "50,100,200,400,800"
    args.rates = [float(r) for r in (args.rates or default_rates).split(",")]
    args.duration = args.duration or (3.0 if args.quick else 12.0)
    args.warmup = args.warmup if args.warmup is not None else (1.0 if args.quick else 3.0)
    args.drain_wait = args.drain_wait if args.drain_wait is not None else (2 if args.quick else 30)
    if len(args.rates) + args.refine > 50 or args.refine < 0:  # ids carry the step in 2 digits
        parser.error("at most 50 rates per run")
    if not all(0 < r <= 5000 for r in args.rates) or not 0 < args.duration <= 120:
        parser.error("rates must be in (0, 5000] req/s and --duration in (0, 120] s")
    if not (1 <= args.web_workers <= 16 and 0 <= args.rq_workers <= 16):
        parser.error("--web-workers must be 1..16 and --rq-workers 0..16")
    if not (1 <= args.connections <= 512 and 0 <= args.warmup <= 60 and args.drain_wait >= 0):
        parser.error("--connections must be 1..512, --warmup 0..60 s, --drain-wait >= 0")
    return args


def bench_stack(name: str, args: argparse.Namespace, use_cli: bool, nonce: int) -> list[Row]:
    """Start one stack, run every rate against it, print its table; always tear it down."""
    with tempfile.TemporaryDirectory(prefix=f"haven-bench-{name}-") as tmp:
        workdir = Path(tmp)
        if name == "production":
            context = stacks.production_stack(
                workdir, web_workers=args.web_workers, rq_workers=args.rq_workers,
                redis_db=args.redis_db, use_cli=use_cli, threads=args.threads,
                keep_alive=args.keep_alive,
            )  # fmt: skip
        else:
            context = stacks.embedded_stack(workdir, use_cli=use_cli)
        with context as stack:
            print(f"\n### {name}: {stack.description}\n", flush=True)
            load_before = docblock.loadavg()
            rows = run_stack(stack, args, nonce)
            load_after = docblock.loadavg()
            statuses = stack.statuses()
            events = stack.events()
        if args.logs:
            args.logs.mkdir(parents=True, exist_ok=True)
            for log in stack.logs:
                shutil.copy(log, args.logs / f"{name}-{log.name}")
    print(table(rows))
    print(f"\nitems by status at the end: {statuses}; inbound events: {events}")
    print(f"load average (1/5/15 min) before: {load_before}; after: {load_after}")
    return rows


def _terminate(signum: int, _frame: object) -> None:
    # SIGTERM becomes an exception so every `finally` stops its processes and drops its db.
    raise SystemExit(128 + signum)


class _Tee(io.StringIO):
    """Everything printed, kept as well, for the generated block in docs/benchmarks.md."""

    def write(self, text: str) -> int:
        sys.__stdout__.write(text)
        return super().write(text)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.write_docs:
        return _main(args)
    tee = _Tee()
    with contextlib.redirect_stdout(tee):
        status = _main(args)
    if status == 0:
        body = tee.getvalue().replace("## Ingest benchmark\n", "", 1).strip()
        docblock.write_block("ingest", body, "## Webhook ingest at rising rates (issue 10)")
    return status


def _main(args: argparse.Namespace) -> int:
    signal.signal(signal.SIGTERM, _terminate)
    started = datetime.datetime.now(datetime.UTC)
    print("## Ingest benchmark\n")
    print(f"- command: `{shlex.join(['python', 'bench/ingest.py', *sys.argv[1:]])}`")
    print(f"- date: {started:%Y-%m-%d %H:%M} UTC")
    print(f"- machine: {docblock.machine()}")
    print(f"- code: {docblock.code_state()}")
    print(
        f"- load: open loop, {args.warmup:g} s warm-up at 50 req/s (not reported), then "
        f"{args.duration:g} s per rate, {args.connections} keep-alive connections, unique "
        "signed deliveries (80% Page comments, 20% Messenger DMs); latency from each request's "
        "scheduled send time to its full answer; the generator shares the machine"
    )
    use_cli = stacks.cli_works()
    if not use_cli:
        print("- note: `haven` did not import; its serve/worker/init-db calls were run directly")
    wanted = ("production", "embedded") if args.stack == "both" else (args.stack,)
    nonce = int(time.time()) % 10_000
    all_rows: list[Row] = []
    notes: list[str] = []
    for name in wanted:
        if name == "production":
            problem = stacks.services_problem(args.redis_db)
            if problem:
                print(f"\nSKIP production stack: {problem}")
                continue
        try:
            rows = bench_stack(name, args, use_cli, nonce)
        except (stacks.BenchError, OSError) as exc:  # processes and database already cleaned up
            print(f"\nFAILED {name} stack: {exc}")
            return 1
        all_rows += rows
        notes.append(conclusions(name, rows))
    if notes:
        print("\n### Conclusions\n")
        print("\n".join(notes))
    if args.json:
        # NaN (a step with no answers) is not JSON: write null instead.
        clean = [
            {k: None if isinstance(v, float) and v != v else v for k, v in asdict(r).items()}
            for r in all_rows
        ]
        args.json.write_text(json.dumps(clean, indent=1))
    elapsed = (datetime.datetime.now(datetime.UTC) - started).total_seconds()
    print(f"\n(total bench time {elapsed:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
