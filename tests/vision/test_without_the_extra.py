"""Without the `photos` extra Haven still runs: pictures are "not analysed", and says so."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# A Python in which OpenCV cannot be imported, as on an installation without the extra.
WITHOUT_OPENCV = """
import sys
sys.modules["cv2"] = None
from rules import load_ruleset
from rules.vision import VisionUnavailable, analyse_image, available, perceptual_hash
from bot.web.dashboard.check_photo import check_photo

assert available() is False
for call in (lambda: analyse_image(b"x"), lambda: perceptual_hash(b"x")):
    try:
        call()
    except VisionUnavailable as exc:
        print("refused:", exc)
shown = check_photo(b"x", ruleset=load_ruleset(), checks=frozenset({"photo"}), caption="",
                    channel="fb_post", platform="facebook")
print("analysed:", shown.analysed)
"""


def test_without_opencv_pictures_are_refused_in_words_and_check_a_post_says_so() -> None:
    run = subprocess.run(
        [sys.executable, "-c", WITHOUT_OPENCV],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines.count("refused: photos are not analysed: install Haven's `photos` extra") == 2
    assert lines[-1] == "analysed: False"
