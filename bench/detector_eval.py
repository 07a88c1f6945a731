"""The detector as shipped (rules + learned stage, default config), measured where it matters.

Usage: .venv/bin/python bench/detector_eval.py [--no-write] [--misses]

Three places, kept apart:
1. **Validation**: the out-of-fold predictions on our corpus that chose the thresholds
   (recorded in rules/semantic/heads.json by `haven rules train`; not recomputed here).
2. **The independent test set** (bench/data/charity_test.jsonl): written by a team member who
   had not seen the corpus, given only DESIGN.md's taxonomy, the policies and
   docs/labelling.md. Touched only to report: nothing is tuned on it.
3. **The public check halves** of ../shared/eval (the half no one trained or tuned on), beside
   the best off-the-shelf baseline from BASELINES.md.
Plus the ten messages of issue 14 (tests/semantic/test_issue_examples.py asserts them).

The generated block of docs/detection.md between `<!-- detector:start -->` and
`<!-- detector:end -->` is replaced; text outside it is kept.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from detection import Score as Count  # noqa: E402

from bot.semantic import detection_ruleset  # noqa: E402
from bot.training import half  # noqa: E402
from rules import Message, RulesConfig, load_ruleset  # noqa: E402
from rules.model import categories_of, top_of  # noqa: E402
from rules.semantic import SemanticConfig, evaluate_many  # noqa: E402
from rules.semantic.heads import load_heads  # noqa: E402

TEST_SET = ROOT / "bench" / "data" / "charity_test.jsonl"
EVAL_DIR = ROOT / ".." / "shared" / "eval"
DOC = ROOT / "docs" / "detection.md"
START, END = "<!-- detector:start -->", "<!-- detector:end -->"
CHANNELS = {"comment": "fb_comment", "visitor_post": "fb_post", "dm": "fb_dm"}
# What the photo family would need (pixels) is not in text: never expected here.
FAMILIES_IN_TEXT = (
    "risk",
    "help_request",
    "out_of_remit",
    "pii",
    "abusive",
    "unsafe_practice",
    "spam",
    "complaint",
)
# Public file prefix -> the categories whose finding counts as flagging the row.
PUBLIC: dict[str, tuple[str, ...]] = {
    "help_seeking": ("help_request.",),
    "risk_suicide": ("risk.suicide", "risk.self_harm"),
    "risk_abuse_dv": ("risk.abuse", "risk.domestic_violence", "risk.child_at_risk"),
    "pii_": ("pii.",),
    "toxic_": ("abusive.",),
    "advice_medical": ("out_of_remit.medical",),
    "advice_legal": ("out_of_remit.legal",),
    "spam_": ("spam",),
}
ISSUE_EXAMPLES: list[tuple[str, str]] = [
    ("s/h is getting bad again, hiding it under long sleeves", "risk.self_harm"),
    ("Sorry everyone, I don't think I'll be around much longer", "risk.suicide"),
    ("I drove to the reservoir last night and just sat there thinking about it", "risk.suicide"),
    ("i dont see the point in any of it anymore. w h a t s the point", "risk.suicide"),
    (
        "my 13yo has an older 'boyfriend' who buys her vapes and picks her up from school, "
        "she won't say his surname",
        "risk.child_at_risk",
    ),
    (
        "Feeling really low since the adoption breakdown, would be good to talk to someone",
        "help_request.emotional_support",
    ),
    ("Do you run a group for dads? I'd feel odd at the mums one", "help_request.peer_connection"),
    (
        "any other kinship carers round Norwich fancy a cuppa and a chat?",
        "help_request.peer_connection (a town is not a person)",
    ),
    (
        "is there anyone I could talk to about our little one's night terrors? "
        "we're running on empty",
        "help_request, no risk",
    ),
    ("this quiz killed me 😂 can't do this anymore lol", "nothing"),
]


def judge(ruleset, texts: list[str], channels: list[str] | None = None) -> list[list[str]]:  # type: ignore[no-untyped-def]
    channels = channels or ["fb_comment"] * len(texts)
    out: list[list[str]] = []
    for start in range(0, len(texts), 64):
        batch = [
            Message(t, channel=c)
            for t, c in zip(texts[start : start + 64], channels[start : start + 64], strict=True)
        ]
        out += [categories_of(f) for f in evaluate_many(ruleset, batch)]
    return out


def read_jsonl(path: Path) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def test_set_report(name: str, ruleset, rows: list[dict], misses: bool) -> dict:  # type: ignore[no-untyped-def,type-arg]
    predicted = judge(ruleset, [r["text"] for r in rows], [CHANNELS[r["channel"]] for r in rows])
    risk, help_, exact_top, exact_cat = Count(), Count(), 0, 0
    per_cat: dict[str, Count] = collections.defaultdict(Count)
    wrong: list[tuple[str, list[str], list[str]]] = []
    for row, got in zip(rows, predicted, strict=True):
        want = set(row["labels"])
        have = set(got) - {c for c in got if top_of(c) == "photo"}
        risk.add(any(top_of(c) == "risk" for c in have), any(top_of(c) == "risk" for c in want))
        help_.add(
            any(top_of(c) == "help_request" for c in have),
            any(top_of(c) == "help_request" for c in want),
        )
        tops_ok = {top_of(c) for c in have} == {top_of(c) for c in want}
        exact_top += tops_ok
        exact_cat += have == want
        for category in want | have:
            per_cat[category].add(category in have, category in want)
        if not tops_ok:
            wrong.append((row["text"], sorted(want), sorted(have)))
    n = len(rows)
    if misses:
        print(f"\n== {name}: messages whose families were not all right ==")
        for text, want, have in wrong:
            print(f"  want {want} got {have}: {text[:160]!r}")
    return {
        "name": name,
        "rows": n,
        "risk": risk,
        "help": help_,
        "exact_top": exact_top / n,
        "exact_category": exact_cat / n,
        "per_category": dict(sorted(per_cat.items())),
    }


def baselines() -> dict[str, tuple[str, float]]:
    """file stem -> (best baseline, its F1), read from BASELINES.md's table."""
    path = EVAL_DIR / "BASELINES.md"
    out: dict[str, tuple[str, float]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"\| `([a-z0-9_]+)` \| ([^|]+) \| [0-9.]+ \| [0-9.]+ \| ([0-9.]+) \|", line)
        if m:
            out[m.group(1)] = (m.group(2).strip(), float(m.group(3)))
    # profanity-check was trained on Davidson: its figure there is not a fair bar; the keyword
    # list's is (BASELINES.md gives it among the others).
    davidson = re.search(r"`toxic_davidson`.*keyword ([0-9.]+)", path.read_text(encoding="utf-8"))
    if davidson:
        out["toxic_davidson"] = ("keyword (profanity-check trained on it)", float(davidson[1]))
    return out


