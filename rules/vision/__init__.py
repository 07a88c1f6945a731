"""Looking at a picture: people, faces, text, screenshots and documents; bytes in, findings out.

Pure like the rest of rules/: no database, network, clock or environment. The models are files
inside installed packages (OpenCV's cascades and HOG detector, RapidOCR's ONNX models), loaded
on first use; nothing is downloaded. Needs the `photos` extra: without it `available()` is
False and `analyse_image` raises VisionUnavailable.
"""

from __future__ import annotations

from .analysis import PhotoAnalysis, PhotoContext, analyse_image, people_words
from .hashing import hash_distance, perceptual_hash
from .installed import VisionUnavailable, available
from .picture import MAX_PIXELS, ImageRefused, Picture, read_picture

__all__ = [
    "MAX_PIXELS",
    "ImageRefused",
    "PhotoAnalysis",
    "PhotoContext",
    "Picture",
    "VisionUnavailable",
    "analyse_image",
    "available",
    "hash_distance",
    "people_words",
    "perceptual_hash",
    "read_picture",
]
