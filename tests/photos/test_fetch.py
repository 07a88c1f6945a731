"""Fetching a picture: only from allowed hosts over HTTPS, within size, pixel and time limits,
redirects followed only while they stay on the list, and only pictures accepted."""

from __future__ import annotations

import io
import time

import pytest
from PIL import Image

from bot.config.photos import Photos
from bot.photos.fetch import PhotoRefused, fetch_image, host_allowed
from tests.support.cdn import HOST, Answer, LocalCDN


def jpeg(width: int = 320, height: int = 240, colour: str = "teal") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "JPEG", quality=85)
    return out.getvalue()


def png_bomb(width: int, height: int) -> bytes:
    """A tiny file that decodes to width x height pixels (one colour compresses to nothing)."""
    out = io.BytesIO()
    Image.new("1", (width, height), 0).save(out, "PNG", optimize=True)
    return out.getvalue()


def local(**limits: object) -> Photos:
    return Photos(allowed_hosts=(HOST,), **limits)


def test_a_picture_on_an_allowed_host_is_fetched_and_decoded(cdn: LocalCDN) -> None:
    url = cdn.serve("/v/t1/photo.jpg", Answer(jpeg(320, 240)))
    image = fetch_image(url + "?oh=signed&oe=1234", local(), cdn.session())
    assert (image.width, image.height, image.format) == (320, 240, "JPEG")
    assert image.data == jpeg(320, 240)


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("scontent.xx.fbcdn.net", True),
        ("scontent-lhr8-1.xx.fbcdn.net", True),
        ("scontent-lhr6-2.cdninstagram.com", True),
        ("lookaside.fbsbx.com", True),
        ("fbcdn.net.evil.example", False),
        ("evilfbcdn.net", False),
        ("fbsbx.com", False),
        ("example.org", False),
    ],
)
def test_the_default_allow_list_is_metas_cdn(host: str, allowed: bool) -> None:
    assert host_allowed(host, Photos().allowed_hosts) is allowed


def test_a_host_off_the_list_is_never_contacted(cdn: LocalCDN) -> None:
    url = cdn.serve("/photo.jpg", Answer(jpeg()))
    with pytest.raises(PhotoRefused, match="not on Meta's CDN"):
        fetch_image(url, Photos(), cdn.session())  # the defaults: Meta's hosts only
    assert cdn.requests == []


def test_plain_http_is_refused(cdn: LocalCDN) -> None:
    with pytest.raises(PhotoRefused, match="not HTTPS"):
        fetch_image(f"http://{HOST}:{cdn.port}/photo.jpg", local(), cdn.session())
    assert cdn.requests == []


def test_an_address_with_a_user_name_is_refused(cdn: LocalCDN) -> None:
    with pytest.raises(PhotoRefused, match="plain web address"):
        fetch_image(f"https://evil.example@{HOST}:{cdn.port}/p.jpg", local(), cdn.session())


def test_a_redirect_that_stays_on_the_list_is_followed(cdn: LocalCDN) -> None:
    cdn.serve("/final.jpg", Answer(jpeg(64, 48)))
    url = cdn.serve("/start.jpg", Answer(status=302, location="/final.jpg"))
    assert fetch_image(url, local(), cdn.session()).width == 64
    assert cdn.requests == ["/start.jpg", "/final.jpg"]


def test_a_redirect_off_the_list_is_not_followed(cdn: LocalCDN) -> None:
    # 127.0.0.1 is the same server, but not a name on the list: it must not be contacted.
    away = f"https://127.0.0.1:{cdn.port}/final.jpg"
    cdn.serve("/final.jpg", Answer(jpeg()))
    url = cdn.serve("/start.jpg", Answer(status=301, location=away))
    with pytest.raises(PhotoRefused, match=r"not on Meta's CDN \(127.0.0.1\)"):
        fetch_image(url, local(), cdn.session())
    assert cdn.requests == ["/start.jpg"]


def test_a_redirect_to_plain_http_is_not_followed(cdn: LocalCDN) -> None:
    url = cdn.serve("/start.jpg", Answer(status=307, location=f"http://{HOST}:{cdn.port}/x"))
    with pytest.raises(PhotoRefused, match="not HTTPS"):
        fetch_image(url, local(), cdn.session())


def test_redirects_in_a_loop_give_up(cdn: LocalCDN) -> None:
    url = cdn.serve("/loop.jpg", Answer(status=302, location="/loop.jpg"))
    with pytest.raises(PhotoRefused, match="redirected too many times"):
        fetch_image(url, local(max_redirects=2), cdn.session())
    assert len(cdn.requests) == 3


def test_too_big_by_its_header_is_refused_before_reading(cdn: LocalCDN) -> None:
    url = cdn.serve("/big.jpg", Answer(jpeg(), content_length=5_000_000))
    with pytest.raises(PhotoRefused, match="larger than 1048576 bytes"):
        fetch_image(url, local(max_bytes=1024 * 1024), cdn.session())


def test_too_big_as_it_streams_is_refused(cdn: LocalCDN) -> None:
    # No length given: the bytes are counted as they arrive.
    body = jpeg(40, 40) + bytes(300_000)
    url = cdn.serve("/big.jpg", Answer(body, content_length=-1))
    with pytest.raises(PhotoRefused, match="larger than 100000 bytes"):
        fetch_image(url, local(max_bytes=100_000), cdn.session())


def test_too_slow_is_refused_within_the_time_limit(cdn: LocalCDN) -> None:
    # Each byte arrives well inside a per-read timeout; the whole takes far too long.
    url = cdn.serve("/slow.jpg", Answer(jpeg(16, 16), drip_seconds=0.05))
    started = time.monotonic()
    with pytest.raises(PhotoRefused, match="took too long"):
        fetch_image(url, local(timeout_seconds=0.5), cdn.session())
    assert time.monotonic() - started < 2


def test_something_that_is_not_a_picture_is_refused(cdn: LocalCDN) -> None:
    url = cdn.serve("/page.jpg", Answer(b"<html>login</html>", content_type="text/html"))
    with pytest.raises(PhotoRefused, match="not a picture"):
        fetch_image(url, local(), cdn.session())


def test_a_truncated_picture_is_refused(cdn: LocalCDN) -> None:
    url = cdn.serve("/cut.jpg", Answer(jpeg(200, 200)[:400]))
    with pytest.raises(PhotoRefused, match="not a picture"):
        fetch_image(url, local(), cdn.session())


def test_a_decompression_bomb_is_refused_before_it_is_decoded(cdn: LocalCDN) -> None:
    bomb = png_bomb(12_000, 12_000)  # 144 million pixels in a few kilobytes
    assert len(bomb) < 100_000
    url = cdn.serve("/bomb.png", Answer(bomb, content_type="image/png"))
    with pytest.raises(PhotoRefused, match="too large"):
        fetch_image(url, local(max_pixels=40_000_000), cdn.session())


def test_an_error_answer_is_refused(cdn: LocalCDN) -> None:
    with pytest.raises(PhotoRefused, match="answered 404"):
        fetch_image(cdn.url("/gone.jpg"), local(), cdn.session())


def test_an_untrusted_certificate_is_refused(cdn: LocalCDN) -> None:
    url = cdn.serve("/photo.jpg", Answer(jpeg()))
    with pytest.raises(PhotoRefused, match="could not be downloaded"):
        fetch_image(url, local())  # a session that does not trust the test certificate
