"""What every detector is given besides the text (detectors.py, names.py), and what it returns."""

from __future__ import annotations

from dataclasses import dataclass

Hit = tuple[int, int, float]  # (start, end, confidence) in the text a detector was given


@dataclass(frozen=True)
class DetectorContext:
    region: str
    allowed_phones: frozenset[str]  # E.164
    allowed_emails: frozenset[str]
    allowed_domains: frozenset[str]
