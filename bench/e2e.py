"""End-to-end benchmark (issue 10): from a signed POST to its finding, case and draft committed.

Usage: .venv/bin/python bench/e2e.py [--workers 1,2] [--rates 10,30] [--duration 20]
       [--repeats 3] [--redis-db 11] [--mixed] [--write-docs]

The production shape of bench/ingest_stacks.py (gunicorn + a fresh PostgreSQL database + its
own Redis db + `haven worker` processes). Every delivery is a Page comment from a different
person asking for help, which the default rules turn into a finding, a new case and a drafted
reply in one transaction. Deliveries are sent open loop (bench/loadgen.py); each one's start
is its due time. After the step the bench waits (bounded) for the worker and reads the
database: an item counts only when its finding, case and draft are all there, and its time is
`items.status_changed_at`, the worker's last timestamp before that commit (the commit follows
within milliseconds). Both clocks are this machine's. Each configuration runs `--repeats`
times on a fresh stack; the table shows the median of the runs' p50 and p95.

`--mixed` (issue 20) sends bench/mixed.py's mix instead (help, risk, personal details, chat,
DMs, second messages in a thread); an item then counts once it is judged (`processed` or
`superseded`: everything it calls for is written in that same commit).
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import docblock  # noqa: E402
import ingest_stacks as stacks  # noqa: E402
from loadgen import Delivery, _sign, page_comment, percentile, run_step  # noqa: E402
from mixed import mixed_deliveries  # noqa: E402

WEBHOOK_PATH = "/webhooks/meta"
# Help requests the default packs answer with a finding, a support case and a draft reply.
HELP_TEXTS = (
    "Does anyone else feel like they're failing? I really need someone to talk to, "
    "it's been so hard since our little one came home.",
    "I really need someone to talk to about our adoption, it's been so hard lately",
    "Can someone message me about the carers support group please, I'm struggling",
)


def help_payload(page_id: str, n: int, tag: str) -> dict:  # type: ignore[type-arg]
    """Help request n of a run: a new person each time, so each opens a case of their own."""
    external_id = f"900000000000001_{tag}{n:06d}"
    author = f"63{tag}{n:06d}"
    return page_comment(page_id, external_id, author, HELP_TEXTS[n % 3], int(time.time()))


def help_deliveries(count: int, secret: str, tag: str) -> list[Delivery]:
    out = []
    for n in range(count):
        payload = help_payload(stacks.PAGE_ID, n, tag)
        body = json.dumps(payload, separators=(",", ":")).encode()
        external_id = payload["entry"][0]["changes"][0]["value"]["comment_id"]
        out.append(Delivery(body, _sign(body, secret), external_id, "comment"))
    return out


COMPLETE_SQL = """
SELECT i.external_id, extract(epoch FROM i.status_changed_at)
FROM items i
WHERE i.status = 'processed' AND i.case_id IS NOT NULL
  AND EXISTS (SELECT 1 FROM findings f WHERE f.item_id = i.id)
  AND EXISTS (SELECT 1 FROM reply_drafts d WHERE d.item_id = i.id)
