"""Experiment: a linear classifier on the embeddings, where a data licence would allow shipping it.

Usage: .venv/bin/python bench/train_semantic.py [--data DIR]

Of the labelled sets in ../shared/eval, only Davidson et al. 2017 (`toxic_davidson`, MIT) is
both licensed for redistribution of a derived model and about a category the stage judges
(abusive language); the risk, help and advice files have no licence, an unclear one, or a
research-only release (DATASETS.md). So this trains a logistic regression (numpy, L2, full-batch
gradient descent) on the Davidson **tune half** only, and measures it next to nearest-prototype
scoring on the Davidson check half, on OLID and HateXplain (other sources), and on our charity
cases. It prints a markdown table and writes nothing: the result decides whether a classifier
is worth shipping (docs/decisions.md records the outcome).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from semantic_eval import CHARITY, Counts, half  # noqa: E402

DEFAULT_DATA = ROOT / ".." / "shared" / "eval" / "data"
SEED = 20261121


def _rows(path: Path) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def train(x: np.ndarray, y: np.ndarray, l2: float = 1e-3, steps: int = 2000) -> np.ndarray:
    """Logistic regression weights (last element = bias), by full-batch gradient descent."""
    xb = np.hstack([x, np.ones((len(x), 1), dtype=np.float32)])
    w = np.zeros(xb.shape[1], dtype=np.float64)
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(xb @ w)))
        grad = xb.T @ (p - y) / len(y) + l2 * np.r_[w[:-1], 0.0]
        w -= 2.0 * grad
    return w


def predict(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-(np.hstack([x, np.ones((len(x), 1))]) @ w)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args(argv)
    from semantic_eval import stage_for_bench

    stage = stage_for_bench()
    if stage is None or not args.data.is_dir():
        print("skipped: needs the semantic extra and ../shared/eval")
        return 0
    embed = stage.embed
    davidson = _rows(args.data / "toxic_davidson.jsonl")
    tune = [r for r in davidson if half(r["text"]) == "tune"]
    x = embed([r["text"] for r in tune])
    y = np.array([r["label"] for r in tune], dtype=np.float64)
    w = train(x, y)
    # The decision threshold is chosen on the training (tune) half, by F1.
    p_tune = predict(w, x)
    cut = max(np.arange(0.1, 0.9, 0.05), key=lambda t: _f1(p_tune >= t, y == 1))
    sets = {
        "toxic_davidson (check half)": [r for r in davidson if half(r["text"]) == "check"],
        "toxic_olid": _rows(args.data / "toxic_olid.jsonl"),
        "toxic_hatexplain": _rows(args.data / "toxic_hatexplain.jsonl"),
        "charity cases (abusive)": [
            {"text": r["text"], "label": int("abusive" in r["expect"])} for r in _rows(CHARITY)
        ],
    }
    abusive = [i for i, c in enumerate(stage.categories) if c.category.startswith("abusive.")]
    print(f"classifier: logistic regression on {len(tune)} Davidson tune rows, cut {cut:.2f}\n")
    print("| texts | classifier P / R / F1 | nearest prototype (0.42) P / R / F1 |")
    print("| --- | --- | --- |")
    for name, rows in sets.items():
        gold = np.array([r["label"] == 1 for r in rows])
        emb = embed([r["text"] for r in rows])
        clf = predict(w, emb) >= cut
        scores = stage.score([r["text"] for r in rows])
        proto = np.array(
            [
                any(s.category in abusive and s.fires(0.42) for s in row_scores)
                for row_scores in scores
            ]
        )
        print(f"| {name} | {_prf(clf, gold)} | {_prf(proto, gold)} |")
    return 0


def _counts(pred: np.ndarray, gold: np.ndarray) -> Counts:
    c = Counts()
    for p, g in zip(pred, gold, strict=True):
        c.add(bool(p), bool(g))
    return c


def _f1(pred: np.ndarray, gold: np.ndarray) -> float:
    return _counts(pred, gold).f()


def _prf(pred: np.ndarray, gold: np.ndarray) -> str:
    c = _counts(pred, gold)
    return f"{c.p:.2f} / {c.r:.2f} / {c.f():.2f}"


if __name__ == "__main__":
    raise SystemExit(main())
