"""The trained heads: a small network from a message's embedding and rule signals to categories.

One hidden layer shared by every category (what "I can't go on" means helps both the suicide
and the emotional-support heads), then one sigmoid output per category, so a message can carry
several. The inputs are the sentence embedding of (a chunk of) the message and, per category
family, the strongest score the rules gave it: the rules are exact about what they know, and
the heads learn when a matched phrase is a joke, a quotation or talk *about* the topic.

Between the two sits a hashed bag of the message's words and word pairs (lexical.py): the
embedding says what a message is about, the words keep what turns it ("lol", "last year").

The weights live in `heads.npz` and what they mean in `heads.json`, both next to this file and
both written by `haven rules train` from the committed corpus (rules/corpus/). Like rule packs
they are files read by path; nothing here trains, reads the clock or the environment.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .lexical import lexical

HEADS_DIR = Path(__file__).resolve().parent
WEIGHTS_FILE = "heads.npz"
META_FILE = "heads.json"


@dataclass(frozen=True, eq=False)
class Heads:
    categories: tuple[str, ...]  # one output each, in this order
    signals: tuple[str, ...]  # rule-signal inputs: a category or a top ("abusive")
    lexical_dims: int  # hashed word features (0: none)
    thresholds: dict[str, float]  # probability each category needs, chosen on validation
    w1: np.ndarray  # (embedding + signals, hidden)
    b1: np.ndarray
    w2: np.ndarray  # (hidden, categories)
    b2: np.ndarray
    # Corpus sentences shown to a moderator as "reads like": texts, unit vectors, labels.
    examples: tuple[str, ...]
    example_vectors: np.ndarray  # (examples, dims)
    example_labels: np.ndarray  # (examples, categories) bool
    meta: dict[str, object]  # model, corpus fingerprint, how the thresholds were chosen

    @property
    def dims(self) -> int:
        """Width of the embedding the heads read."""
        return int(self.w1.shape[0]) - self.lexical_dims - len(self.signals)

    def probabilities(
        self, vectors: np.ndarray, texts: Sequence[str], signals: np.ndarray
    ) -> np.ndarray:
        """(rows, categories) for embeddings (rows, dims) of `texts` (prepared) and signals."""
        x = features(vectors, texts, signals, self.lexical_dims)
        return predict((self.w1, self.b1, self.w2, self.b2), x)

    def nearest(self, vector: np.ndarray, category: int, count: int = 3) -> list[tuple[str, float]]:
        """The corpus examples of `category` most like `vector`, with their cosine similarity."""
        own = np.flatnonzero(self.example_labels[:, category])
        if not len(own):
            return []
        width = self.example_vectors.shape[1]  # the mean-pooled part of the embedding
        sims = self.example_vectors[own] @ vector[:width].astype(np.float32)
        best = np.argsort(-sims)[:count]
        return [(self.examples[own[i]], round(float(sims[i]), 3)) for i in best]


def features(
    vectors: np.ndarray, texts: Sequence[str], signals: np.ndarray, lexical_dims: int
) -> np.ndarray:
    """The rows the heads read, in training and at run time alike: embedding, words, signals."""
    words = lexical(list(texts), lexical_dims)
    parts = [vectors.astype(np.float32), words, signals.astype(np.float32)]
    return np.concatenate(parts, axis=1)


def predict(params: Sequence[np.ndarray], x: np.ndarray) -> np.ndarray:
    w1, b1, w2, b2 = params
    hidden = np.maximum(x @ w1 + b1, 0.0)
    logits = hidden @ w2 + b2
    return 1.0 / (1.0 + np.exp(-np.clip(logits, -30.0, 30.0)))


def signal_vector(signals: Sequence[str], rule_scores: dict[str, float]) -> np.ndarray:
    """Per signal, the strongest rule score in that category or top (0 when none fired)."""
    out = np.zeros(len(signals), dtype=np.float32)
    for i, name in enumerate(signals):
        best = 0.0
        for category, score in rule_scores.items():
            if category == name or category.startswith(name + "."):
                best = max(best, score)
        out[i] = best
    return out


def load_heads(directory: Path = HEADS_DIR) -> Heads:
    meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
    with np.load(directory / WEIGHTS_FILE, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    return Heads(
        categories=tuple(meta["categories"]),
        signals=tuple(meta["signals"]),
        lexical_dims=int(meta["lexical_dims"]),
        thresholds={k: float(v) for k, v in meta["thresholds"].items()},
        w1=arrays["w1"].astype(np.float32),
        b1=arrays["b1"].astype(np.float32),
        w2=arrays["w2"].astype(np.float32),
        b2=arrays["b2"].astype(np.float32),
        examples=tuple(meta["examples"]),
        # Half precision on disk; single in memory, once, so "reads like" costs one product.
        example_vectors=arrays["example_vectors"].astype(np.float32),
        example_labels=arrays["example_labels"].astype(bool),
        meta=meta["about"],
    )


def save_heads(heads: Heads, directory: Path = HEADS_DIR) -> None:
    # Half precision on disk halves the file; probabilities move by under 0.001.
    np.savez_compressed(
        directory / WEIGHTS_FILE,
        w1=heads.w1.astype(np.float16),
        b1=heads.b1.astype(np.float32),
        w2=heads.w2.astype(np.float32),
        b2=heads.b2.astype(np.float32),
        example_vectors=heads.example_vectors.astype(np.float16),
        example_labels=heads.example_labels.astype(np.uint8),
    )
    meta = {
        "about": heads.meta,
        "categories": list(heads.categories),
        "signals": list(heads.signals),
        "lexical_dims": heads.lexical_dims,
        "thresholds": heads.thresholds,
        "examples": list(heads.examples),
    }
    (directory / META_FILE).write_text(
        json.dumps(meta, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
