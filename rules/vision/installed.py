"""Whether the `photos` extra is installed, without importing any of it."""

from __future__ import annotations

from importlib.util import find_spec

# The packages of the `photos` extra (pyproject.toml); without them Haven says photos are
# not looked at, and judges them by the words around them as before.
NEEDS = ("cv2", "numpy", "PIL", "imagehash", "rapidocr_onnxruntime")


class VisionUnavailable(RuntimeError):
    """The `photos` extra is not installed: pictures are not looked at."""


def available() -> bool:
    """True when the packages that look at pictures are installed (nothing is imported)."""
    try:
        return all(find_spec(name) is not None for name in NEEDS)
    except (ImportError, ValueError):  # a module present but broken, or blocked
        return False


def require() -> None:
    if not available():
        raise VisionUnavailable("photos are not analysed: install Haven's `photos` extra")