"""
JUDGED_SQL = """
SELECT i.external_id, extract(epoch FROM i.status_changed_at)
FROM items i WHERE i.status IN ('processed', 'superseded')
"""


def one_run(workers: int, rate: float, args: argparse.Namespace, tag: str) -> dict:  # type: ignore[type-arg]
    with tempfile.TemporaryDirectory(prefix="haven-e2e-") as tmp:
        context = stacks.production_stack(
            Path(tmp), web_workers=2, rq_workers=workers, redis_db=args.redis_db,
            use_cli=stacks.cli_works(),
        )  # fmt: skip
        with context as stack:
            # Warm-up: each process's first job pays for imports and connections.
            warm = help_deliveries(5, stack.secret, f"{tag}9")
            run_step("127.0.0.1", stack.port, WEBHOOK_PATH, warm, 5.0, connections=4)
            _wait(stack, 5, 30)
            count = round(rate * args.duration)
            if args.mixed:
                deliveries = mixed_deliveries(
                    count, page_id=stacks.PAGE_ID, secret=stack.secret, tag=tag
                )
            else:
                deliveries = help_deliveries(count, stack.secret, tag)
            result = run_step(
                "127.0.0.1", stack.port, WEBHOOK_PATH, deliveries, rate, connections=8
            )
            done = _wait(stack, len(deliveries) + 5, args.drain_wait, args.mixed)
            due = {d.external_id: result.t0_wall + k / rate for k, d in enumerate(deliveries)}
            latencies = [(done[i] - due[i]) * 1000 for i in due if i in done]
    return {
        "workers": workers, "rate": rate, "sent": len(deliveries), "ok": result.ok,
        "complete": len(latencies), "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95), "max": max(latencies, default=float("nan")),
        "ack_p99": percentile(result.latencies_ms, 99),
    }  # fmt: skip


def _wait(
    stack: stacks.Stack, expected: int, limit: float, mixed: bool = False
) -> dict[str, float]:
    """Items complete so far (external id -> commit time), waiting at most `limit` s."""
    deadline = time.monotonic() + limit
    while True:
        done = {
            row[0]: float(row[1]) for row in stack._query(JUDGED_SQL if mixed else COMPLETE_SQL)
        }
        if len(done) >= expected or time.monotonic() > deadline:
            return done
        time.sleep(0.5)


def report(args: argparse.Namespace, started: datetime.datetime, runs: list[dict]) -> str:  # type: ignore[type-arg]
    lines = [
        docblock.header("e2e.py", started, docblock.SHARED),
        f"- load: {args.duration:g} s of "
        + ("the mixed deliveries of bench/mixed.py" if args.mixed else "help requests")
        + " at each rate, open loop, "
        + ("counted once judged" if args.mixed else "each from a new person (so each opens a case)")
        + "; gunicorn 2 workers x 8 threads, PostgreSQL, Redis "
        f"db {args.redis_db}; {args.repeats} runs per row on a fresh stack, median shown",
        "",
        "| `haven worker` processes | offered req/s | complete "
        + ("(judged) " if args.mixed else "(finding + case + draft) ")
        + "| POST to commit p50 ms | p95 ms | max ms | runs' p95 ms | webhook ack p99 ms |",
        "|---:|---:|---|---:|---:|---:|---|---:|",
    ]
    keys = sorted({(r["workers"], r["rate"]) for r in runs})
    for workers, rate in keys:
        group = [r for r in runs if (r["workers"], r["rate"]) == (workers, rate)]
        complete = f"{sum(r['complete'] for r in group)}/{sum(r['sent'] for r in group)}"
        med = {k: statistics.median(r[k] for r in group) for k in ("p50", "p95", "max", "ack_p99")}
        each = ", ".join(f"{r['p95']:.0f}" for r in group)
        lines.append(
            f"| {workers} | {rate:g} | {complete} | {med['p50']:.0f} | {med['p95']:.0f} "
            f"| {med['max']:.0f} | {each} | {med['ack_p99']:.1f} |"
        )
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    parser.add_argument("--rates", default="10,30", help="comma-separated req/s")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--drain-wait", type=float, default=60.0, help="max s for the backlog")
    parser.add_argument("--mixed", action="store_true", help="bench/mixed.py's mix (issue 20)")
    stacks.add_redis_db_argument(parser, default=11)
    docblock.add_arguments(parser, block="e2e")
    args = parser.parse_args(argv)
    args.workers = [int(w) for w in args.workers.split(",")]
    args.rates = [float(r) for r in args.rates.split(",")]
    if not all(1 <= w <= 8 for w in args.workers) or not all(0 < r <= 500 for r in args.rates):
        parser.error("--workers 1..8 and --rates in (0, 500]")
    stacks.check_redis_db(parser, args.redis_db)
    if not (0 < args.duration <= 300 and 1 <= args.repeats <= 10):
        parser.error("--duration in (0, 300] and --repeats 1..10")
    return args


def main(argv: list[str] | None = None) -> int:
    return stacks.bench_main(argv, parse_args, measure_all)


def measure_all(args: argparse.Namespace, started: datetime.datetime, nonce: int) -> int:
    runs = []
    for repeat in range(args.repeats):
        for workers in args.workers:
            for step, rate in enumerate(args.rates):
                tag = f"{nonce:03d}{repeat}{workers}{step}"
                try:
                    runs.append(one_run(workers, rate, args, tag))
                except stacks.BenchError as exc:
                    print(f"FAILED: {exc}")
                    return 1
                r = runs[-1]
                print(f"  {workers} worker(s) {rate:g}/s: {r['complete']}/{r['sent']} complete, "
                      f"p50 {r['p50']:.0f} p95 {r['p95']:.0f} ms", file=sys.stderr)  # fmt: skip
    text = report(args, started, runs)
    return docblock.publish(args, text, "## End to end: POST to finding, case and draft")


if __name__ == "__main__":
    docblock.run(main)
