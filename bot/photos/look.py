"""Look at an item's pictures: fetch each from Meta's CDN, analyse it in memory, drop the bytes.

Runs before the item's transaction (a download may take seconds, and nothing should hold the
database meanwhile); what it returns holds findings, counts and a hash, never a picture.
A picture that cannot be fetched or read is a note, never a failure: the item is still judged
on its words.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests

from bot.config.photos import Photos
from bot.models import Item
from bot.photos.analysis import PhotoAnalysis, PhotoContext, analyse, can_look, photo_hash
from bot.photos.fetch import PhotoRefused, fetch_image
from rules import Finding, RuleSet

log = logging.getLogger(__name__)

# Attachment types that are a still picture (webhooks/events reports Page feed photos as image).
PICTURE_TYPES = frozenset({"image", "photo"})
NOT_LOOKED_AT = "photos are not looked at here (Haven's `photos` extra is not installed)"
NOT_FETCHED = "the photo couldn't be checked: fetching photos is turned off (photos.fetch)"


@dataclass(frozen=True)
class PhotoLook:
    """One picture of an item: what was seen in it, or why it was not looked at."""

    position: int
    url_digest: str
    status: str  # checked | refused | unavailable (bot/models/photos.py)
    phash: str | None = None
    analysis: PhotoAnalysis | None = None
    note: str | None = None
    findings: list[Finding] = field(default_factory=list)

    @property
    def people(self) -> int:
        return self.analysis.people if self.analysis else 0


def pictures_of(item: Item, config: Photos) -> list[tuple[int, str]]:
    """(position, url) of each still picture on the item, up to the configured number."""
    found = [
        (position, attachment["url"])
        for position, attachment in enumerate(item.attachments or [])
        if attachment.get("type") in PICTURE_TYPES and isinstance(attachment.get("url"), str)
    ]
    return found[: config.max_per_item]


def look_at_photos(
    item: Item,
    ruleset: RuleSet,
    config: Photos,
    http: requests.Session | None = None,
    *,
    no_family_photos: bool = False,
) -> list[PhotoLook]:
    """Fetch and analyse every picture on the item; the bytes do not outlive this call.

    `no_family_photos`: the item is the page's own post and its page never posts about the
    families it supports (policy 002: not even with faces hidden), so any person counts."""
    pictures = pictures_of(item, config)
    if not pictures:
        return []
    if not config.fetch:
        return [PhotoLook(p, url_digest(u), "refused", note=NOT_FETCHED) for p, u in pictures]
    if not can_look():
        return [PhotoLook(p, url_digest(u), "unavailable", note=NOT_LOOKED_AT) for p, u in pictures]
    http = http or requests.Session()
    context = PhotoContext(
        channel=item.channel,
        platform=item.platform,
        from_page=item.from_page,
        author_id=item.author_id,
        caption=item.text or "",
        no_family_photos=config.no_people_photos or no_family_photos,
    )
    return [_look(position, url, ruleset, config, http, context) for position, url in pictures]


def _look(
    position: int,
    url: str,
    ruleset: RuleSet,
    config: Photos,
    http: requests.Session,
    context: PhotoContext,
) -> PhotoLook:
    digest = url_digest(url)
    try:
        data = fetch_image(url, config, http).data
        analysis = analyse(data, ruleset, context, max_pixels=config.max_pixels)
        phash = photo_hash(data, max_pixels=config.max_pixels)
    except PhotoRefused as refused:
        return PhotoLook(
            position, digest, "refused", note=f"the photo couldn't be checked: {refused}"
        )
    except ValueError:
        # The analysis refused what the fetcher let through (its own reading of the file).
        return PhotoLook(
            position,
            digest,
            "refused",
            note="the photo couldn't be checked: not a readable picture",
        )
    del data  # nothing of the picture is kept beyond this point
    return PhotoLook(position, digest, "checked", phash, analysis, findings=list(analysis.findings))


def url_digest(url: str) -> str:
    """The same CDN file has the same digest, whatever signed query string Meta put on the link."""
    parts = urlsplit(url)
    return hashlib.sha256(f"{parts.netloc.lower()}{parts.path}".encode()).hexdigest()
