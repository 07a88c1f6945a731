"""Time the People search (bot/cases/people.py) over its whole bounded set, on SQLite.

Usage: .venv/bin/python bench/people_search.py [--people 5000] [--repeat 5]

Names and handles are encrypted at rest, so each search decrypts one name and one handle per
person among the most recent `SCAN_LIMIT`; this measures that cost at the limit. Each person
gets one item, sealed with a key made for the run, in a fresh database under a temporary folder.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.cases.people import SCAN_LIMIT, search_people  # noqa: E402
from bot.crypto import generate_key, install_keys  # noqa: E402
from bot.db import make_engine, session_scope, upgrade  # noqa: E402
from bot.models import InboundEvent, Item, utcnow  # noqa: E402

FIRST = ("Sam", "Jo", "Alex", "Priya", "Tom", "Aisha", "Leo", "Maya", "Kit", "Ruth")
LAST = ("Ellis", "Patel", "Jones", "Okafor", "Nowak", "Brown", "Khan", "Smith", "Reid", "Hale")


def seed(url: str, people: int) -> None:
    engine = make_engine(url)
    upgrade(engine)
    now = utcnow()
    with session_scope(engine) as db:
        event = InboundEvent(body_sha256="0" * 64, object="page", body="{}", item_count=people)
        db.add(event)
        db.flush()
        for n in range(people):
            db.add(
                Item(
                    event_id=event.id,  # type: ignore[arg-type]
                    delivery_key=f"bench:{n}",
                    platform="instagram" if n % 3 == 0 else "facebook",
                    channel="fb_comment",
                    verb="add",
                    account_id="bench-page",
                    external_id=f"bench_{n}",
                    author_id=str(6_000_000_000 + n),
                    author_name=f"{FIRST[n % 10]} {LAST[(n // 10) % 10]}-{n}",
                    author_username=f"user.{n}" if n % 3 == 0 else None,
                    text="hello",
                    created_at=now - timedelta(seconds=n),
                )
            )
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=SCAN_LIMIT)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    install_keys([generate_key()])
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.sqlite'}"
        seed(url, args.people)
        engine = make_engine(url)
        timings = []
        for _ in range(args.repeat):
            with session_scope(engine) as db:
                started = time.perf_counter()
                found = search_people(db, "moderator", "ellis")
                timings.append(time.perf_counter() - started)
        engine.dispose()
    print(
        f"people search over {found.scanned} people ({len(found.people)} found, "
        f"capped: {found.capped}): median {statistics.median(timings) * 1000:.0f} ms, "
        f"max {max(timings) * 1000:.0f} ms over {args.repeat} runs"
    )


if __name__ == "__main__":
    main()
