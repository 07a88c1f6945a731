"""Train the learned stage's heads from the committed corpus (`haven rules train`, `make train`).

The pure parts (the network, the loss, the threshold choice) are in rules/semantic/training.py;
this module does what they may not: read the corpus and, when it is there, the public tune
halves in ../shared/eval, run the installed embedding model, and write rules/semantic/heads.*.

What goes in:
1. `rules/corpus/*.jsonl`: messages written by the team in the voice of the people who write to
   these charities, every category labelled (docs/labelling.md). Split into five folds by a hash
   of the text: out-of-fold predictions choose the thresholds, then the heads are fitted on all.
2. The **tune** half of each public set (the same hash split as bench/detection.py), weighted
   down because it is not charity-style, and labelling only its own family. Never the check
   half, which is kept for reporting. Without ../shared the heads train on the corpus alone.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rules import Message, RulesConfig, load_ruleset
from rules.semantic.heads import HEADS_DIR, Heads, features, save_heads, signal_vector
from rules.semantic.lexical import DIMENSIONS as LEXICAL_DIMS
from rules.semantic.pieces import pieces, with_whole
from rules.semantic.prepare import prepare
from rules.semantic.training import (
    Settings,
    TrainingSet,
    choose_risk_thresholds,
    choose_threshold,
    fit,
    out_of_fold,
)

ROOT = Path(__file__).resolve().parents[1]
CORPUS_DIR = ROOT / "rules" / "corpus"
EVAL_DIR = ROOT / ".." / "shared" / "eval" / "data"
CACHE_DIR = ROOT / "instance" / "embedding-cache"

# Each risk category is both a head and a signal of its own.
RISK_CATEGORIES: tuple[str, ...] = (
    "risk.suicide",
    "risk.self_harm",
    "risk.abuse",
    "risk.child_at_risk",
    "risk.domestic_violence",
    "risk.harm_to_others",
)
HEAD_CATEGORIES: tuple[str, ...] = (
    *RISK_CATEGORIES,
    "help_request.emotional_support",
    "help_request.peer_connection",
    "help_request.resources",
    "help_request.professional_help",
    "out_of_remit.legal",
    "out_of_remit.medical",
    "abusive.offensive",
    "abusive.hate",
    "abusive.harassment",
    "unsafe_practice.unproven_treatment",
    "unsafe_practice.illegal_substance",
    "spam",
    "complaint",
    "pii.person_name",
    "pii.child_name",
)
SIGNALS: tuple[str, ...] = (
    *RISK_CATEGORIES,
    "help_request",
    "out_of_remit.legal",
    "out_of_remit.medical",
    "abusive",
    "unsafe_practice",
    "spam",
    "complaint",
    "pii.person_name",
    "pii.child_name",
)
# Public file prefix -> the heads its label speaks for ("one of these" when several).
EVAL_GROUPS: dict[str, tuple[str, ...]] = {
    "help_seeking_": tuple(c for c in HEAD_CATEGORIES if c.startswith("help_request.")),
    "risk_suicide_": ("risk.suicide", "risk.self_harm"),
    "risk_abuse_dv_": ("risk.abuse", "risk.domestic_violence", "risk.child_at_risk"),
    "advice_legal_": ("out_of_remit.legal",),
    "advice_medical_": ("out_of_remit.medical",),
    "toxic_": ("abusive.offensive", "abusive.hate", "abusive.harassment"),
    "spam_": ("spam",),
}
# Names in the public personal-details sets, by their annotated entity type: the name head
# learns that "Netflix", "PlayStation" and "Kent" are not people (other heads learn nothing).
PERSON_ENTITIES = frozenset({"person", "PERSON"})
EVAL_WEIGHT = 0.3  # Reddit, tweets and SMS teach breadth, not the voice of a charity page
RISK_RECALL_FLOOR = 0.97
FOLDS = 5
MAX_CHUNKS = 12
CORPUS_CHANNELS = {"comment": "fb_comment", "visitor_post": "fb_post", "dm": "fb_dm"}


@dataclass(frozen=True)
class Example:
    text: str
    labels: frozenset[str]
    channel: str  # a Haven channel name
    source: str  # "corpus" or the public file's stem
    group: tuple[str, ...] = ()  # public rows: the heads the label speaks for


def half(text: str) -> str:
    """The public sets' fixed split (bench/detection.py): tune or check."""
    return "tune" if hashlib.sha256(text.encode()).digest()[0] % 2 == 0 else "check"


def fold_of(text: str) -> int:
    return hashlib.sha256(("fold:" + text).encode()).digest()[0] % FOLDS


