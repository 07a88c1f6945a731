"""Pictures for the photo tests: sample photographs from scikit-image's own data (people in
them), and pictures drawn here with Pillow (text, a chat screenshot, a letter, EXIF written in).
"""

from __future__ import annotations

import io
from importlib.resources import files
from pathlib import Path

import pytest

pytest.importorskip("cv2", reason="the `photos` extra is not installed (opencv-python)")
pytest.importorskip("rapidocr_onnxruntime", reason="the `photos` extra is not installed")
pytest.importorskip("imagehash", reason="the `photos` extra is not installed (imagehash)")
pytest.importorskip("skimage", reason="scikit-image (the dev extra's sample photos) is missing")

from PIL import Image, ImageDraw, ImageFont  # noqa: E402

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
PHONE_WIDTH, PHONE_HEIGHT = 720, 1400


def sample(name: str) -> Image.Image:
    """A photograph that ships inside scikit-image ("astronaut.png": one person, facing us)."""
    return Image.open(io.BytesIO((files("skimage.data") / name).read_bytes())).convert("RGB")


def encoded(image: Image.Image, kind: str = "PNG", **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, kind, **options)
    return out.getvalue()


def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Debian's DejaVu Sans when installed, else the font inside Pillow."""
    if DEJAVU.exists():
        return ImageFont.truetype(str(DEJAVU), size)
    return ImageFont.load_default(size=size)


def group_photo(people: int) -> Image.Image:
    """The astronaut's portrait side by side, `people` times: that many faces."""
    one = sample("astronaut.png")
    group = Image.new("RGB", (one.width * people, one.height))
    for i in range(people):
        group.paste(one, (i * one.width, 0))
    return group


def with_gps(
    image: Image.Image,
    lat: tuple[float, float, float],
    lon: tuple[float, float, float],
    *,
    north: bool = True,
    east: bool = False,
    taken: str = "2026:06:01 14:03:00",
) -> bytes:
    """A JPEG carrying its position and the time it was taken, as a phone's camera writes them."""
    exif = Image.Exif()
    exif[0x8825] = {1: "N" if north else "S", 2: lat, 3: "E" if east else "W", 4: lon}
    exif[0x8769] = {36867: taken}
    return encoded(image, "JPEG", exif=exif, quality=90)


def poster(lines: list[str], *, size: int = 40, width: int = 900) -> Image.Image:
    """Dark text on a coloured card, one line under another."""
    image = Image.new("RGB", (width, 90 + len(lines) * (size + 40)), (214, 232, 245))
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((40, 50 + i * (size + 40)), line, fill=(20, 25, 60), font=font(size))
    return image


def chat_screenshot() -> Image.Image:
    """A phone's chat: status bar, the other person's name, bubbles on both sides, times, and
    the message box, drawn in a chat app's few flat colours."""
    image = Image.new("RGB", (PHONE_WIDTH, PHONE_HEIGHT), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, PHONE_WIDTH, 70), fill=(240, 240, 240))
    draw.text((30, 18), "09:41", fill=(0, 0, 0), font=font(30))
    draw.text((560, 18), "87%", fill=(0, 0, 0), font=font(30))
    draw.rectangle((0, 70, PHONE_WIDTH, 170), fill=(0, 132, 255))
    draw.text((40, 100), "Sam Taylor", fill=(255, 255, 255), font=font(36))
    draw.text((420, 108), "online", fill=(255, 255, 255), font=font(28))
    messages = [
        ("left", "Are you coming to group tonight?", "18:02"),
        ("right", "Yes I will be there", "18:05"),
        ("left", "I told them about my son", "18:06"),
        ("right", "That took courage", "18:07"),
        ("left", "See you at seven", "18:09"),
    ]
    y = 220
    for side, text, time in messages:
        x0, colour, ink = (
            (30, (233, 233, 235), (0, 0, 0))
            if side == "left"
            else (250, (0, 132, 255), (255, 255, 255))
        )
        draw.rounded_rectangle((x0, y, x0 + 440, y + 130), radius=30, fill=colour)
        draw.text((x0 + 28, y + 24), text[:22], fill=ink, font=font(30))
        draw.text((x0 + 28, y + 72), time, fill=ink, font=font(26))
        y += 170
    draw.rectangle((0, PHONE_HEIGHT - 110, PHONE_WIDTH, PHONE_HEIGHT), fill=(240, 240, 240))
    draw.rounded_rectangle(
        (30, PHONE_HEIGHT - 90, 690, PHONE_HEIGHT - 25), radius=30, fill=(255, 255, 255)
    )
    draw.text((60, PHONE_HEIGHT - 78), "Type a message", fill=(140, 140, 140), font=font(32))
    return image


def letter_photo() -> Image.Image:
    """A typed letter on a sheet of paper, photographed on a wooden table under a lamp."""
    import numpy as np

    page = Image.new("RGB", (900, 1200), (246, 244, 238))
    draw = ImageDraw.Draw(page)
    lines = [
        "Suffolk County Council",
        "Children and Young People's Services",
        "Our ref: CYP/2291",
        "Dear Mrs Example,",
        "Re: assessment and care plan",
        "Further to the meeting on Tuesday,",
        "we write to confirm the next review",
        "will take place at the family centre.",
        "Please bring this letter with you.",
        "Yours sincerely,",
        "Family Support Team",
    ]
    for i, line in enumerate(lines):
        draw.text((80, 80 + i * 90), line, fill=(30, 30, 30), font=font(34))
    table = Image.new("RGB", (1100, 1400), (120, 82, 50))
    table.paste(page.rotate(1.5, expand=True, fillcolor=(120, 82, 50)), (90, 80))
    # Light falls off across the sheet, and the camera adds grain: no flat screen colours.
    shade = np.linspace(1.0, 0.9, table.width)[None, :, None]
    rng = np.random.default_rng(7)
    pixels = np.asarray(table).astype(np.float64) * shade + rng.normal(0, 3, (1400, 1100, 3))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def video_call() -> Image.Image:
    """A video call: four people in tiles on a dark window, the call's buttons along the bottom."""
    window = Image.new("RGB", (1280, 860), (32, 33, 36))
    face = sample("astronaut.png").resize((400, 300))
    for i in range(4):
        window.paste(face, (200 + (i % 2) * 450, 40 + (i // 2) * 330))
    draw = ImageDraw.Draw(window)
    draw.rectangle((0, 760, 1280, 860), fill=(24, 24, 24))
    for i, label in enumerate(["Mute", "Stop Video", "Participants", "Share Screen", "Leave"]):
        draw.text((60 + i * 240, 795), label, fill=(235, 235, 235), font=font(28))
    return window
