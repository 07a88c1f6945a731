"""The one door from the photo domain to the picture analysis (the pure `rules.vision`).

Everything the worker and the register need of it, under names that say what they are for, so
the rest of bot/photos does not depend on how `rules.vision` lays itself out.
"""

from __future__ import annotations

from rules import RuleSet
from rules.vision import (
    PhotoAnalysis,
    PhotoContext,
    analyse_image,
    available,
    hash_distance,
    perceptual_hash,
)

__all__ = ["PhotoAnalysis", "PhotoContext", "analyse", "can_look", "distance", "photo_hash"]


def can_look() -> bool:
    """True when this installation can look at pictures (the `photos` extra is installed)."""
    return available()


def analyse(
    data: bytes, ruleset: RuleSet, context: PhotoContext, *, max_pixels: int
) -> PhotoAnalysis:
    """People, faces, text run through the rules, screenshot, document: findings with words."""
    return analyse_image(data, ruleset=ruleset, context=context, max_pixels=max_pixels)


def photo_hash(data: bytes, *, max_pixels: int) -> str:
    """The photo's 64-bit perceptual hash (16 hex digits): the same after re-encode or resize."""
    return perceptual_hash(data, max_pixels=max_pixels)


def distance(a: str, b: str) -> int:
    """How many bits two perceptual hashes differ by."""
    return hash_distance(a, b)
