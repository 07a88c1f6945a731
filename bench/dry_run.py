"""The rules dry run at scale (issue 20): `haven rules dry-run` over 100,000 past comments.

Usage: .venv/bin/python bench/dry_run.py [--count 100000] [--chunk 64] [--jobs 2]
       [--format jsonl|csv]
       [--compare-chunk 1] [--write-docs]

Writes a synthetic export of past comments (made here from templates, never from
../shared/eval), runs the real command on it in a child process, and reports the time, the
messages a second and the child's peak memory (ru_maxrss). `--compare-chunk N` runs a second
time with N messages per chunk on the first tenth of the file, to show what batching the
learned stage buys.
"""

from __future__ import annotations

import argparse
import datetime
import json
import random
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import docblock  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
HAVEN = ROOT / ".venv" / "bin" / "haven"

# Pieces a charity page's comments are made of; combined at random, so no two rows repeat and
# the mix (thanks, questions, help requests, personal details, the odd risk phrase) is a page's.
OPENINGS = (
    "Thank you so much", "Does anyone know", "Is the group still on", "Can someone help",
    "We're new to the area", "Lovely photos", "Just wanted to say", "Any advice on",
    "Honestly", "Quick question", "Not sure where to ask but", "Brilliant work everyone",
)  # fmt: skip
MIDDLES = (
    "the coffee morning on Tuesday", "getting an EHCP assessment started", "the food bank vouchers",
    "the carers support group", "my son's social worker", "the school run this week",
    "the custody hearing next month", "the evenings, they're the hardest", "the summer picnic",
    "respite care for my daughter", "the housing officer", "the new volunteers",
)  # fmt: skip
ENDINGS = (
    "x", "thanks all", "any ideas?", "please message me", "so grateful", "I can't cope anymore",
    "call me on 07700 900{n:03d}", "my email is parent{n}@example.org", "see you there!",
    "nobody listens and I feel like giving up", "free followers click www.example.com/win{n}",
    "we live at {n} Station Road", "",
)  # fmt: skip


def synthetic_comments(count: int, seed: int = 20) -> list[dict[str, str]]:
    rng = random.Random(seed)
    rows = []
    for n in range(count):
        ending = rng.choice(ENDINGS).format(n=n % 1000)
        text = f"{rng.choice(OPENINGS)} {rng.choice(MIDDLES)} {ending}".strip()
        rows.append({"id": f"c{n}", "message": text})
    return rows


def write_export(rows: list[dict[str, str]], path: Path) -> None:
    if path.suffix == ".csv":
        import csv

        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=["id", "message"])
            writer.writeheader()
            writer.writerows(rows)
        return
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")


def run_dry_run(path: Path, chunk: int, jobs: int) -> dict[str, float]:
    """Run the command in a child; its report, wall time and peak memory."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    before, cpu_before = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
    started = time.perf_counter()
    done = subprocess.run(
        [str(HAVEN), "rules", "dry-run", str(path), "--json", "--quiet", "--chunk", str(chunk),
         "--jobs", str(jobs)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"haven rules dry-run failed:\n{done.stderr[-2000:]}")
    report = json.loads(done.stdout)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = usage.ru_maxrss  # KiB on Linux; the largest child, its workers included
    cpu = usage.ru_utime + usage.ru_stime - cpu_before
    return {
        "messages": report["messages"],
        "flagged": report["flagged"],
        "seconds": report["seconds"],
        "per_second": report["messages_per_second"],
        "wall": wall,
        # CPU seconds of the command and its workers: what a shared machine distorts least.
        "per_cpu_second": report["messages"] / cpu if cpu > 0 else float("nan"),
        # The largest child so far: only a larger one than any before would show here.
        "peak_mib": max(peak, before) / 1024,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=64)
    parser.add_argument("--jobs", type=int, default=2, help="processes (default 2)")
    parser.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    parser.add_argument("--compare-chunk", type=int, help="also run the first tenth with this")
    parser.add_argument("--write-docs", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args(argv)
    lines = [
        f"- command: `{shlex.join(['python', 'bench/dry_run.py', *sys.argv[1:]])}`",
        f"- date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {docblock.machine()}",
        f"- code: {docblock.code_state()}",
        f"- load average (1/5/15 min) at the start: {docblock.loadavg()}",
    ]
    with tempfile.TemporaryDirectory(prefix="haven-dry-run-") as tmp:
        rows = synthetic_comments(args.count)
        export = Path(tmp) / f"comments.{args.format}"
        write_export(rows, export)
        size_mib = export.stat().st_size / 2**20
        lines.append(
            f"- input: {args.count:,} synthetic comments ({args.format}, {size_mib:.1f} MiB), "
            "made by this script from templates"
        )
        table = [
            "| messages | chunk | processes | flagged | seconds | messages/s | messages per "
            "CPU-second | peak memory MiB (one process) |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        runs = [(export, args.chunk, args.jobs)]
        if args.compare_chunk:
            part = Path(tmp) / f"tenth.{args.format}"
            write_export(rows[: max(1, args.count // 10)], part)
            runs += [(part, args.compare_chunk, 1), (part, args.chunk, 1)]
        for path, chunk, jobs in runs:
            result = run_dry_run(path, chunk, jobs)
            print(f"  {path.name} chunk {chunk} jobs {jobs}: {result}", file=sys.stderr)
            table.append(
                f"| {result['messages']:,} | {chunk} | {jobs} | {result['flagged']:,} | "
                f"{result['seconds']:.1f} | {result['per_second']:.0f} | "
                f"{result['per_cpu_second']:.0f} | {result['peak_mib']:.0f} |"
            )
    lines.append(f"- load average after: {docblock.loadavg()}")
    body = "\n".join(lines) + "\n\n" + "\n".join(table)
    print(body)
    if args.write_docs:
        docblock.write_block("dry-run", body, "## Scale (issue 20): ingest and the dry run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
