"""Measure the default rule packs on the labelled sets in ../shared/eval/data.

Usage: .venv/bin/python bench/detection.py [--data DIR] [--out docs/detection.md] [--misses N]

Each file is mapped to the category family it tests (DATASETS.md); a row counts as flagged
when any finding falls in that family. A plain keyword list per family is the baseline to
beat. Rows are split in two halves by a hash of the text: "tune" is the half the rules were
studied on, "check" is the half nobody looked at while writing rules, so the gap between
the two shows how much the rules overfit. The generated block of docs/detection.md is
replaced; hand-written text outside the markers is kept.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.training import half  # noqa: E402  (the split training and reports share)
from rules import Message, load_ruleset  # noqa: E402

DEFAULT_DATA = ROOT / ".." / "shared" / "eval" / "data"
START, END = "<!-- generated:start -->", "<!-- generated:end -->"

# file stem prefix -> (category prefixes that count as a hit, baseline keywords)
FAMILIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "help_seeking": (
        ("help_request.",),
        ("help", "advice", "support", "struggling", "anyone else", "please", "what should i"),
    ),
    "risk_suicide": (
        ("risk.suicide", "risk.self_harm"),
        (
            "suicide",
            "suicidal",
            "kill myself",
            "want to die",
            "self harm",
            "self-harm",
            "end my life",
        ),
    ),
    "risk_abuse_dv": (
        ("risk.abuse", "risk.domestic_violence", "risk.child_at_risk"),
        ("abuse", "abusive", "abuser", "domestic violence", "hit me", "rape", "assault", "violent"),
    ),
    "pii_": (
        ("pii.",),
        (
            "my name is",
            "call me",
            "street",
            "road",
            "avenue",
            "phone",
            "email",
            "address",
            "@",
            "live in",
            "born in",
            "card",
            "number",
        ),
    ),
    "toxic_": (
        ("abusive.",),
        (
            "fuck",
            "shit",
            "bitch",
            "cunt",
            "idiot",
            "stupid",
            "retard",
            "nigga",
            "nigger",
            "fag",
            "faggot",
            "whore",
            "slut",
            "hoe",
            "ass",
            "hate",
            "dick",
            "pussy",
            "twat",
            "moron",
        ),
    ),
    "advice_medical": (
        ("out_of_remit.medical",),
        (
            "doctor",
            "medication",
            "medicine",
            "symptoms",
            "treatment",
            "disease",
            "diagnosis",
            "pain",
            "dose",
            "side effects",
        ),
    ),
    "advice_legal": (
        ("out_of_remit.legal",),
        ("lawyer", "legal", "court", "sue", "police", "law", "attorney", "solicitor", "rights"),
    ),
    "spam_": (
        ("spam",),
        (
            "free",
            "win",
            "winner",
            "prize",
            "cash",
            "click",
            "subscribe",
            "check out",
            "http",
            "www",
            "txt",
            "claim",
            "offer",
        ),
    ),
}


def family_for(stem: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    for prefix, fam in FAMILIES.items():
        if stem.startswith(prefix):
            return fam
    return None


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, pred: bool, gold: bool) -> None:
        if pred and gold:
            self.tp += 1
        elif pred:
            self.fp += 1
        elif gold:
            self.fn += 1
        else:
            self.tn += 1

    @property
    def p(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def r(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        return 2 * self.p * self.r / (self.p + self.r) if self.p + self.r else 0.0

    @property
    def fpr(self) -> float:
        return self.fp / (self.fp + self.tn) if self.fp + self.tn else 0.0


@dataclass
class FileResult:
    name: str
    rows: int = 0
    rules: dict[str, Score] = field(default_factory=lambda: collections.defaultdict(Score))
    base: Score = field(default_factory=Score)
    fp_rules: collections.Counter = field(default_factory=collections.Counter)
    tp_rules: collections.Counter = field(default_factory=collections.Counter)
    fn_lengths: list[int] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    false_alarms: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0


def keyword_regex(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(
        "|".join(rf"(?<!\w){re.escape(w)}(?!\w)" if w[0].isalnum() else re.escape(w) for w in words)
    )


def run_file(path: Path, ruleset, want_misses: int) -> FileResult | None:
    fam = family_for(path.stem)
    if fam is None:
        return None
    prefixes, keywords = fam
    base_re = keyword_regex(keywords)
    res = FileResult(path.stem)
    started = time.perf_counter()
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        text, gold = row["text"], row["label"] == 1
        findings = [f for f in ruleset.evaluate(Message(text)) if f.category.startswith(prefixes)]
        pred = bool(findings)
        res.rows += 1
        for key in ("all", half(text)):
            res.rules[key].add(pred, gold)
        res.base.add(bool(base_re.search(text.lower())), gold)
        if pred and not gold:
            res.fp_rules.update({f.rule for f in findings})
            if half(text) == "tune" and len(res.false_alarms) < want_misses:
                res.false_alarms.append((",".join(f.rule for f in findings), text[:300]))
        if pred and gold:
            res.tp_rules.update({f.rule for f in findings})
        if gold and not pred:
            res.fn_lengths.append(len(text))
            if half(text) == "tune" and len(res.misses) < want_misses:
                res.misses.append(text[:300])
    res.seconds = time.perf_counter() - started
    return res


def fmt(x: float) -> str:
    return f"{x:.2f}"


def render(results: list[FileResult], data_dir: Path, extra: list[str] | None = None) -> str:
    out = [
        START,
        "",
        f"Generated by `python bench/detection.py` over `{data_dir.name}/` "
        f"({time.strftime('%Y-%m-%d')}). Rules alone, default packs and config.",
        "",
        "| file | rows | P | R | F1 | F1 tune half | F1 check half "
        "| keyword P | keyword R | keyword F1 | beats keywords |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for res in results:
        a, b = res.rules["all"], res.base
        out.append(
            f"| `{res.name}` | {res.rows} | {fmt(a.p)} | {fmt(a.r)} | {fmt(a.f1)} | "
            f"{fmt(res.rules['tune'].f1)} | {fmt(res.rules['check'].f1)} | {fmt(b.p)} | "
            f"{fmt(b.r)} | {fmt(b.f1)} | {'yes' if a.f1 > b.f1 else '**no**'} |"
        )
    out += ["", "### Targets (rules alone)", ""]
    out += ["| file | target | measured (all rows) | tune half | check half | met |"]
    out += ["| --- | --- | --- | --- | --- | --- |"]
    for res in results:
        a, t, c = res.rules["all"], res.rules["tune"], res.rules["check"]
        if res.name.startswith("risk_suicide"):
            met = a.r >= 0.85 and a.p >= 0.65
            out.append(
                f"| `{res.name}` | R >= 0.85 with P >= 0.65 | R {a.r:.3f}, P {a.p:.3f} | "
                f"R {t.r:.3f}, P {t.p:.3f} | R {c.r:.3f}, P {c.p:.3f} | "
                f"{'yes' if met else '**no**'} |"
            )
        elif res.name == "pii_presidio_synth":
            out.append(
                f"| `{res.name}` | F1 >= 0.90 | F1 {a.f1:.3f} | F1 {t.f1:.3f} | F1 {c.f1:.3f} | "
                f"{'yes' if a.f1 >= 0.90 else '**no**'} |"
            )
    out += ["", "### Which rules fire (true and false positives)", ""]
    out += [
        "| file | rules behind hits (count) | rules behind false alarms (count) "
        "| median chars of misses |"
    ]
    out += ["| --- | --- | --- | ---: |"]
    for res in results:
        tps = ", ".join(f"`{r}` {n}" for r, n in res.tp_rules.most_common(4)) or "-"
        fps = ", ".join(f"`{r}` {n}" for r, n in res.fp_rules.most_common(4)) or "-"
        lens = sorted(res.fn_lengths)
        med = lens[len(lens) // 2] if lens else 0
        out.append(f"| `{res.name}` | {tps} | {fps} | {med} |")
    if extra:
        out += ["", *extra]
    out += ["", END]
    return "\n".join(out)


def write_doc(path: Path, block: str) -> None:
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if START in old and END in old:
        new = old[: old.index(START)] + block + old[old.index(END) + len(END) :]
    else:
        new = "# Detection quality\n\n" + block + "\n" + old
    path.write_text(new, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "detection.md")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--misses", type=int, default=0, help="print N misses per file (tune half)")
    parser.add_argument("--only", default="", help="substring filter on file names")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"skipped: {args.data} not found (../shared/eval is not available here)")
        return 0
    ruleset = load_ruleset()
    results = []
    for path in sorted(args.data.glob("*.jsonl")):
        if args.only and args.only not in path.name:
            continue
        res = run_file(path, ruleset, args.misses)
        if res is None:
            print(f"note: no category family for {path.name}; skipped")
            continue
        results.append(res)
        a = res.rules["all"]
        print(
            f"{res.name:32} P={fmt(a.p)} R={fmt(a.r)} F1={fmt(a.f1)} "
            f"(tune {fmt(res.rules['tune'].f1)} / check {fmt(res.rules['check'].f1)}) "
            f"keywords F1={fmt(res.base.f1)} [{res.seconds:.1f}s]"
        )
        for text in res.misses:
            print("   MISS ", text.replace("\n", " ")[:300])
        for rules_hit, text in res.false_alarms:
            print("   FALSE", rules_hit, "|", text.replace("\n", " ")[:300])
    block = render(results, args.data, None)
    if not args.no_write and not args.only:
        write_doc(args.out, block)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
