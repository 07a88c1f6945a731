"""Perceptual hashes: the same photo, re-encoded or resized, gets (nearly) the same 64 bits.

The consent register keeps this hash, never the photo. pHash (a DCT of a 32 x 32 greyscale
thumbnail) is imagehash's; the distance is plain bit counting, so comparing stored hashes
needs no extra installed.
"""

from __future__ import annotations

import re

from .installed import require
from .picture import MAX_PIXELS, open_image

HASH_SIDE = 512
_HEX64 = re.compile(r"^[0-9a-f]{16}$")


def perceptual_hash(data: bytes, *, max_pixels: int = MAX_PIXELS) -> str:
    """The 64-bit pHash of a picture, as 16 lower-case hex digits."""
    require()
    import imagehash

    # pHash looks at 32 x 32 pixels: decoding a phone photo at full size would only cost time.
    image = open_image(data, max_pixels=max_pixels, side=HASH_SIDE)
    return str(imagehash.phash(image, hash_size=8))


def hash_distance(a: str, b: str) -> int:
    """How many of the 64 bits differ (0: the same picture; over ~10: a different one)."""
    left, right = a.strip().lower(), b.strip().lower()
    if not (_HEX64.match(left) and _HEX64.match(right)):
        raise ValueError("a perceptual hash is 16 hex digits")
    return (int(left, 16) ^ int(right, 16)).bit_count()
