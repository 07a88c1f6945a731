"""An Instagram comment's picture is kept by the normaliser, so the worker can look at it."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from webhooks.events import Attachment, parse_payload

FIXTURE = Path(__file__).parents[1] / "fixtures" / "meta" / "ig_comment.json"
CDN = "https://scontent-lhr8-1.cdninstagram.com/v/t51.2885-15/photo.jpg?oh=signed"


def ig_comment(**value: Any) -> dict[str, Any]:
    payload = json.loads(FIXTURE.read_text(encoding="utf-8"))
    change = copy.deepcopy(payload["entry"][0]["changes"][0])
    change["value"].update(value)
    payload["entry"][0]["changes"] = [change]
    return payload


@pytest.mark.parametrize(
    "extra",
    [
        {"attachments": [{"type": "image", "payload": {"url": CDN}}]},
        {"attachments": [{"type": "photo", "url": CDN}]},
        {"photo": CDN},
    ],
)
def test_a_picture_on_an_instagram_comment_is_kept(extra: dict[str, Any]) -> None:
    [item] = parse_payload(ig_comment(text=None, **extra)).items
    assert item.channel == "ig_comment"
    assert item.attachments == (Attachment("image", CDN),)


def test_a_plain_instagram_comment_has_no_attachments() -> None:
    [item] = parse_payload(json.loads(FIXTURE.read_text(encoding="utf-8"))).items
    assert item.attachments == ()


def test_a_malformed_attachment_list_is_not_a_crash() -> None:
    [item] = parse_payload(ig_comment(attachments=["nonsense", {"payload": 5}])).items
    assert item.attachments == (Attachment("unknown", None), Attachment("unknown", None))
