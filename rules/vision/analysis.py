"""What is in a picture, and the findings it raises: bytes in, PhotoAnalysis out.

The words on the findings are a volunteer's ("3 people, faces visible", "text in the image
names a school"); what each finding does (hide, reply, alert) is the category's, from the rule
packs and config.yaml, as for a finding in words.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace

from ..engine import RuleSet
from ..loader import load_ruleset
from ..model import PRIVATE_CHANNELS, SEVERITY_RANK, Actions, Attachment, Finding, Message
from .installed import require
from .layout import CALL, Layout, judge_layout
from .people import People, find_people
from .picture import MAX_PIXELS, read_picture
from .reading import Reading, read_text

# The reason given when the file says where it was taken (check-a-post shows it on its own).
GPS_REASON = "the file carries the place it was taken"
# A face smaller than this share of the picture (a crowd far off) is not a portrait of anyone;
# a page that allows no family photos at all has every person flagged, however small.
PROMINENT_FACE = 0.002
# Pictures whose pixels were looked at lately, kept by their bytes' digest (see `_seen`).
SEEN_KEPT = 8
TEXT_RULE = "picture-text:"  # prefix of a finding's rule when the rule matched text in a picture
PEOPLE_RULE, SCREENSHOT_RULE, DOCUMENT_RULE = (
    "picture-people",
    "picture-screenshot",
    "picture-document",
)
_TEXT_WORDS = {
    "pii.phone": "shows a phone number",
    "pii.email": "shows an email address",
    "pii.postcode": "shows a postcode",
    "pii.address": "shows an address",
    "pii.school": "names a school",
    "pii.council": "names a council",
    "pii.person_name": "names someone",
    "pii.child_name": "names a child",
    "pii.location": "names a place",
    "pii.meeting_link": "shows a meeting link",
    "pii.id_number": "shows an ID number",
    "risk": "reads as someone at risk",
    "help_request": "asks for help",
    "out_of_remit": "asks a legal or medical question",
    "abusive": "has abusive words",
    "unsafe_practice": "gives unsafe advice",
    "spam": "looks like spam",
    "complaint": "reads as a complaint",
}


@dataclass(frozen=True)
class PhotoContext:
    """Where a picture was posted, and what the page's settings say about pictures."""

    channel: str = "fb_comment"
    platform: str = "facebook"
    from_page: bool = False
    author_id: str | None = None
    caption: str = ""  # the words posted with it: they say whether the people are children
    no_family_photos: bool = False  # the page allows no photos of people at all


@dataclass(frozen=True)
class PhotoAnalysis:
    people: int
    faces: int
    largest_face_share: float  # the largest face's area over the picture's
    text: str  # what OCR read, line by line; findings' spans point into it
    is_screenshot: bool
    is_document: bool
    exif_gps: tuple[float, float] | None
    taken_at: str | None
    findings: list[Finding]
    reasons: list[str]
    screenshot_of: str | None = None  # "chat" or "video call"
    width: int = 0
    height: int = 0
    people_boxes: tuple[tuple[int, int, int, int], ...] = field(default=())


def analyse_image(
    data: bytes,
    *,
    ruleset: RuleSet | None = None,
    context: PhotoContext | None = None,
    max_pixels: int = MAX_PIXELS,
) -> PhotoAnalysis:
    """Look at a picture: people, faces, text (run through the rules), screenshot, document.

    Raises VisionUnavailable without the `photos` extra, ImageRefused (a ValueError) for bytes
    that are not a picture or one over `max_pixels`.
    """
    require()
    ruleset = ruleset if ruleset is not None else load_ruleset()
    context = context or PhotoContext()
    seen = _seen(data, max_pixels)
    people, layout, reading = seen.people, seen.layout, seen.reading
    whole = ((0, 0, seen.width, seen.height),)

    findings: list[Finding] = []
    people_finding = _people_finding(ruleset, context, people)
    if people_finding is not None:
        findings.append(people_finding)
    if layout.screenshot is not None:
        what = "a video call" if layout.screenshot == CALL else "a chat"
        findings.append(
            _finding(
                ruleset,
                context,
                "photo.screenshot",
                SCREENSHOT_RULE,
                0.8,
                whole,
                f"a screenshot of {what}",
            )
        )
    if layout.document:
        findings.append(
            _finding(
                ruleset,
                context,
                "photo.document",
                DOCUMENT_RULE,
                0.7,
                whole,
                "a photo of a letter, report or form",
            )
        )
    findings += _text_findings(ruleset, context, reading)
    findings.sort(key=lambda f: -SEVERITY_RANK[f.severity])
    # A finding that does nothing (the weak "possible name" highlight) gives no reason: a
    # volunteer reads why the picture matters, not every capitalised word on it.
    reasons = list(dict.fromkeys(f.reason for f in findings if f.reason and _acts(f)))
    if seen.gps is not None:
        reasons.append(GPS_REASON)
    return PhotoAnalysis(
        people=people.count,
        faces=len(people.faces),
        largest_face_share=people.largest_face_share,
        text=reading.text,
        is_screenshot=layout.screenshot is not None,
        is_document=layout.document,
        exif_gps=seen.gps,
        taken_at=seen.taken_at,
        findings=findings,
        reasons=reasons,
        screenshot_of=layout.screenshot,
        width=seen.width,
        height=seen.height,
        people_boxes=people.faces + people.bodies,
    )


@dataclass(frozen=True)
class _Seen:
    """What the pixels show, before any page's context or rules: nearly all of the cost."""

    people: People  # boxes in the original's pixels
    reading: Reading  # likewise
    layout: Layout
    gps: tuple[float, float] | None
    taken_at: str | None
    width: int
    height: int


