"""webhooks/events/messaging.py: quick replies and postbacks on Haven's buttons, both platforms."""

from __future__ import annotations

import json
from pathlib import Path

from webhooks.events import parse_payload

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _parse(name: str):  # type: ignore[no-untyped-def]
    return parse_payload(json.loads((FIXTURES / name).read_text(encoding="utf-8")))


def test_messenger_quick_reply_and_postbacks_become_messages_with_payloads() -> None:
    parsed = _parse("fb_dm_consent.json")
    items = {i.external_id: i for i in parsed.items}
    quick = items["m_qr_yes_1"]
    assert (quick.channel, quick.verb, quick.text, quick.payload) == (
        "fb_dm", "add", "Yes, please", "HAVEN_CONSENT_YES")  # fmt: skip
    assert quick.author_id == quick.thread_id == "7392015648120394"
    stop = items["m_pb_stop_1"]
    assert (stop.channel, stop.text, stop.payload) == (
        "fb_dm",
        "Stop messages",
        "HAVEN_CONSENT_STOP",
    )
    # An older postback without a mid still gets a stable id and key of its own.
    [no_mid] = [i for i in parsed.items if i.external_id.startswith("postback:")]
    assert no_mid.payload == "HAVEN_CONSENT_NO" and no_mid.created_at.year == 2026
    again = _parse("fb_dm_consent.json")
    assert [i.delivery_key for i in again.items] == [i.delivery_key for i in parsed.items]
    assert len({i.delivery_key for i in parsed.items}) == 3
    # A button Haven did not send (Get started) is still not moderated.
    assert [k.kind for k in parsed.ignored] == ["fb_dm.postback"]


def test_instagram_quick_reply_and_postback_become_messages_with_payloads() -> None:
    parsed = _parse("ig_dm_consent.json")
    got = [(i.channel, i.external_id, i.text, i.payload) for i in parsed.items]
    assert got == [
        ("ig_dm", "aWdfcXJfbm8x", "Not right now", "HAVEN_CONSENT_NO"),
        ("ig_dm", "aWdfcGJfeWVzMQ", "Yes, please", "HAVEN_CONSENT_YES"),
    ]
    assert all(i.platform == "instagram" and not i.from_page for i in parsed.items)
    assert parsed.ignored == [] and parsed.unknown == []


def test_a_plain_message_has_no_payload_and_a_malformed_postback_is_unknown() -> None:
    base = json.loads((FIXTURES / "fb_dm_consent.json").read_text(encoding="utf-8"))
    event = base["entry"][0]["messaging"][0]
    del event["message"]["quick_reply"]
    broken = {**base["entry"][0]["messaging"][1], "postback": "HAVEN_CONSENT_YES"}
    base["entry"][0]["messaging"] = [event, broken]
    parsed = parse_payload(base)
    assert [i.payload for i in parsed.items] == [None]
    # A postback that is not an object carries no Haven payload: ignored, never guessed at.
    assert [k.kind for k in parsed.ignored] == ["fb_dm.postback"]
