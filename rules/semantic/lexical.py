"""Words and word pairs as features, hashed: what the sentence embedding averages away.

A sentence embedding says what a message is about; it blurs the one word that turns it ("lol",
"😂" read as "face with tears of joy", "walk", "awareness", "last year"). Hashed counts of the
prepared text's words and adjacent pairs, with signs so collisions cancel on average, give the
heads those words back. Fixed size, no vocabulary to ship, the same in training and at run time.
"""

from __future__ import annotations

import re
import zlib

import numpy as np

DIMENSIONS = 4096
_WORD = re.compile(r"[a-z0-9']+|\([a-z ]+\)")


def lexical(texts: list[str], dims: int = DIMENSIONS) -> np.ndarray:
    """(len(texts), dims) rows of signed hashed word and pair counts, unit length."""
    out = np.zeros((len(texts), dims), dtype=np.float32)
    if not dims:
        return out
    for row, text in enumerate(texts):
        words = _WORD.findall(text)
        grams = words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]
        for gram in grams:
            h = zlib.crc32(gram.encode())
            out[row, h % dims] += 1.0 if (h >> 16) & 1 else -1.0
        norm = float(np.linalg.norm(out[row]))
        if norm:
            out[row] /= norm
    return out
