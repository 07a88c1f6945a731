"""The photo half of "check a post": what Haven sees in a picture before it is posted.

The upload is read into memory, looked at (rules/vision) and dropped: nothing is written to
the database, the audit log or the logs. What only the original file carries is shown too:
the place and time it was taken (EXIF), which Meta may strip but a volunteer's draft still has.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.post_check import spans_of
from bot.web.dashboard.base import Segment, highlight
from rules import RuleSet
from rules.model import top_of
from rules.vision import ImageRefused, PhotoContext, analyse_image, available
from rules.vision.analysis import GPS_REASON

MAX_PHOTO_BYTES = 15 * 1024 * 1024  # a phone's full-size photo, with room to spare


@dataclass(frozen=True)
class PhotoFlag:
    category: str
    severity: str
    reason: str
    words: list[str]


@dataclass(frozen=True)
class PhotoCheck:
    analysed: bool  # False: the `photos` extra is not installed
    refused: str | None = None  # why the file could not be looked at
    flags: list[PhotoFlag] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    text: list[Segment] = field(default_factory=list)  # what was read in it, matches marked
    gps: tuple[float, float] | None = None
    taken_at: str | None = None


def check_photo(
    data: bytes,
    *,
    ruleset: RuleSet,
    checks: frozenset[str],
    caption: str,
    channel: str,
    platform: str,
    no_family_photos: bool = False,
) -> PhotoCheck:
    """The findings of the `checks` tops (pii, photo) a page post's photo would raise, and
    what its file gives away."""
    if not available():
        return PhotoCheck(analysed=False)
    # A page that never posts about its families (policy 002): any person pictured counts.
    context = PhotoContext(
        channel=channel,
        platform=platform,
        from_page=True,
        caption=caption,
        no_family_photos=no_family_photos,
    )
    try:
        result = analyse_image(data, ruleset=ruleset, context=context)
    except ImageRefused as exc:
        return PhotoCheck(analysed=True, refused=str(exc))
    findings = [f for f in result.findings if top_of(f.category) in checks]
    spans = [s for f in findings for s in spans_of(f)]
    flags = [
        PhotoFlag(
            f.category,
            f.severity,
            f.reason or "",
            [result.text[s:e] for s, e in spans_of(f)],
        )
        for f in findings
    ]
    return PhotoCheck(
        analysed=True,
        flags=flags,
        reasons=[r for r in result.reasons if r != GPS_REASON],  # said on its own, at the top
        text=highlight(result.text, spans),
        gps=result.exif_gps,
        taken_at=result.taken_at,
    )
