"""The semantic stage on labelled rows: scores cached per file, thresholds chosen on one half.

Used by bench/detection.py (rules alone vs rules + semantic per file, and our charity cases)
and runnable on its own to choose thresholds:

    .venv/bin/python bench/semantic_eval.py --tune

Thresholds are chosen on the **tune** half of ../shared/eval only (the same hash split as
bench/detection.py), one per category family, by a grid over cosine similarity: for risk the
objective is F2 (recall-first), elsewhere F1, averaged over the family's files. The check half
and bench/data/charity_cases.jsonl are never used to choose anything.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from rules import Message, RulesConfig, load_ruleset  # noqa: E402
from rules.model import top_of  # noqa: E402
from rules.semantic import load_pack  # noqa: E402
from rules.semantic.config import SUBTYPE_MARGIN  # noqa: E402

CACHE = Path("/tmp/haven-semantic-cache")
CHARITY = ROOT / "bench" / "data" / "charity_cases.jsonl"
# Below about 0.40 MiniLM similarities are mostly shared topic, not shared meaning (unrelated
# sentences score up to ~0.3 in tests/semantic/test_embedder.py), so the grid starts there.
GRID = [round(0.40 + 0.02 * i, 2) for i in range(26)]  # 0.40 .. 0.90


def half(text: str) -> str:
    return "tune" if hashlib.sha256(text.encode()).digest()[0] % 2 == 0 else "check"


@dataclass
class Row:
    text: str
    gold: bool
    half: str
    rule_categories: tuple[str, ...]
    # category -> (similarity of its best chunk, similarity of the nearest counter-example there)
    semantic: dict[str, tuple[float, float]]
    expect: tuple[str, ...] = ()  # charity cases: the families a row should be flagged for


def stage_for_bench():  # type: ignore[no-untyped-def]
    """The stage with every category switched on in raise mode and no threshold applied."""
    from bot.semantic import _embedder, availability
    from rules.semantic.config import SemanticConfig
    from rules.semantic.stage import build_stage

    every = ["risk", "help_request", "out_of_remit", "abusive", "spam"]
    config = SemanticConfig(raise_on_own=every, strengthen_only=[])
    state = availability(config)
    if not state.on:
        return None
    embedder = _embedder(str(state.model_path), str(state.tokenizer_path))
    return build_stage(load_pack(), RulesConfig(), config, embedder.embed)


def _pack_hash() -> str:
    # The sentences only: scores do not depend on thresholds, so tuning keeps the cache.
    pack = load_pack()
    content = json.dumps([pack.neutral, {k: v.model_dump() for k, v in pack.categories.items()}])
    return hashlib.sha256(content.encode()).hexdigest()[:12]


def score_rows(path: Path, stage, ruleset, label_key: str = "label") -> list[Row]:  # type: ignore[no-untyped-def]
    """Rules and per-category semantic scores for every row; cached by file and pack."""
    CACHE.mkdir(exist_ok=True)
    cached = CACHE / f"{path.stem}-{_pack_hash()}.pkl"
    if cached.exists() and cached.stat().st_mtime > path.stat().st_mtime:
        return [Row(**fields) for fields in pickle.loads(cached.read_bytes())]
    ruleset = ruleset or load_ruleset()
    raw = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    texts = [r["text"] for r in raw]
    rows = []
    for start in range(0, len(texts), 64):
        batch = texts[start : start + 64]
        for offset, scores in enumerate(stage.score(batch)):
            r = raw[start + offset]
            found = ruleset.evaluate(Message(r["text"]))
            sem = {
                stage.categories[s.category].category: (
                    s.similarity,
                    s.counter[1] if s.counter else -1.0,
                )
                for s in scores
            }
            rows.append(
                Row(
                    r["text"],
                    r.get(label_key) == 1,
                    half(r["text"]),
                    tuple(f.category for f in found),
                    sem,
                    tuple(r.get("expect", ())),
                )
            )
    cached.write_bytes(pickle.dumps([vars(row) for row in rows]))  # plain dicts: any importer
    return rows


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, pred: bool, gold: bool) -> None:
        self.tp += pred and gold
        self.fp += pred and not gold
        self.fn += gold and not pred

    @property
    def p(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def r(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    def f(self, beta: float = 1.0) -> float:
        p, r, b2 = self.p, self.r, beta * beta
        return (1 + b2) * p * r / (b2 * p + r) if p + r else 0.0


def predict(
    row: Row, prefixes: tuple[str, ...], thresholds: dict[str, float], modes: dict[str, str]
) -> bool:
    """Rules + semantic for one row: a family finding from either, as the combined ruleset."""
    if any(c.startswith(prefixes) for c in row.rule_categories):
        return True
    tops = {top_of(c) for c in row.rule_categories}
    best: dict[str, float] = {}  # as SemanticStage.findings: the best firing subtype per top
    for category, (sim, counter) in row.semantic.items():
        if category in thresholds and sim >= thresholds[category] and sim > counter:
            best[top_of(category)] = max(best.get(top_of(category), 0.0), sim)
    for category, (sim, counter) in row.semantic.items():
        if not category.startswith(prefixes) or category not in thresholds:
            continue
        if sim < best.get(top_of(category), 0.0) - SUBTYPE_MARGIN:
            continue
        mode = modes.get(category) or modes.get(top_of(category))
        if mode is None or (mode == "strengthen" and top_of(category) not in tops):
            continue
        if sim >= thresholds[category] and sim > counter:
            return True
    return False


def evaluate(rows: list[Row], prefixes, thresholds, modes, part: str = "all") -> Counts:  # type: ignore[no-untyped-def]
    counts = Counts()
    for row in rows:
        if part == "all" or row.half == part:
            counts.add(predict(row, prefixes, thresholds, modes), row.gold)
    return counts


def tune(per_file: dict[str, list[Row]], families: dict[str, tuple[str, ...]]) -> dict[str, float]:
    """One threshold per family (shared by its categories), chosen on the tune half."""
    pack = load_pack()
    chosen: dict[str, float] = {}
    tops = ("risk", "help_request", "out_of_remit", "abusive", "spam")
    raise_all = dict.fromkeys(tops, "raise")
    by_family: dict[tuple[str, ...], list[str]] = {}
    for stem, prefixes in families.items():
        if stem in per_file:
            by_family.setdefault(prefixes, []).append(stem)
    for prefixes, stems in by_family.items():
        cats = [c for c in pack.categories if c.startswith(prefixes)]

        def on_tune(
            t: float, stems: list[str] = stems, prefixes=prefixes, cats=cats
        ) -> list[Counts]:  # type: ignore[no-untyped-def]
            return [
                evaluate(per_file[s], prefixes, dict.fromkeys(cats, t), raise_all, "tune")
                for s in stems
            ]

        if prefixes[0].startswith("risk"):
            # Recall first: the strictest threshold whose mean recall reaches the aim (0.90);
            # if none does, the best mean F2.
            reaching = [t for t in GRID if sum(c.r for c in on_tune(t)) / len(stems) >= 0.90]
            best = (
                max(reaching)
                if reaching
                else max(GRID, key=lambda t: sum(c.f(2) for c in on_tune(t)))
            )
            rule = "mean R >= 0.90" if reaching else "best mean F2"
        else:
            best = max(GRID, key=lambda t: (sum(c.f() for c in on_tune(t)), t))
            rule = "best mean F1"
        got = ", ".join(
            f"{s} P {c.p:.2f} R {c.r:.2f} F1 {c.f():.2f}"
            for s, c in zip(stems, on_tune(best), strict=True)
        )
        print(f"{'/'.join(prefixes)}: {best} ({rule}; tune half: {got})")
        chosen.update(dict.fromkeys(cats, best))
    return chosen


def main(argv: list[str] | None = None) -> int:
    from detection import DEFAULT_DATA, family_for

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--tune", action="store_true", help="print thresholds chosen on tune half")
    args = parser.parse_args(argv)
    stage = stage_for_bench()
    if stage is None:
        print("skipped: the semantic extra is not installed")
        return 0
    per_file, families = {}, {}
    for path in sorted(args.data.glob("*.jsonl")):
        fam = family_for(path.stem)
        if fam is None or path.stem.startswith("pii_"):
            continue
        per_file[path.stem] = score_rows(path, stage, None)
        families[path.stem] = fam[0]
        print(f"scored {path.stem}", flush=True)
    if args.tune:
        tune(per_file, families)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
