"""Speed and memory of detection as shipped (rules + learned stage), rules alone, and Presidio.

Usage: .venv/bin/python bench/semantic_speed.py [--messages 400] [--batch 32]

Each configuration runs in a fresh process (`--child rules|semantic`), so start-up time and
peak memory (RSS) are its own: start-up is from before `import rules` to a ruleset ready to
evaluate (for the stage: onnxruntime and tokenizers imported, the model and the trained heads
loaded; wall clock). Then every message is evaluated one at a time (p50, p99) and in batches
(`evaluate_many`, messages per second). Like bench/rules_speed.py, each process is pinned to
one core and times are CPU time of the calling thread (onnxruntime runs its one intra-op
thread in the caller), so other work on a shared machine counts less; batch throughput is also
given in wall-clock terms. Texts are our charity cases (short comments) and, when
../shared/eval is there, comment-length rows (at most 280 characters) and longer posts (up to
2,000) from it. Presidio's AnalyzerEngine (bench/.venv-presidio, see bench/rules_speed.py) is
timed on the same comment-length texts in the same run, one text at a time as it is used.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from rules_speed import run_presidio  # noqa: E402

CHARITY = ROOT / "bench" / "data" / "charity_cases.jsonl"
EVAL = ROOT / ".." / "shared" / "eval" / "data"


def corpora(limit: int) -> dict[str, list[str]]:
    texts = {"charity cases": _read(CHARITY)}
    if EVAL.is_dir():
        rows = [t for path in sorted(EVAL.glob("*.jsonl")) for t in _read(path)]
        texts["eval comments (<= 280 chars)"] = [t for t in rows if len(t) <= 280]
        texts["eval posts (281-2,000 chars)"] = [t for t in rows if 280 < len(t) <= 2000]
    # Spread over the files: every n-th text, so no single source dominates.
    return {k: v[:: max(1, len(v) // limit)][:limit] for k, v in texts.items()}


def _read(path: Path) -> list[str]:
    return [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines()]


def child(mode: str, limit: int, batch: int) -> dict[str, object]:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    started = time.perf_counter()
    sys.path.insert(0, str(ROOT))
    from rules import Message, RulesConfig, load_ruleset
    from rules.semantic import SemanticConfig, evaluate_many

    if mode == "semantic":
        from bot.semantic import detection_ruleset

        # As `haven classify` runs: no word-by-word reasons (they cost extra embeddings).
        config = RulesConfig(semantic=SemanticConfig(explain_words=False))
        ruleset = detection_ruleset(config)
        assert ruleset.__class__.__name__ == "SemanticRuleSet", "the semantic extra is missing"
    else:
        ruleset = load_ruleset(RulesConfig(semantic=SemanticConfig(enabled=False)))
    startup = time.perf_counter() - started
    out: dict[str, object] = {"startup_s": startup, "corpora": {}}
    for name, texts in corpora(limit).items():
        messages = [Message(t) for t in texts]
        ruleset.evaluate(messages[0])  # warm caches (regex, onnxruntime arenas)
        latencies = []
        for message in messages:
            t0 = time.thread_time()
            ruleset.evaluate(message)
            latencies.append(time.thread_time() - t0)
        latencies.sort()
        t0, wall = time.thread_time(), time.perf_counter()
        for start in range(0, len(messages), batch):
            evaluate_many(ruleset, messages[start : start + batch])
        elapsed, wall = time.thread_time() - t0, time.perf_counter() - wall
        out["corpora"][name] = {  # type: ignore[index]
            "n": len(messages),
            "mean_chars": statistics.mean(len(t) for t in texts),
            "p50_ms": 1000 * latencies[len(latencies) // 2],
            "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
            "batch_msgs_per_s": len(messages) / elapsed,
            "batch_wall_msgs_per_s": len(messages) / wall,
        }
    out["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=400, help="texts per corpus")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--child", choices=["rules", "semantic"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.messages, args.batch)))
        return 0
    results = {}
    load_before = os.getloadavg()[0]
    for mode in ("rules", "semantic"):
        proc = subprocess.run(
            [sys.executable, __file__, "--child", mode, "--messages", str(args.messages),
             "--batch", str(args.batch)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        results[mode] = json.loads(proc.stdout)
    comments = (
        corpora(args.messages).get("eval comments (<= 280 chars)")
        or corpora(args.messages)["charity cases"]
    )
    presidio = run_presidio(comments)
    load_after = os.getloadavg()[0]
    print(
        f"- command: `.venv/bin/python bench/semantic_speed.py --messages {args.messages} "
        f"--batch {args.batch}`\n"
        f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load average "
        f"{load_before:.1f} before, {load_after:.1f} after\n"
        f"- machine: {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}; onnxruntime on one thread\n"
    )
    print("| detection | start-up s | peak RSS MB |\n| --- | ---: | ---: |")
    for mode, label in (("rules", "rules alone"), ("semantic", "as shipped (rules + learned)")):
        r = results[mode]
        print(f"| {label} | {r['startup_s']:.2f} | {r['rss_mb']:.0f} |")
    print(
        "\n| texts | n | mean chars | detection | p50 ms | p99 ms | msgs/s, batches of "
        f"{args.batch} (CPU) | msgs/s (wall) |\n"
        "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |"
    )
    for name in results["rules"]["corpora"]:
        for mode, label in (("rules", "rules alone"), ("semantic", "as shipped")):
            c = results[mode]["corpora"][name]
            print(
                f"| {name} | {c['n']} | {c['mean_chars']:.0f} | {label} | {c['p50_ms']:.2f} | "
                f"{c['p99_ms']:.2f} | {c['batch_msgs_per_s']:,.0f} | "
                f"{c['batch_wall_msgs_per_s']:,.0f} |"
            )
    if isinstance(presidio, dict):
        rate = presidio["n"] / presidio["seconds"]
        ours = results["semantic"]["corpora"]
        key = next(k for k in ours if k.startswith("eval comments")) if len(ours) > 1 else None
        shipped = ours[key or "charity cases"]["batch_msgs_per_s"]
        print(
            f"\nPresidio AnalyzerEngine on the same {presidio['n']} comment-length texts, one "
            f"at a time: {rate:,.0f} msgs/s (CPU). As shipped, batched: {shipped:,.0f} msgs/s, "
            f"{shipped / rate:.1f}x Presidio's rate."
        )
    else:
        print(f"\nPresidio: {presidio}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
