"""People in a picture: faces (frontal and in profile) and whole bodies, with OpenCV's own
classifiers (the Haar cascades and the HOG people detector ship inside opencv-python).

These are estimates. A face turned well away or hidden is missed, and a body is found only when
most of it is in view, so the count can be low; policy 002 ("even if the faces of the children
are not able to be seen") is why bodies count as people too.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from .picture import flat_share

if TYPE_CHECKING:
    import numpy as np

Box = tuple[int, int, int, int]  # x, y, width, height in the original picture's pixels

DETECT_SIDE = 800  # pictures are looked at no larger than this: faster, and enough for faces
FACE_NEIGHBOURS = 5  # how many overlapping detections make a face (fewer: more false faces)
BODY_CONFIDENCE = 1.0  # the HOG detector's SVM margin; below it, posts and trees count
DRAWN = 0.6  # flat_share at or over which a region is drawn, not photographed
_lock = threading.Lock()  # cascades are not safe to share between threads


@dataclass(frozen=True)
class People:
    faces: tuple[Box, ...]
    bodies: tuple[Box, ...]  # bodies whose face was not found (turned away, hidden, too small)
    largest_face_share: float  # the largest face's area over the picture's, 0..1

    @property
    def count(self) -> int:
        return len(self.faces) + len(self.bodies)

    def scaled(self, factor: float) -> People:
        """The same people, boxes in a picture `factor` times the size."""
        if factor == 1.0:
            return self
        return People(
            faces=tuple(scale_box(f, factor) for f in self.faces),
            bodies=tuple(scale_box(b, factor) for b in self.bodies),
            largest_face_share=self.largest_face_share,
        )


@cache
def _cascade(name: str) -> Any:
    import cv2

    # One thread, as onnxruntime's: workers are separate processes on small machines, and
    # OpenCV's default (every core) makes them fight each other.
    cv2.setNumThreads(1)
    classifier = cv2.CascadeClassifier(f"{cv2.data.haarcascades}haarcascade_{name}.xml")
    if classifier.empty():
        raise RuntimeError(f"OpenCV's {name} cascade is missing from the installed package")
    return classifier


@cache
def _body_detector() -> Any:
    import cv2

    hog = cv2.HOGDescriptor()
    hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
    return hog


def find_people(rgb: np.ndarray) -> People:
    """Faces and bodies in an RGB picture."""
    import cv2

    height, width = rgb.shape[:2]
    scale = min(1.0, DETECT_SIDE / max(height, width))
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    if scale < 1.0:
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    side = max(20, min(gray.shape) // 30)
    with _lock:
        # Cascades want even lighting; HOG reads gradients, which equalising only adds noise to.
        faces = _faces(cv2.equalizeHist(gray), side)
        bodies = _bodies(gray)
    back = 1.0 / scale
    # A body with a face in it is one person, not two; a "body" drawn in a few flat colours is
    # a screen's or a poster's shapes, not a person in front of a camera.
    bodies = [
        b
        for b in bodies
        if not any(_contains(b, _centre(f)) for f in faces)
        and flat_share(_crop(rgb, scale_box(b, back))) < DRAWN
    ]
    faces_out = tuple(scale_box(f, back) for f in faces)
    largest = max((w * h for _, _, w, h in faces_out), default=0)
    return People(
        faces=faces_out,
        bodies=tuple(scale_box(b, back) for b in bodies),
        largest_face_share=round(largest / float(width * height), 4),
    )


def _faces(gray: np.ndarray, side: int) -> list[Box]:
    import cv2

    found = [tuple(map(int, f)) for f in _detect(_cascade("frontalface_alt2"), gray, side)]
    found += [tuple(map(int, f)) for f in _detect(_cascade("profileface"), gray, side)]
    mirrored = cv2.flip(gray, 1)  # the profile cascade only knows faces looking one way
    full = gray.shape[1]
    found += [
        (full - int(x) - int(w), int(y), int(w), int(h))
        for x, y, w, h in _detect(_cascade("profileface"), mirrored, side)
    ]
    return _distinct(found)  # type: ignore[arg-type]


def _detect(cascade: Any, gray: np.ndarray, side: int) -> Any:
    return cascade.detectMultiScale(
        gray, scaleFactor=1.1, minNeighbors=FACE_NEIGHBOURS, minSize=(side, side)
    )


def _bodies(gray: np.ndarray) -> list[Box]:
    import numpy as np

    if gray.shape[0] < 128 or gray.shape[1] < 64:  # smaller than the detector's window
        return []
    rects, weights = _body_detector().detectMultiScale(
        gray, winStride=(8, 8), padding=(8, 8), scale=1.05
    )
    if len(rects) == 0:
        return []
    kept = [
        tuple(map(int, r))
        for r, w in zip(rects, np.asarray(weights).ravel(), strict=True)
        if w >= BODY_CONFIDENCE
    ]
    return _distinct(kept)  # type: ignore[arg-type]


def _distinct(boxes: list[Box]) -> list[Box]:
    """Drop a box mostly inside a larger one already kept (the same face found twice)."""
    kept: list[Box] = []
    for box in sorted(boxes, key=lambda b: b[2] * b[3], reverse=True):
        if not any(_overlap(box, k) > 0.5 for k in kept):
            kept.append(box)
    return sorted(kept)


def _overlap(small: Box, big: Box) -> float:
    x1, y1 = max(small[0], big[0]), max(small[1], big[1])
    x2 = min(small[0] + small[2], big[0] + big[2])
    y2 = min(small[1] + small[3], big[1] + big[3])
    inter = max(0, x2 - x1) * max(0, y2 - y1)
    return inter / float(small[2] * small[3] or 1)


def _centre(box: Box) -> tuple[float, float]:
    return (box[0] + box[2] / 2, box[1] + box[3] / 2)


def _contains(box: Box, point: tuple[float, float]) -> bool:
    return box[0] <= point[0] <= box[0] + box[2] and box[1] <= point[1] <= box[1] + box[3]


def _crop(rgb: np.ndarray, box: Box) -> np.ndarray:
    x, y, w, h = box
    return rgb[max(0, y) : y + h, max(0, x) : x + w]


def scale_box(box: Box, factor: float) -> Box:
    """A box in a picture `factor` times the size."""
    return tuple(int(round(v * factor)) for v in box)  # type: ignore[return-value]
