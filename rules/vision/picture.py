"""Opening a picture from bytes: the pixels (upright, RGB) and what only the file carries (EXIF).

Bounded before decoding: a file over MAX_PIXELS is refused from its header alone, so a small
file that would unpack to gigabytes (a "decompression bomb") never does.
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

MAX_PIXELS = 40_000_000  # a 40-megapixel camera; more is refused before decoding
# Pictures are looked at no larger than this (faces at 800, text at 1600): a phone's 12
# megapixels are decoded at a half or a quarter (JPEG's own reduced decoding), then shrunk.
LOOK_SIDE = 1600
_GPS_IFD = 0x8825
_EXIF_IFD = 0x8769
_DATE_ORIGINAL, _DATE_DIGITISED, _DATE_CHANGED, _OFFSET_ORIGINAL = 36867, 36868, 306, 36881
_EXIF_DATE = re.compile(r"^(\d{4}):(\d{2}):(\d{2}) (\d{2}):(\d{2}):(\d{2})")
_OFFSET = re.compile(r"^[+-]\d{2}:\d{2}$")


class ImageRefused(ValueError):
    """The bytes are not a picture Haven will look at (not an image, or too many pixels)."""


@dataclass(frozen=True)
class Picture:
    rgb: np.ndarray  # height x width x 3, uint8, upright, at most LOOK_SIDE a side
    gps: tuple[float, float] | None  # (latitude, longitude) in degrees, from EXIF
    taken_at: str | None  # "2026-12-07 10:30:00" (with "+01:00" when the camera said)
    scale: float = 1.0  # the original's pixels per pixel of `rgb`

    @property
    def width(self) -> int:
        """The original's width, upright."""
        return int(round(self.rgb.shape[1] * self.scale))

    @property
    def height(self) -> int:
        return int(round(self.rgb.shape[0] * self.scale))


def open_image(
    data: bytes, *, max_pixels: int = MAX_PIXELS, side: int | None = None
) -> Image.Image:
    """A Pillow image, upright and RGB (no larger than `side` a side when given); ImageRefused
    when it is not one or is too large."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        width, height = image.size
        if width * height > max_pixels:
            raise ImageRefused(f"the picture is too large ({width} x {height} pixels)")
        if side is not None and max(width, height) > side:
            # JPEG decodes at 1/2, 1/4 or 1/8 when that is still at least the size wanted.
            fit = side / float(max(width, height))
            image.draft("RGB", (int(width * fit), int(height * fit)))
        image.load()
    except ImageRefused:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise ImageRefused("this is not a picture Haven can read") from exc
    upright = (ImageOps.exif_transpose(image) or image).convert("RGB")
    if side is not None and max(upright.size) > side:
        upright.thumbnail((side, side))
    return upright


def read_picture(data: bytes, *, max_pixels: int = MAX_PIXELS) -> Picture:
    """The pixels and the EXIF position and time of a picture given as bytes."""
    import numpy as np
    from PIL import Image

    image = open_image(data, max_pixels=max_pixels, side=LOOK_SIDE)
    with Image.open(io.BytesIO(data)) as original:
        exif = original.getexif()
        scale = max(original.size) / float(max(image.size))
    return Picture(rgb=np.asarray(image), gps=_gps(exif), taken_at=_taken_at(exif), scale=scale)


def _gps(exif: Any) -> tuple[float, float] | None:
    try:
        gps = exif.get_ifd(_GPS_IFD)
    except (KeyError, ValueError, TypeError):
        return None
    lat = _degrees(gps.get(2), gps.get(1), "S")
    lon = _degrees(gps.get(4), gps.get(3), "W")
    if lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180:
        return None
    return (round(lat, 6), round(lon, 6))


def _degrees(value: Any, ref: Any, negative: str) -> float | None:
    """Degrees, minutes, seconds (EXIF rationals) as signed decimal degrees."""
    try:
        d, m, s = (float(part) for part in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    total = d + m / 60 + s / 3600
    if not math.isfinite(total):
        return None
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "replace")
    return -total if str(ref or "").strip().upper() == negative else total


def _taken_at(exif: Any) -> str | None:
    try:
        inner = exif.get_ifd(_EXIF_IFD)
    except (KeyError, ValueError, TypeError):
        inner = {}
    raw = inner.get(_DATE_ORIGINAL) or inner.get(_DATE_DIGITISED) or exif.get(_DATE_CHANGED)
    match = _EXIF_DATE.match(str(raw or "").strip())
    if match is None:
        return None
    y, mo, d, h, mi, s = match.groups()
    when = f"{y}-{mo}-{d} {h}:{mi}:{s}"
    offset = str(inner.get(_OFFSET_ORIGINAL) or "").strip()
    return when + offset if _OFFSET.match(offset) else when


def flat_share(rgb: np.ndarray) -> float:
    """The share of pixels in the 4 commonest colours (to 5 bits a channel, for JPEG's sake):
    near 1 for something drawn on a screen, well under half for a camera's photo."""
    import numpy as np

    if rgb.size == 0:
        return 0.0
    small = rgb[:: max(1, rgb.shape[0] // 300), :: max(1, rgb.shape[1] // 300)]
    q = (small >> 3).astype(np.int32)
    codes = (q[..., 0] << 10) | (q[..., 1] << 5) | q[..., 2]
    counts = np.bincount(codes.ravel(), minlength=1 << 15)
    return float(np.sort(counts)[-4:].sum()) / float(codes.size)