def read_corpus(directory: Path = CORPUS_DIR) -> list[Example]:
    out = []
    for path in sorted(directory.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                channel = CORPUS_CHANNELS.get(row.get("channel", "comment"), "fb_comment")
                out.append(Example(row["text"], frozenset(row["labels"]), channel, "corpus"))
    return out


def corpus_fingerprint(directory: Path = CORPUS_DIR) -> str:
    """sha256 over the corpus files' names and bytes: the heads record what they learned from."""
    digest = hashlib.sha256()
    for path in sorted(directory.glob("*.jsonl")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def read_public_tune_halves(directory: Path = EVAL_DIR) -> list[Example]:
    out: list[Example] = []
    if not directory.is_dir():
        return out
    for path in sorted(directory.glob("*.jsonl")):
        group = next((g for p, g in EVAL_GROUPS.items() if path.stem.startswith(p)), None)
        if path.stem.startswith("pii_"):
            out += _person_rows(path)
            continue
        if group is None:
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if half(row["text"]) != "tune":
                continue
            labels = frozenset(group) if row["label"] == 1 else frozenset()
            out.append(Example(row["text"], labels, "fb_comment", path.stem, group))
    return out


def _person_rows(path: Path) -> list[Example]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if half(row["text"]) != "tune":
            continue
        person = any(e.get("type") in PERSON_ENTITIES for e in row.get("entities", []))
        labels = frozenset({"pii.person_name"}) if person else frozenset()
        out.append(Example(row["text"], labels, "fb_comment", path.stem, ("pii.person_name",)))
    return out


class CachedEmbedder:
    """Embeddings of prepared text, kept on disk by content so retraining skips the model."""

    def __init__(self, embed: Callable[[list[str]], np.ndarray], model_id: str):
        self.embed = embed
        self.path = CACHE_DIR / (hashlib.sha256(model_id.encode()).hexdigest()[:16] + ".npz")
        self.cache: dict[str, np.ndarray] = {}
        if self.path.is_file():
            with np.load(self.path, allow_pickle=False) as data:
                self.cache = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))

    def __call__(self, texts: list[str]) -> np.ndarray:
        missing = sorted({t for t in texts if _key(t) not in self.cache})
        if missing:
            for start in range(0, len(missing), 512):
                part = missing[start : start + 512]
                for text, vector in zip(part, self.embed(part), strict=True):
                    self.cache[_key(text)] = vector.astype(np.float32)
        return np.stack([self.cache[_key(t)] for t in texts])

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = sorted(self.cache)
        np.savez(self.path, keys=np.array(keys), vectors=np.stack([self.cache[k] for k in keys]))


def _key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Encoded:
    examples: list[Example]
    rows: np.ndarray  # (n, features): the whole message (mean of its chunks, all its words)


def encode(
    examples: list[Example], embed: Callable[[list[str]], np.ndarray], lexical_dims: int
) -> Encoded:
    """Embed every chunk, add the words and the rules' signals: the rows the heads read."""
    ruleset = load_ruleset(RulesConfig())
    cut = [pieces(ex.text, MAX_CHUNKS)[1] or [prepare(ex.text)] for ex in examples]
    vectors = embed([p for ps in cut for p in ps])
    rows, at = [], 0
    for ex, ps in zip(examples, cut, strict=True):
        own, texts = with_whole(vectors[at : at + len(ps)], ps)
        at += len(ps)
        signals = signal_vector(SIGNALS, rule_scores(ruleset, ex.text, ex.channel))
        rows.append(features(own[-1:], texts[-1:], signals[None, :], lexical_dims)[0])
    return Encoded(examples, np.stack(rows))


def rule_scores(ruleset, text: str, channel: str) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """The strongest score per category the rules alone give a message."""
    out: dict[str, float] = {}
    for f in ruleset.evaluate(Message(text, channel=channel)):
        out[f.category] = max(out.get(f.category, 0.0), f.score)
    return out


def training_set(encoded: Encoded) -> TrainingSet:
    n, k = len(encoded.examples), len(HEAD_CATEGORIES)
    index = {c: i for i, c in enumerate(HEAD_CATEGORIES)}
    targets = np.zeros((n, k), dtype=np.float32)
    known = np.zeros((n, k), dtype=bool)
    group = np.zeros((n, k), dtype=bool)
    grouped = np.zeros(n, dtype=bool)
    weight = np.ones(n, dtype=np.float32)
    for i, ex in enumerate(encoded.examples):
        for label in ex.labels:
            if label in index:
                targets[i, index[label]] = 1.0
        if ex.source == "corpus":
            known[i] = True
            continue
        weight[i] = EVAL_WEIGHT
        members = [index[c] for c in ex.group]
        if ex.labels and len(members) > 1:
            grouped[i] = True
            group[i, members] = True
            targets[i, members] = 0.0
        else:
            known[i, members] = True
    return TrainingSet(encoded.rows, targets, known, group, grouped, weight)


