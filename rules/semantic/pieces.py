"""How a message becomes the rows the heads read: the same in training and at run time.

A message is cut into chunks of whole sentences (chunks.py); each is prepared (prepare.py) and
embedded. A message of one chunk is one row. A longer one gets a row per chunk, so a buried
disclosure is judged on its own, plus a row for the whole (the mean of its chunks' embeddings
and the words of all of them), which is what training labels describe.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .chunks import chunk_spans
from .prepare import prepare


def pieces(text: str, max_chunks: int) -> tuple[list[tuple[int, int]], list[str]]:
    """The chunks' spans and their prepared texts (no chunks for text without words)."""
    spans = chunk_spans(text, max_chunks)
    return spans, [prepare(text[s:e]) for s, e in spans]


def with_whole(vectors: np.ndarray, texts: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """The chunks' rows, plus the whole message's when there is more than one chunk."""
    if len(texts) < 2:
        return vectors, list(texts)
    whole = vectors.mean(axis=0)
    whole = whole / max(float(np.linalg.norm(whole)), 1e-9) * float(np.linalg.norm(vectors[0]))
    return np.vstack([vectors, whole[None, :]]), [*texts, " ".join(texts)]