def public_report(ruleset, rules_alone) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    data = EVAL_DIR / "data"
    if not data.is_dir():
        return []
    best = baselines()
    out = []
    for path in sorted(data.glob("*.jsonl")):
        prefixes = next((v for k, v in PUBLIC.items() if path.stem.startswith(k)), None)
        if prefixes is None:
            continue
        rows = [r for r in read_jsonl(path) if half(r["text"]) == "check"]
        texts = [r["text"] for r in rows]
        shipped, alone = Count(), Count()
        for row, got, got_alone in zip(
            rows, judge(ruleset, texts), judge(rules_alone, texts), strict=True
        ):
            shipped.add(any(c.startswith(prefixes) for c in got), row["label"] == 1)
            alone.add(any(c.startswith(prefixes) for c in got_alone), row["label"] == 1)
        out.append(
            {"file": path.stem, "rows": len(rows), "shipped": shipped, "alone": alone}
            | {"baseline": best.get(path.stem, ("-", 0.0))}
        )
    return out


def issue_examples(ruleset) -> list[tuple[str, str, list[str]]]:  # type: ignore[no-untyped-def]
    got = judge(ruleset, [t for t, _ in ISSUE_EXAMPLES])
    return [(t, want, have) for (t, want), have in zip(ISSUE_EXAMPLES, got, strict=True)]


