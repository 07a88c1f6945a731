"""Fitting the heads and choosing thresholds: the pure numpy parts, on data made here."""

from __future__ import annotations

import pytest

np = pytest.importorskip("numpy", reason="the `semantic` extra is not installed (numpy)")

from rules.semantic.heads import Heads, load_heads, predict, save_heads, signal_vector  # noqa: E402
from rules.semantic.training import (  # noqa: E402
    Settings,
    TrainingSet,
    choose_risk_thresholds,
    choose_threshold,
    fit,
    out_of_fold,
)

FAST = Settings(hidden=16, epochs=40, batch=32)


def toy(n: int = 200, seed: int = 0) -> TrainingSet:
    """Two heads: the first fires when x0 > 0, the second when x1 > 0."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    y = (x[:, :2] > 0).astype(np.float32)
    everything = np.ones_like(y, dtype=bool)
    return TrainingSet(x, y, everything, ~everything, np.zeros(n, bool), np.ones(n, np.float32))


def test_fit_learns_a_separable_problem_and_is_deterministic() -> None:
    data = toy()
    params = fit(data, FAST)
    accuracy = ((predict(params, data.x) > 0.5) == (data.targets > 0.5)).mean()
    assert accuracy > 0.9
    again = fit(data, FAST)
    assert all(np.array_equal(a, b) for a, b in zip(params, again, strict=True))


def test_a_group_row_asks_only_that_one_of_its_heads_fires() -> None:
    # Half the rows say only "one of the two heads" (like a public set's family label); the
    # other half label both heads. The grouped rows must not teach either head "no".
    data = toy(400)
    grouped = np.arange(400) % 2 == 0
    positive_group = grouped & (data.targets.max(axis=1) > 0)
    data.grouped[:] = positive_group
    data.group[positive_group] = True
    data.known[grouped] = False
    data.known[grouped & ~positive_group] = True  # a negative family row: every head says no
    params = fit(data, FAST)
    probs = predict(params, data.x)
    either = probs.max(axis=1) > 0.5
    assert (either == (data.targets.max(axis=1) > 0)).mean() > 0.85


def test_out_of_fold_predicts_each_row_from_a_model_that_did_not_see_it() -> None:
    data = toy(120)
    folds = np.arange(120) % 3
    folds[:20] = -1  # always trained on, never predicted
    oof = out_of_fold(data, folds, FAST)
    assert np.isnan(oof[:20]).all() and not np.isnan(oof[20:]).any()


def test_thresholds_keep_the_recall_floor_or_take_the_best_f1() -> None:
    scores = np.array([0.9, 0.8, 0.7, 0.3, 0.2, 0.1, 0.6, 0.05])
    gold = np.array([1, 1, 1, 1, 0, 0, 0, 0], dtype=bool)
    floor = choose_threshold(scores, gold, recall_floor=1.0)
    assert floor.recall == 1.0 and floor.threshold == 0.3  # highest keeping every positive
    assert floor.precision == pytest.approx(4 / 5)
    best = choose_threshold(scores, gold)
    assert best.rule == "best F1" and best.f1 >= floor.f1


def test_signals_are_the_strongest_rule_score_per_category_or_top() -> None:
    vector = signal_vector(("risk.suicide", "abusive"), {"abusive.hate": 0.6, "risk.suicide": 0.9})
    assert vector.tolist() == pytest.approx([0.9, 0.6])
    assert signal_vector(("spam",), {}).tolist() == [0.0]


def test_heads_survive_a_save_and_load(tmp_path) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(1)
    heads = Heads(
        categories=("spam",),
        signals=("spam",),
        lexical_dims=8,
        thresholds={"spam": 0.4},
        w1=rng.normal(size=(13, 3)).astype(np.float32),
        b1=np.zeros(3, np.float32),
        w2=rng.normal(size=(3, 1)).astype(np.float32),
        b2=np.zeros(1, np.float32),
        examples=("buy now",),
        example_vectors=np.ones((1, 4), np.float16) / 2,
        example_labels=np.ones((1, 1), bool),
        meta={"model": "test"},
    )
    save_heads(heads, tmp_path)
    back = load_heads(tmp_path)
    x = rng.normal(size=(2, 4)).astype(np.float32)
    s = np.zeros((2, 1), np.float32)
    texts = ["buy now", "hello there"]
    # Weights are stored in half precision: probabilities move by well under 0.001.
    assert np.allclose(heads.probabilities(x, texts, s), back.probabilities(x, texts, s), atol=1e-3)
    assert back.thresholds == {"spam": 0.4} and back.meta == {"model": "test"}
    assert back.nearest(np.ones(4, np.float32) / 2, 0) == [("buy now", 1.0)]


def test_risk_thresholds_keep_every_subtype_reaching_the_lead() -> None:
    # Two risk heads. Subtype 1's messages are often read by head 0 instead: still caught, as
    # any risk finding pages the lead, so head 1 can be strict.
    scores = np.array(
        [[0.9, 0.1], [0.8, 0.2], [0.2, 0.9], [0.7, 0.3], [0.3, 0.3], [0.1, 0.6], [0.05, 0.05]]
    )
    gold = np.array([[1, 0], [1, 0], [0, 1], [0, 1], [0, 0], [0, 0], [0, 0]], dtype=bool)
    thresholds, recalls = choose_risk_thresholds(scores, gold, floor=1.0)
    assert (recalls >= 1.0).all()
    flagged = (scores >= thresholds).any(axis=1)
    assert flagged[:4].all() and not flagged[4:].any()
