"""Is a picture a screenshot of a chat or a video call (policy 003), or a photo of a document?

Judged from what a screen or a page looks like, not from a model: a screen is drawn in a few
flat colours (a camera photo never is), a chat has lines of text on both sides with times and
a message box, a call has its buttons ("Mute", "Leave") and people in tiles; a document is
mostly pale paper covered with lines of text, with a letter's or form's words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .picture import flat_share
from .reading import Reading

if TYPE_CHECKING:
    import numpy as np

CHAT = "chat"
CALL = "video call"

FLAT_SHARE = 0.45  # of pixels in the 4 commonest colours: a screen, not a camera
PAPER_SHARE = 0.5  # of pixels pale enough to be paper
DOCUMENT_LINES = 6
_TIME = re.compile(r"\b(?:[01]?\d|2[0-3])[:.][0-5]\d\b")
# Words a chat app draws round the messages (not words people write in them).
_CHAT_WORDS = re.compile(
    r"\b(?:type a message|message\.\.\.|online|last seen|typing\.\.\.|delivered|"
    r"whatsapp|messenger|imessage|text message|read \d{1,2}[:.]\d{2})",
    re.IGNORECASE,
)
# A video call's buttons and labels.
_CALL_WORDS = re.compile(
    r"\b(?:mute|unmute|leave|end call|participants|share screen|stop share|recording|"
    r"raise hand|reactions|start video|stop video|gallery view|speaker view|zoom|teams)\b",
    re.IGNORECASE,
)
_DOCUMENT_WORDS = re.compile(
    r"\b(?:dear|yours sincerely|yours faithfully|kind regards|date of birth|d\.o\.b|dob|"
    r"our ref|your ref|reference|re:|report|assessment|referral|appointment|signed|signature|"
    r"nhs number|case number|court|hearing|council|social worker|care plan|school report|"
    r"address|postcode|form|name:)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Layout:
    screenshot: str | None  # CHAT, CALL or None
    document: bool


def judge_layout(rgb: np.ndarray, reading: Reading, faces: int) -> Layout:
    """What kind of picture this is, from its colours, its text and where the text sits."""
    flat = flat_share(rgb)
    text = reading.text
    lines = len(reading.lines)
    call_words = len({m.group(0).lower() for m in _CALL_WORDS.finditer(text)})
    screenshot = None
    if flat >= FLAT_SHARE or call_words >= 3:
        if call_words >= 3 or (call_words >= 1 and faces >= 2):
            screenshot = CALL
        elif lines >= 3 and _looks_like_chat(rgb.shape[1], reading):
            screenshot = CHAT
    document = False
    if screenshot is None and lines >= 3:
        words = len({m.group(0).lower() for m in _DOCUMENT_WORDS.finditer(text)})
        paper = _paper_share(rgb)
        document = paper >= PAPER_SHARE and (
            lines >= DOCUMENT_LINES and _left_aligned(reading) or words >= 2
        )
    return Layout(screenshot=screenshot, document=document)


def _looks_like_chat(width: int, reading: Reading) -> bool:
    """Two of: times, a chat app's own words, lines on both sides (their bubbles and ours)."""
    times = len(_TIME.findall(reading.text)) >= 2
    words = _CHAT_WORDS.search(reading.text) is not None
    left = sum(1 for ln in reading.lines if ln.box[0] < width * 0.2)
    right = sum(
        1 for ln in reading.lines if ln.box[0] > width * 0.3 and ln.box[0] + ln.box[2] > width * 0.8
    )
    return times + words + (left >= 2 and right >= 2) >= 2


def _left_aligned(reading: Reading) -> bool:
    """Most lines start at the same margin, as a page of writing does."""
    starts = sorted(ln.box[0] for ln in reading.lines)
    margin = starts[len(starts) // 4]
    tolerance = max(12, int(0.03 * max(ln.box[0] + ln.box[2] for ln in reading.lines)))
    return sum(1 for s in starts if abs(s - margin) <= tolerance) >= len(starts) // 2


def _paper_share(rgb: np.ndarray) -> float:
    """The share of pixels pale and nearly grey: paper, even under a lamp."""
    import numpy as np

    small = rgb[:: max(1, rgb.shape[0] // 300), :: max(1, rgb.shape[1] // 300)].astype(np.int16)
    pale = small.min(axis=2) >= 170
    grey = (small.max(axis=2) - small.min(axis=2)) <= 40
    return float((pale & grey).mean())