def render(tests: list[dict], public: list[dict], examples, heads) -> str:  # type: ignore[no-untyped-def,type-arg]
    today = datetime.date.today().isoformat()
    lines = [
        f"Generated by `python bench/detector_eval.py` ({today}). The detector as shipped: rules "
        "plus the learned stage, default config.",
        "",
        "#### 1. Validation (out of fold, our corpus): where the thresholds come from",
        "",
        f"{heads.meta['corpus_messages']} corpus messages in {heads.meta['folds']} folds, plus "
        f"{heads.meta['public_tune_rows']} public tune-half rows (weight "
        f"{heads.meta['public_weight']}) always in training. Risk: thresholds chosen together so "
        f"that each subtype keeps >= {heads.meta['risk_recall_floor']} of its messages flagged "
        "as risk at all, then as few false alarms as possible; others: best F1.",
        "",
        "| category | positives | threshold | P | R | F1 | chosen by |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for category, v in heads.meta["validation"].items():
        lines.append(
            f"| `{category}` | {v['positives']} | {v['threshold']:.2f} | {v['precision']:.2f} | "
            f"{v['recall']:.2f} | {v['f1']:.2f} | {v['rule']} |"
        )
    for t in tests:
        r, h = t["risk"], t["help"]
        lines += [
            "",
            f"#### 2. {t['name']} ({t['rows']} messages)",
            "",
            "| measure | value | aim |",
            "| --- | ---: | --- |",
            f"| risk recall (any risk expected, any found) | {r.r:.3f} ({r.tp}/{r.tp + r.fn}) "
            "| >= 0.97 |",
            f"| false-positive rate on messages without risk | {r.fpr:.3f} ({r.fp}/{r.fp + r.tn}) "
            "| <= 0.05 |",
            f"| help-request recall | {h.r:.3f} ({h.tp}/{h.tp + h.fn}) | >= 0.90 |",
            f"| help-request precision | {h.p:.3f} ({h.tp}/{h.tp + h.fp}) | >= 0.85 |",
            f"| every expected family right (risk, help, pii, ...) | {t['exact_top']:.3f} "
            "| >= 0.90 |",
            f"| every expected category right (top.sub) | {t['exact_category']:.3f} | - |",
            "",
            "| category | expected | P | R | F1 |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        for category, c in t["per_category"].items():
            lines.append(f"| `{category}` | {c.tp + c.fn} | {c.p:.2f} | {c.r:.2f} | {c.f1:.2f} |")
    if public:
        lines += [
            "",
            "#### 3. Public check halves (never trained or tuned on)",
            "",
            "| file | rows | rules alone F1 | shipped P | R | F1 | best baseline (F1) | beats it |",
            "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
        ]
        for p in public:
            s, a = p["shipped"], p["alone"]
            name, f1 = p["baseline"]
            lines.append(
                f"| `{p['file']}` | {p['rows']} | {a.f1:.2f} | {s.p:.2f} | {s.r:.2f} | "
                f"{s.f1:.2f} | {name} ({f1:.2f}) | {'yes' if s.f1 > f1 else '**no**'} |"
            )
    lines += [
        "",
        "#### The ten messages of issue 14",
        "",
        "| message | should be | shipped says |",
        "| --- | --- | --- |",
    ]
    for text, want, have in examples:
        lines.append(f"| {text} | {want} | {', '.join(have) or 'nothing'} |")
    return "\n".join(lines)


def write_doc(block: str) -> None:
    text = DOC.read_text(encoding="utf-8")
    new = f"{START}\n\n{block}\n\n{END}"
    if START in text:
        before, rest = text.split(START, 1)
        text = before + new + rest.split(END, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + new + "\n"
    DOC.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true", help="print, do not edit the doc")
    parser.add_argument("--misses", action="store_true", help="print what the test set missed")
    args = parser.parse_args(argv)
    # Word-by-word reasons change no category and cost extra embeddings per finding.
    config = RulesConfig(semantic=SemanticConfig(explain_words=False))
    ruleset = detection_ruleset(config)
    if getattr(ruleset, "stage", None) is None:
        print("the learned stage is not available here: install '.[semantic]'")
        return 1
    rules_alone = load_ruleset(config)
    tests = []
    if TEST_SET.is_file():
        tests.append(
            test_set_report(
                "Independent charity-style test set", ruleset, read_jsonl(TEST_SET), args.misses
            )
        )
    public = public_report(ruleset, rules_alone)
    if not public:
        print(f"skipped the public check halves: {EVAL_DIR} is not here")
    block = render(tests, public, issue_examples(ruleset), load_heads())
    print(block)
    if not args.no_write:
        write_doc(block)
        print(f"\nwrote {DOC}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
