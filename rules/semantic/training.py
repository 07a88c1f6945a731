"""Fitting the heads and choosing their thresholds: numpy only, deterministic for a seed.

Rows come from two places. Our corpus labels every category of every message. The public
evaluation sets label one family each (a suicide file says "suicidal or not", nothing about
help requests), and often only the family ("some kind of help request", "some kind of abuse"),
so a row carries a *group* target: for a positive row the loss asks that at least one head of
the group fires (a noisy-OR), for a negative row that none does, and every other head learns
nothing from it.

Thresholds come from out-of-fold predictions on our corpus only (each message predicted by a
model that did not see it), as the issue asks: risk keeps validation recall at or above the
floor with precision as high as it goes; every other category takes its best F1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .heads import predict


@dataclass
class TrainingSet:
    x: np.ndarray  # (rows, features)
    targets: np.ndarray  # (rows, categories) 0/1 where known
    known: np.ndarray  # (rows, categories) bool: this head learns from this row
    group: np.ndarray  # (rows, categories) bool: "one of these" for a positive group row
    grouped: np.ndarray  # (rows,) bool: the row's target is a group, not per head
    weight: np.ndarray  # (rows,)


@dataclass(frozen=True)
class Settings:
    hidden: int = 192
    epochs: int = 40
    batch: int = 128
    rate: float = 2e-3
    l2: float = 3e-4
    seed: int = 20261207
    positive_weight: float = 2.0  # missing a person at risk costs more than a second look


def fit(data: TrainingSet, settings: Settings = Settings()) -> list[np.ndarray]:
    """Train the network with Adam; returns [w1, b1, w2, b2]."""
    rng = np.random.default_rng(settings.seed)
    n, d = data.x.shape
    k = data.targets.shape[1]
    w1 = rng.normal(0, np.sqrt(2.0 / d), (d, settings.hidden)).astype(np.float32)
    b1 = np.zeros(settings.hidden, dtype=np.float32)
    w2 = rng.normal(0, np.sqrt(1.0 / settings.hidden), (settings.hidden, k)).astype(np.float32)
    b2 = np.full(k, -2.0, dtype=np.float32)  # most messages are none of these
    params = [w1, b1, w2, b2]
    moments = [np.zeros_like(p) for p in params]
    squares = [np.zeros_like(p) for p in params]
    step = 0
    for _ in range(settings.epochs):
        order = rng.permutation(n)
        for start in range(0, n, settings.batch):
            rows = order[start : start + settings.batch]
            grads = _gradients(params, data, rows, settings)
            step += 1
            for p, g, m, v in zip(params, grads, moments, squares, strict=True):
                m *= 0.9
                m += 0.1 * g
                v *= 0.999
                v += 0.001 * g * g
                p -= settings.rate * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
    return params


def _gradients(
    params: list[np.ndarray], data: TrainingSet, rows: np.ndarray, settings: Settings
) -> list[np.ndarray]:
    w1, b1, w2, b2 = params
    x = data.x[rows]
    pre = x @ w1 + b1
    hidden = np.maximum(pre, 0.0)
    z = hidden @ w2 + b2
    p = 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))
    y = data.targets[rows]
    known = data.known[rows]
    weight = data.weight[rows][:, None]
    # Per-head binary cross-entropy where the head's label is known.
    scale = np.where(y > 0.5, settings.positive_weight, 1.0)
    dz = np.where(known, (p - y) * scale, 0.0)
    # Positive group rows: loss -log(1 - exp(-S)), S = sum of softplus(z) over the group.
    grouped = data.grouped[rows]
    if grouped.any():
        member = data.group[rows] & grouped[:, None]
        softplus = np.logaddexp(0.0, np.clip(z, -30, 30))
        total = np.where(member, softplus, 0.0).sum(axis=1, keepdims=True)
        d_total = -1.0 / np.expm1(np.clip(total, 1e-6, 30))
        dz = np.where(member, d_total * p * settings.positive_weight, dz)
    dz = (dz * weight / len(rows)).astype(np.float32)
    g_w2 = hidden.T @ dz + settings.l2 * w2
    g_b2 = dz.sum(axis=0)
    d_hidden = (dz @ w2.T) * (pre > 0)
    g_w1 = x.T @ d_hidden + settings.l2 * w1
    g_b1 = d_hidden.sum(axis=0)
    return [g_w1, g_b1, g_w2, g_b2]


def out_of_fold(
    data: TrainingSet, folds: np.ndarray, settings: Settings = Settings()
) -> np.ndarray:
    """Predictions for the rows with a fold number (>= 0), each from a model that did not see
    it; rows with fold -1 (the public sets) are always trained on."""
    out = np.full(data.targets.shape, np.nan, dtype=np.float32)
    for fold in sorted(set(folds.tolist()) - {-1}):
        params = fit(_subset(data, folds != fold), settings)
        rows = folds == fold
        out[rows] = predict(params, data.x[rows])
    return out


def _subset(data: TrainingSet, rows: np.ndarray) -> TrainingSet:
    return TrainingSet(
        x=data.x[rows],
        targets=data.targets[rows],
        known=data.known[rows],
        group=data.group[rows],
        grouped=data.grouped[rows],
        weight=data.weight[rows],
    )


@dataclass(frozen=True)
class Choice:
    threshold: float
    precision: float
    recall: float
    f1: float
    positives: int
    rule: str


def choose_threshold(
    scores: np.ndarray,
    gold: np.ndarray,
    recall_floor: float | None = None,
    fixed: float | None = None,
) -> Choice:
    """With a floor: the highest threshold keeping recall >= floor. Without: the best F1.
    With `fixed`: that threshold, measured."""
    positives = int(gold.sum())
    grid = np.round(np.arange(0.01, 0.96, 0.01), 2) if fixed is None else np.array([fixed])

    def measured(t: float, rule: str) -> Choice:
        pred = scores >= t
        tp = int((pred & gold).sum())
        fp = int((pred & ~gold).sum())
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / positives if positives else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return Choice(float(t), precision, recall, f1, positives, rule)

    if fixed is not None:
        return measured(fixed, "fixed")
    best: Choice | None = None
    for t in grid:
        if recall_floor is not None:
            choice = measured(t, f"recall >= {recall_floor}")
            if choice.recall >= recall_floor:
                best = choice
        else:
            choice = measured(t, "best F1")
            if best is None or choice.f1 > best.f1:
                best = choice
    return best if best is not None else measured(float(grid[0]), "floor not reachable: lowest")


def choose_risk_thresholds(
    scores: np.ndarray, gold: np.ndarray, floor: float, step: float = 0.01
) -> tuple[np.ndarray, np.ndarray]:
    """Thresholds for the risk heads (columns of `scores`), chosen together.

    What pages the safeguarding lead is *any* risk finding, so a subtype's recall is the share
    of its messages flagged as risk at all: a grooming message read as "child at risk" rather
    than "abuse" still reaches the lead. Every subtype must keep that recall >= `floor`; within
    that, thresholds rise from the bottom one step at a time, each step taken by the head whose
    rise removes the most false alarms (ties: the lowest threshold, so heads rise together),
    until no head can rise without a subtype losing recall. Returns thresholds and recalls.
    """
    k = scores.shape[1]
    any_gold = gold.any(axis=1)
    thresholds = np.full(k, step)

    def recalls(t: np.ndarray) -> np.ndarray:
        flagged = (scores >= t).any(axis=1)
        return np.array([flagged[gold[:, j]].mean() if gold[:, j].any() else 1.0 for j in range(k)])

    def false_alarms(t: np.ndarray) -> int:
        return int(((scores >= t).any(axis=1) & ~any_gold).sum())

    if (recalls(thresholds) < floor).any():
        return thresholds, recalls(thresholds)  # not reachable at all: the lowest
    while True:
        best: tuple[int, float, int] | None = None
        for j in range(k):
            if thresholds[j] + step > 0.95:
                continue
            trial = thresholds.copy()
            trial[j] = round(trial[j] + step, 4)
            if (recalls(trial) < floor).any():
                continue
            key = (false_alarms(trial), float(thresholds[j]), j)
            if best is None or key < best:
                best = key
        if best is None:
            return thresholds, recalls(thresholds)
        thresholds[best[2]] = round(thresholds[best[2]] + step, 4)