def gold(examples: Iterable[Example]) -> np.ndarray:
    return np.array(
        [[c in ex.labels for c in HEAD_CATEGORIES] for ex in examples], dtype=bool
    ).reshape(-1, len(HEAD_CATEGORIES))


def train(
    embed: Callable[[list[str]], np.ndarray],
    model_id: str,
    *,
    use_public: bool = True,
    settings: Settings | None = None,
    log: Callable[[str], None] = print,
) -> Heads:
    """Fit the heads and choose their thresholds; nothing is written (see `write`)."""
    settings = settings or Settings()
    corpus = read_corpus()
    public = read_public_tune_halves() if use_public else []
    log(f"corpus: {len(corpus)} messages; public tune halves: {len(public)} rows")
    cached = CachedEmbedder(embed, model_id)
    encoded = encode(corpus + public, cached, LEXICAL_DIMS)
    cached.save()
    data = training_set(encoded)
    folds = np.array([fold_of(ex.text) if ex.source == "corpus" else -1 for ex in encoded.examples])
    log(f"out-of-fold predictions over {FOLDS} folds of the corpus")
    oof = out_of_fold(data, folds, settings)
    corpus_rows = np.flatnonzero(folds >= 0)
    truth = gold(encoded.examples)[corpus_rows]
    thresholds: dict[str, float] = {}
    validation: dict[str, dict[str, float | int | str]] = {}
    risk = [j for j, c in enumerate(HEAD_CATEGORIES) if c.startswith("risk.")]
    risk_thresholds, reached = choose_risk_thresholds(
        oof[corpus_rows][:, risk], truth[:, risk], RISK_RECALL_FLOOR
    )
    for j, category in enumerate(HEAD_CATEGORIES):
        if j in risk:
            t = float(risk_thresholds[risk.index(j)])
            choice = choose_threshold(oof[corpus_rows, j], truth[:, j], fixed=t)
            reach = reached[risk.index(j)]
            rule = f"any-risk recall of its messages {reach:.3f} (floor {RISK_RECALL_FLOOR})"
        else:
            choice = choose_threshold(oof[corpus_rows, j], truth[:, j])
            rule = choice.rule
        thresholds[category] = choice.threshold
        validation[category] = {
            "threshold": choice.threshold,
            "precision": round(choice.precision, 3),
            "recall": round(choice.recall, 3),
            "f1": round(choice.f1, 3),
            "positives": choice.positives,
            "rule": rule,
        }
        log(f"  {category}: {validation[category]}")
    flagged = (oof[corpus_rows][:, risk] >= risk_thresholds).any(axis=1)
    any_risk = truth[:, risk].any(axis=1)
    false_rate = (flagged & ~any_risk).sum() / max((~any_risk).sum(), 1)
    validation["any risk"] = {
        "threshold": 0.0,
        "precision": round(float((flagged & any_risk).sum() / max(flagged.sum(), 1)), 3),
        "recall": round(float((flagged & any_risk).sum() / max(any_risk.sum(), 1)), 3),
        "f1": 0.0,
        "positives": int(any_risk.sum()),
        "rule": f"false-positive rate {false_rate:.3f}",
    }
    log(f"  any risk: {validation['any risk']}")
    log("fitting the heads on everything")
    w1, b1, w2, b2 = fit(data, settings)
    labelled = truth.any(axis=1)
    shown = corpus_rows[labelled]
    mean_part = 384  # "reads like" compares the mean-pooled half only (heads.nearest)
    return Heads(
        categories=HEAD_CATEGORIES,
        signals=SIGNALS,
        lexical_dims=LEXICAL_DIMS,
        thresholds=thresholds,
        w1=w1,
        b1=b1,
        w2=w2,
        b2=b2,
        examples=tuple(encoded.examples[i].text for i in shown),
        example_vectors=encoded.rows[shown, :mean_part].astype(np.float16),
        example_labels=truth[labelled],
        meta={
            "model": model_id,
            "corpus_sha256": corpus_fingerprint(),
            "corpus_messages": len(corpus),
            "public_tune_rows": len(public),
            "public_weight": EVAL_WEIGHT,
            "folds": FOLDS,
            "risk_recall_floor": RISK_RECALL_FLOOR,
            "settings": {
                "hidden": settings.hidden,
                "epochs": settings.epochs,
                "batch": settings.batch,
                "rate": settings.rate,
                "l2": settings.l2,
                "seed": settings.seed,
                "positive_weight": settings.positive_weight,
            },
            "validation": validation,
        },
    )


def write(heads: Heads, directory: Path = HEADS_DIR) -> None:
    save_heads(heads, directory)
