"""Split a message into short chunks of whole sentences, with their offsets.

A sentence model reads at most 256 word pieces and averages everything it reads. The learned
stage embeds a long post chunk by chunk (pieces.py) so nothing is cut off, judges the whole from
its chunks, and points the moderator at the chunk that scores highest on its own.
"""

from __future__ import annotations

import re

_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|\n+|$)")
MAX_WORDS = 40


def chunk_spans(text: str, max_chunks: int, max_words: int = MAX_WORDS) -> list[tuple[int, int]]:
    """Offsets of up to `max_chunks` chunks; short text is one chunk, empty text none."""
    sentences = [
        (m.start(), m.end()) for m in _SENTENCE.finditer(text) if m.group(0).strip(" \n\t.!?")
    ]
    chunks: list[tuple[int, int]] = []
    start = end = words = 0
    for s, e in sentences:
        n = len(text[s:e].split())
        if chunks or words:
            if words + n > max_words:
                chunks.append((start, end))
                start, words = s, 0
        else:
            start = s
        end, words = e, words + n
        if len(chunks) >= max_chunks:
            break
    if words and len(chunks) < max_chunks:
        chunks.append((start, end))
    return [_trim(text, s, e) for s, e in chunks]


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
