"""The training corpus and the committed heads: ours, valid, apart from every test set, in step."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from bot.training import (
    CORPUS_CHANNELS,
    HEAD_CATEGORIES,
    corpus_fingerprint,
    read_corpus,
)
from rules.model import CATEGORIES
from tests.helpers import SHARED

ROOT = Path(__file__).resolve().parents[2]
TEST_SETS = [
    ROOT / "bench" / "data" / "charity_test.jsonl",
    ROOT / "bench" / "data" / "charity_cases.jsonl",
]


def _texts(path: Path) -> set[str]:
    return {
        " ".join(json.loads(line)["text"].lower().split())
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    }


def test_every_row_is_valid_and_labelled_from_the_taxonomy() -> None:
    for path in sorted((ROOT / "rules" / "corpus").glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            row = json.loads(line)
            where = f"{path.name}:{number}"
            assert row["text"].strip(), where
            assert set(row["labels"]) <= CATEGORIES, where
            assert row["channel"] in CORPUS_CHANNELS, where


def test_it_is_large_covers_every_head_and_has_hard_negatives() -> None:
    corpus = read_corpus()
    assert len(corpus) >= 3000
    counts = Counter(label for ex in corpus for label in ex.labels)
    for category in HEAD_CATEGORIES:
        assert counts[category] >= 25, category
    assert sum(1 for ex in corpus if not ex.labels) >= 600
    texts = [" ".join(ex.text.lower().split()) for ex in corpus]
    assert len(set(texts)) == len(texts), "a message appears twice"


@pytest.mark.parametrize("path", TEST_SETS, ids=lambda p: p.name)
def test_no_test_message_is_in_the_corpus(path: Path) -> None:
    corpus = {" ".join(ex.text.lower().split()) for ex in read_corpus()}
    assert _texts(path) & corpus == set()


@pytest.mark.shared
def test_no_row_of_the_evaluation_sets_is_in_the_corpus() -> None:
    data = SHARED / "eval" / "data"
    if not data.is_dir():
        pytest.skip("../shared/eval is not available here")
    corpus = {" ".join(ex.text.lower().split()) for ex in read_corpus()}
    rows: set[str] = set()
    for path in data.glob("*.jsonl"):
        rows |= _texts(path)
    assert corpus & rows == set()


def test_the_committed_heads_were_trained_on_this_corpus() -> None:
    meta = json.loads((ROOT / "rules" / "semantic" / "heads.json").read_text(encoding="utf-8"))
    assert meta["about"]["corpus_sha256"] == corpus_fingerprint(), (
        "rules/corpus/ changed since the heads were trained: run `make train` and commit "
        "rules/semantic/heads.*"
    )
    assert list(meta["categories"]) == list(HEAD_CATEGORIES)
    assert all(0.0 < t < 1.0 for t in meta["thresholds"].values())
