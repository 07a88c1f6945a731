"""Real pictures for the photo tests: a photograph with a person in it that ships inside
scikit-image (its `astronaut.png`), and pictures with nobody in them drawn with Pillow."""

from __future__ import annotations

import io
from importlib.resources import files

import pytest

pytest.importorskip("imagehash", reason="Haven's `photos` extra is not installed")
pytest.importorskip("skimage", reason="scikit-image (sample photographs) is not installed")

from PIL import Image, ImageDraw  # noqa: E402


def astronaut() -> Image.Image:
    """A portrait photograph: one person, face to the camera (scikit-image's sample data)."""
    raw = (files("skimage.data") / "astronaut.png").read_bytes()
    return Image.open(io.BytesIO(raw)).convert("RGB")


def people(count: int = 2) -> Image.Image:
    """`count` portraits side by side: a group photo."""
    one = astronaut()
    group = Image.new("RGB", (one.width * count, one.height))
    for index in range(count):
        group.paste(one, (index * one.width, 0))
    return group


def landscape(seed: int = 0) -> Image.Image:
    """Sky, hills and a sun: a picture with nobody in it (seed moves things about)."""
    image = Image.new("RGB", (800, 600), (135, 190, 235))
    draw = ImageDraw.Draw(image)
    draw.polygon([(0, 420), (260 + seed * 40, 260), (560, 430), (800, 300), (800, 600), (0, 600)],
                 fill=(70, 140, 60))  # fmt: skip
    draw.ellipse((600 - seed * 60, 60, 700 - seed * 60, 160), fill=(250, 220, 90))
    draw.rectangle((80, 470, 200, 560), fill=(150, 90, 60))
    return image


def jpeg(image: Image.Image, *, quality: int = 90, scale: float = 1.0) -> bytes:
    """The picture as a JPEG, optionally resized: what Facebook does to a photo on upload."""
    if scale != 1.0:
        image = image.resize((int(image.width * scale), int(image.height * scale)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()
