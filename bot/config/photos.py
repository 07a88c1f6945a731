"""The `photos:` section of config.yaml: where Haven may fetch a picture from, and how much of it.

Attachment URLs in Meta's webhooks are temporary links on Meta's own CDN (reference, pitfall 15):
Page feed photos on `scontent*.xx.fbcdn.net`, Instagram media on `*.cdninstagram.com`, message
attachments on `lookaside.fbsbx.com`. Anything else is refused, so a crafted payload cannot make
the worker fetch from an address of an attacker's choosing (or from inside the charity's network).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from bot.config.section import Section

# A host pattern: a name, optionally starting with "*." for "any name under this domain".
_LABEL = r"[a-z0-9]([a-z0-9-]*[a-z0-9])?"
_HOST_PATTERN = re.compile(rf"^(\*\.)?{_LABEL}(\.{_LABEL})*$")


class Photos(Section):
    # false: pictures are not downloaded at all (`haven demo`, whose photo URLs are made up, or
    # a trial without network); items are judged on their words and say the photo wasn't checked.
    fetch: bool = True
    # Hosts an attachment may be fetched from (and redirected to): exact names, or "*.domain"
    # for any name under it. Tests add their own local host; a charity should not need to.
    allowed_hosts: tuple[str, ...] = ("*.fbcdn.net", "*.cdninstagram.com", "lookaside.fbsbx.com")
    max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, le=100 * 1024 * 1024)
    # Decoded size: a small PNG can claim to be 50,000 x 50,000 pixels (a decompression bomb).
    # At most 80 million, under Pillow's own guard (89 million), so ours speaks first.
    max_pixels: int = Field(default=40_000_000, ge=10_000, le=80_000_000)
    # The whole download, not each read: a server that drips bytes is as bad as a silent one.
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    max_redirects: int = Field(default=3, ge=0, le=10)
    # Picture bytes are analysed in memory and dropped; only findings and a perceptual hash are
    # stored. Keeping the pictures themselves is not built: true is refused rather than ignored.
    keep_images: bool = False
    # At most this many pictures of one post are looked at (a post may carry dozens).
    max_per_item: int = Field(default=10, ge=1, le=50)
    # Who is told when the page posts a photo with people in it and no consent on record: the
    # person who approves posts (policy 001: the Business Manager), an admin by default.
    approver_roles: tuple[Literal["admin", "moderator"], ...] = ("admin",)
    # A page that posts no photos of people at all (policy 002's "no photos of families")
    # has every person in every picture flagged, however small.
    no_people_photos: bool = False
    # Two perceptual hashes this many bits apart or fewer are the same photo (after a re-encode,
    # a resize or a light crop): the consent register's match.
    match_distance: int = Field(default=10, ge=0, le=32)

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        hosts = tuple(host.strip().lower() for host in value)
        bad = [host for host in hosts if not _HOST_PATTERN.match(host)]
        if bad:
            raise ValueError(f"not a host name or *.domain: {', '.join(bad)}")
        return hosts

    @field_validator("keep_images")
    @classmethod
    def _not_kept(cls, value: bool) -> bool:
        if value:
            raise ValueError("keeping photos is not supported: Haven keeps findings and a hash")
        return value