_seen_lately: OrderedDict[bytes, _Seen] = OrderedDict()
_seen_lock = threading.Lock()


def _seen(data: bytes, max_pixels: int) -> _Seen:
    """Look at the pixels, or remember having looked at these very bytes lately.

    Looking costs one to four seconds of a core. The same picture comes back: a batch that
    failed is judged again item by item, an edit keeps its photo, Meta sends a delivery again.
    Kept by digest, not by the bytes (megabytes each), a few pictures at a time.
    """
    key = hashlib.sha256(data).digest() + max_pixels.to_bytes(8, "big")
    with _seen_lock:
        if key in _seen_lately:
            _seen_lately.move_to_end(key)
            return _seen_lately[key]
    picture = read_picture(data, max_pixels=max_pixels)
    # Found on the picture as looked at; boxes are given back in the original's pixels.
    people = find_people(picture.rgb).scaled(picture.scale)
    text = read_text(picture.rgb)
    seen = _Seen(
        people=people,
        reading=text.scaled(picture.scale),
        layout=judge_layout(picture.rgb, text, len(people.faces)),
        gps=picture.gps,
        taken_at=picture.taken_at,
        width=picture.width,
        height=picture.height,
    )
    with _seen_lock:
        _seen_lately[key] = seen
        while len(_seen_lately) > SEEN_KEPT:
            _seen_lately.popitem(last=False)
    return seen


def forget_pictures() -> None:
    """Look at every picture afresh (bench/photos.py times the looking itself)."""
    with _seen_lock:
        _seen_lately.clear()


def people_words(people: People) -> str:
    """ "3 people, faces visible", "1 person, no face visible", "2 people, 1 face visible"."""
    n, faces = people.count, len(people.faces)
    who = f"{n} {'person' if n == 1 else 'people'}"
    if faces == 0:
        return f"{who}, no face visible"
    if faces == n:
        return f"{who}, {'face' if n == 1 else 'faces'} visible"
    return f"{who}, {faces} {'face' if faces == 1 else 'faces'} visible"


def _people_finding(ruleset: RuleSet, context: PhotoContext, people: People) -> Finding | None:
    if people.count == 0:
        return None
    prominent = people.bodies or people.largest_face_share >= PROMINENT_FACE
    if not (prominent or context.no_family_photos):
        return None
    category = "photo.child" if _about_a_child(ruleset, context) else "photo.family"
    reason = people_words(people)
    if context.no_family_photos:
        reason += "; this page posts no photos of people"
    boxes = people.faces + people.bodies
    return _finding(ruleset, context, category, PEOPLE_RULE, 0.75, boxes, reason)


def _about_a_child(ruleset: RuleSet, context: PhotoContext) -> bool:
    """The words posted with the picture are about a child (the photo rules say so)."""
    if not context.caption.strip():
        return False
    message = Message(
        text=context.caption,
        channel=context.channel,
        platform=context.platform,
        attachments=(Attachment("image"),),
        from_page=context.from_page,
        author_id=context.author_id,
    )
    return any(f.category == "photo.child" for f in ruleset.evaluate(message))


def _finding(
    ruleset: RuleSet,
    context: PhotoContext,
    category: str,
    rule: str,
    score: float,
    regions: tuple[tuple[int, int, int, int], ...],
    reason: str,
) -> Finding:
    severity, actions = _behaviour(ruleset, context, category)
    return Finding(
        category=category,
        rule=rule,
        severity=severity,
        score=score,
        span=None,
        actions=actions,
        regions=regions,
        reason=reason,
    )


def _behaviour(ruleset: RuleSet, context: PhotoContext, category: str) -> tuple[str, Actions]:
    """The severity and actions of a picture finding: the page's own posts as the photo pack's
    page-post rule says (reviewed, never hidden), anything else as its category's defaults."""
    private = context.channel in PRIVATE_CHANNELS
    if context.from_page:
        for rule in ruleset.rules:
            if rule.category == category and rule.from_page == "only":
                return rule.severity, rule.private_actions if private else rule.actions
        if category in ("photo.family", "photo.child"):
            for rule in ruleset.rules:
                if rule.from_page == "only" and rule.category.startswith("photo."):
                    return rule.severity, rule.private_actions if private else rule.actions
    spec = ruleset.categories.get(category)
    if spec is None:  # a RuleSet built by hand, without the loader's category defaults
        return "medium", Actions(alert=("moderator",))
    return spec.severity, spec.private_actions if private else spec.actions


def _acts(finding: Finding) -> bool:
    return finding.actions != Actions() or SEVERITY_RANK[finding.severity] > 0


def _text_findings(ruleset: RuleSet, context: PhotoContext, reading: Reading) -> list[Finding]:
    """The same rules as a message, over the text in the picture; each finding keeps the span
    in `PhotoAnalysis.text` and the boxes of the lines it came from."""
    if not reading.text:
        return []
    message = Message(
        text=reading.text,
        channel=context.channel,
        platform=context.platform,
        from_page=context.from_page,
        author_id=context.author_id,
    )
    out = []
    for found in ruleset.evaluate(message):
        spans = found.spans or ((found.span,) if found.span else ())
        regions = tuple(dict.fromkeys(b for s in spans for b in reading.boxes_of(s)))
        words = _TEXT_WORDS.get(found.category) or _TEXT_WORDS.get(found.category.split(".")[0])
        reason = f"text in the image {words or 'matched a rule'}"
        out.append(replace(found, rule=TEXT_RULE + found.rule, regions=regions, reason=reason))
    return out
