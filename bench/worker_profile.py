"""Where a worker's time goes per item (issue 20): cProfile over the worker's own code path.

Usage: .venv/bin/python bench/worker_profile.py [--items 320] [--batch-size 32] [--top 25]
       [--sort cumulative|tottime] [--no-explain-words] [--statements] [--no-profile]

A fresh PostgreSQL database, the mixed deliveries of bench/mixed.py stored through the
webhook's own store function, then judged exactly as a `haven worker` job does (claim a
batch, process_batch, in this process, with the default detector and the repository's
config.yaml) under cProfile. Prints CPU ms per item, SQL statements per item and the top
functions. Redis and rq are left out: what is profiled is the judging and the writing.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import secrets
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import ingest_stacks as stacks  # noqa: E402
from mixed import mixed_deliveries  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=320)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--sort", default="cumulative", choices=("cumulative", "tottime"))
    parser.add_argument(
        "--no-explain-words", action="store_true", help="rules.semantic.explain_words: false"
    )
    parser.add_argument("--statements", action="store_true", help="count SQL by its first words")
    parser.add_argument(
        "--no-profile", action="store_true", help="CPU and statements only (cProfile adds CPU)"
    )
    args = parser.parse_args(argv)
    if problem := stacks.postgres_problem():
        print(f"skipped: {problem}")
        return 0
    import psycopg
    from cryptography.fernet import Fernet
    from sqlalchemy import event

    from bot.config import load_settings
    from bot.crypto import install_keys
    from bot.db import make_engine, session_scope, upgrade
    from bot.semantic import detection_ruleset
    from webhooks.events import parse_payload
    from webhooks.store import store_delivery
    from workers.batches import claim_batch, process_batch

    install_keys([Fernet.generate_key().decode("ascii")])
    database = f"haven_profile_{os.getpid()}_{secrets.token_hex(3)}"
    dsn = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    engine = make_engine(f"postgresql://postgres@127.0.0.1:5432/{database}")
    try:
        upgrade(engine)
        overrides: dict = {  # type: ignore[type-arg]
            "meta": {"accounts": [{"id": stacks.PAGE_ID, "name": "Bench page",
                                   "platform": "facebook", "token_env": "BENCH_TOKEN"}]},
        }  # fmt: skip
        if args.no_explain_words:
            overrides["rules"] = {"semantic": {"explain_words": False}}
        settings = load_settings(stacks.ROOT / "config.yaml", {}, overrides=overrides)
        config = settings.config
        ruleset = detection_ruleset(config.rules)
        ids: list[int] = []
        for delivery in mixed_deliveries(args.items, page_id=stacks.PAGE_ID, secret="x", tag="p"):
            payload = json.loads(delivery.body)
            with session_scope(engine) as session:
                stored = store_delivery(
                    session, delivery.body.decode(), parse_payload(payload), {stacks.PAGE_ID}
                )
            ids += stored.new_item_ids
        ruleset.evaluate_many  # noqa: B018 (built; the model is loaded on first use below)
        process_batch(engine, ruleset, config, claim_batch(engine, ids.pop(0), 1))  # warm-up
        statements: Counter[str] = Counter()

        def count(_conn, _cursor, sql: str, *_args) -> None:  # type: ignore[no-untyped-def]
            statements[" ".join(sql.split()[:4])[:70]] += 1

        event.listen(engine, "before_cursor_execute", count)
        detector = DetectorClock().install()
        profile = cProfile.Profile()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        if not args.no_profile:
            profile.enable()
        pending, batches = list(ids), 0
        while pending:
            batches += 1
            claimed = claim_batch(engine, pending[0], args.batch_size)
            process_batch(engine, ruleset, config, claimed)
            done = set(claimed)
            pending = [i for i in pending if i not in done]
        profile.disable()
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        n = len(ids)
        print(f"batch size {args.batch_size}: {n} items in {batches} batches, "
              f"CPU {1000 * cpu / n:.1f} ms/item "
              f"(of which the detector, evaluate_many, {1000 * detector.cpu / n:.1f}), "
              f"wall {1000 * wall / n:.1f} ms/item, "
              f"{statements.total() / n:.1f} SQL statements/item, "
              f"load {os.getloadavg()[0]:.1f}")  # fmt: skip
        if args.statements:
            for sql, times in statements.most_common(30):
                print(f"{times / n:6.2f}/item  {sql}")
        if not args.no_profile:
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats(args.sort).print_stats(args.top)
            print(out.getvalue())
    finally:
        engine.dispose()
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    return 0


class DetectorClock:
    """The CPU spent in each batch's one detector call, told apart from the writing."""

    def __init__(self) -> None:
        self.cpu = 0.0

    def install(self) -> DetectorClock:
        import workers.batches

        judge = workers.batches.evaluate_many

        def timed(*args, **kwargs):  # type: ignore[no-untyped-def]
            start = time.process_time()
            try:
                return judge(*args, **kwargs)
            finally:
                self.cpu += time.process_time() - start

        workers.batches.evaluate_many = timed  # type: ignore[assignment]
        return self


if __name__ == "__main__":
    sys.exit(main())
