"""Fetch one picture from Meta's CDN: HTTPS, allowed hosts only, within size, pixel and time limits.

Redirects are followed by hand, so every hop is checked against the allow-list before Haven
connects to it. The bytes must decode as a picture (Pillow) before anything looks at them.
"""

from __future__ import annotations

import io
import logging
import time
import warnings
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests
from PIL import Image, UnidentifiedImageError

from bot.config.photos import Photos

log = logging.getLogger(__name__)

# What Meta's CDN serves for photos; anything else (SVG, PDF, HEIC) is not looked at.
IMAGE_FORMATS = ("JPEG", "PNG", "GIF", "WEBP")
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024


class PhotoRefused(Exception):
    """A picture Haven would not fetch or could not read; the message is words for a note."""


@dataclass(frozen=True)
class FetchedImage:
    data: bytes
    width: int
    height: int
    format: str


def host_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    """True when `host` is one of the allowed names, or under an allowed "*.domain"."""
    host = host.lower().rstrip(".")
    for pattern in allowed:
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]) and len(host) > len(pattern) - 1:
                return True
        elif host == pattern:
            return True
    return False


def check_url(url: str, config: Photos) -> str:
    """Return the host of a URL Haven may fetch; refuse anything else."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (a bad port raises here, not later inside requests)
    except ValueError as exc:
        raise PhotoRefused("the picture's address is not a valid URL") from exc
    if parts.scheme != "https":
        raise PhotoRefused("the picture's address is not HTTPS")
    if parts.username is not None or parts.password is not None or not parts.hostname:
        raise PhotoRefused("the picture's address is not a plain web address")
    if not host_allowed(parts.hostname, config.allowed_hosts):
        raise PhotoRefused(f"the picture is not on Meta's CDN ({parts.hostname})")
    return parts.hostname


def fetch_image(url: str, config: Photos, http: requests.Session | None = None) -> FetchedImage:
    """Download and decode one picture, or raise PhotoRefused saying why not."""
    http = http or requests.Session()
    deadline = time.monotonic() + config.timeout_seconds
    for _ in range(config.max_redirects + 1):
        host = check_url(url, config)
        try:
            with http.get(
                url,
                stream=True,
                allow_redirects=False,
                timeout=_remaining(deadline),
                headers={"Accept-Encoding": "identity"},
            ) as response:
                if response.status_code in _REDIRECTS:
                    url = urljoin(url, response.headers.get("Location", ""))
                    continue
                if response.status_code != 200:
                    raise PhotoRefused(f"Meta's CDN answered {response.status_code}")
                data = _read(response, config, deadline)
        except requests.Timeout as exc:
            raise PhotoRefused("the picture took too long to download") from exc
        except requests.RequestException as exc:
            # The URL carries Meta's signed query string: the host is enough to know where.
            log.warning("photo fetch from %s failed: %s", host, type(exc).__name__)
            raise PhotoRefused("the picture could not be downloaded") from exc
        return decode(data, config)
    raise PhotoRefused("the picture's address redirected too many times")


def decode(data: bytes, config: Photos) -> FetchedImage:
    """Check that bytes are a picture within the pixel limit, decoding it all once."""
    try:
        # Pillow warns (it does not refuse) between 89 and 179 million pixels, as it opens the
        # file: as an error here, every bomb is refused, whatever the process does with warnings.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)
        with image:
            width, height = image.size
            # The header says how big the decoded picture will be: refuse before decoding it.
            if width * height > config.max_pixels:
                raise PhotoRefused(f"the picture is too large ({width} x {height} pixels)")
            image.load()
            return FetchedImage(data=data, width=width, height=height, format=image.format or "")
    except PhotoRefused:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise PhotoRefused("the file is not a picture Haven can read") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoRefused("the picture is too large to decode") from exc


def _read(response: requests.Response, config: Photos, deadline: float) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > config.max_bytes:
        raise PhotoRefused(f"the picture is larger than {config.max_bytes} bytes")
    body = bytearray()
    # read1 returns what one read of the socket gives, so a server that drips bytes is caught
    # by the deadline below rather than waited for until a whole chunk has arrived.
    # Not decoded: a picture is not gzipped, and a compressed body must not grow in memory.
    while chunk := response.raw.read1(_CHUNK, decode_content=False):
        body += chunk
        # The header may be absent or wrong: count what actually arrives.
        if len(body) > config.max_bytes:
            raise PhotoRefused(f"the picture is larger than {config.max_bytes} bytes")
        if time.monotonic() > deadline:
            raise PhotoRefused("the picture took too long to download")
    return bytes(body)


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise PhotoRefused("the picture took too long to download")
    return left
