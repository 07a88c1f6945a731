"""Text in a picture, by OCR: RapidOCR's PP-OCR models (ONNX files inside the
rapidocr-onnxruntime wheel, read from the package's own folder; nothing is downloaded).

The models load on first use and are kept for the life of the process (about a second to
load). One thread each: workers are separate processes on small machines.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from .people import Box, scale_box

if TYPE_CHECKING:
    import numpy as np

# The recogniser often drops the space between a word and a long number ("Call07700900123");
# put it back so the phone and ID detectors see the number (short runs stay: "IP1", "Year6").
_GLUED_NUMBER = re.compile(r"(?<=[^\W\d_])(?=\d{5})")
MIN_CONFIDENCE = 0.6  # the recogniser's own score for a line; lower reads are mostly noise
READ_SIDE = 1600  # larger pictures are read at this size: text stays legible, time bounded
DETECT_SIDE = 1024  # where the lines are is found at this size
SMALL_SIDE = 736  # a picture whose short side is smaller is enlarged towards this
_lock = threading.Lock()
_engine: Any = None


@dataclass(frozen=True)
class TextLine:
    text: str
    box: Box  # where the line is, in the original picture's pixels
    confidence: float


@dataclass(frozen=True)
class Reading:
    """The lines, top to bottom, joined by newlines into `text`; `starts[i]` is where line i
    begins in `text`, so a rule's span can be traced back to the line (and box) it came from."""

    lines: tuple[TextLine, ...]
    text: str
    starts: tuple[int, ...]

    def scaled(self, factor: float) -> Reading:
        """The same lines, boxes in a picture `factor` times the size."""
        if factor == 1.0:
            return self
        lines = tuple(replace(ln, box=scale_box(ln.box, factor)) for ln in self.lines)
        return Reading(lines, self.text, self.starts)

    def boxes_of(self, span: tuple[int, int]) -> tuple[Box, ...]:
        """The boxes of the lines a span of `text` touches."""
        start, end = span
        found = []
        for line, first in zip(self.lines, self.starts, strict=True):
            if first < end and start < first + len(line.text):
                found.append(line.box)
        return tuple(found)


def _ocr() -> Any:
    global _engine
    if _engine is None:
        from rapidocr_onnxruntime import RapidOCR

        threads = {
            f"{part}_{kind}_op_num_threads": 1
            for part in ("det", "cls", "rec")
            for kind in ("intra", "inter")
        }
        # The detector finds lines on a copy at most DETECT_SIDE wide or tall (RapidOCR's own
        # default instead scales the SHORT side up to 736, so a photo is searched at full
        # size: four times the time and over 900 MB); lines are then read from the full picture.
        _engine = RapidOCR(det_limit_type="max", det_limit_side_len=DETECT_SIDE, **threads)
    return _engine


def read_text(rgb: np.ndarray) -> Reading:
    """Every line of text Haven can read in an RGB picture."""
    import cv2

    height, width = rgb.shape[:2]
    # A small picture is enlarged (up to READ_SIDE) before reading: the recogniser reads
    # letters better, and keeps the spaces between words, when they are not tiny.
    scale = min(READ_SIDE / max(height, width), max(1.0, SMALL_SIDE / min(height, width)))
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    if scale != 1.0:
        how = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_CUBIC
        bgr = cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=how)
    with _lock:  # one recogniser per process, and it keeps per-call state
        result, _ = _ocr()(bgr)
    lines = []
    for points, text, score in result or ():
        text = _GLUED_NUMBER.sub(" ", " ".join(str(text).split()))
        if not text or float(score) < MIN_CONFIDENCE:
            continue
        xs = [p[0] / scale for p in points]
        ys = [p[1] / scale for p in points]
        x, y = int(min(xs)), int(min(ys))
        box = (x, y, int(max(xs)) - x, int(max(ys)) - y)
        lines.append(TextLine(text, box, round(float(score), 3)))
    return _in_reading_order(lines)


def _in_reading_order(lines: list[TextLine]) -> Reading:
    """Rows top to bottom, pieces of a row left to right: pieces on one row are joined by a
    space (the recogniser may split "Oakfield Primary | School"), rows by a newline."""
    rows: list[list[TextLine]] = []
    for line in sorted(lines, key=lambda ln: ln.box[1]):
        middle = line.box[1] + line.box[3] / 2
        row = rows[-1] if rows else None
        if row is not None and row[0].box[1] <= middle <= row[0].box[1] + row[0].box[3]:
            row.append(line)
        else:
            rows.append([line])
    ordered, starts, parts, offset = [], [], [], 0
    for row in rows:
        row.sort(key=lambda ln: ln.box[0])
        for i, line in enumerate(row):
            if i:
                parts.append(" ")
                offset += 1
            ordered.append(line)
            starts.append(offset)
            parts.append(line.text)
            offset += len(line.text)
        parts.append("\n")
        offset += 1
    return Reading(tuple(ordered), "".join(parts).rstrip("\n"), tuple(starts))
