"""parse_payload never raises, coerces odd input safely, and keys updates deterministically."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webhooks.events import (
    CHANNELS,
    PLATFORMS,
    UNKNOWN_TIME,
    VERBS,
    InboundItem,
    Parsed,
    parse_payload,
)
from webhooks.events.common import delivery_key

PAGE = "111222333444555"
IG = "17841400000000000"
UNSAFE_TEXT = re.compile("[\ud800-\udfff\x00]")


def feed(*values: Any, object_name: str = "page") -> dict[str, Any]:
    changes = [{"field": "feed", "value": value} for value in values]
    return {"object": object_name, "entry": [{"id": PAGE, "time": 1742667607, "changes": changes}]}


def messaging(*events: Any, object_name: str = "page") -> dict[str, Any]:
    return {"object": object_name, "entry": [{"id": PAGE, "time": 1, "messaging": list(events)}]}


def comment(**fields: Any) -> dict[str, Any]:
    value = {"item": "comment", "verb": "add", "comment_id": "9_7", "post_id": f"{PAGE}_9"}
    return {**value, **fields}


# --- odd shapes become Unknown with a reason, never an exception ---------------------------


def page_entry(**fields: Any) -> dict[str, Any]:
    return {"object": "page", "entry": [{"id": PAGE, **fields}]}


def instagram_change(field: str, value: Any) -> dict[str, Any]:
    change = {"field": field, "value": value}
    return {"object": "instagram", "entry": [{"id": IG, "time": 1, "changes": [change]}]}


NOT_AN_OBJECT = "payload is not a JSON object"
LONG_ITEM = "feed item 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx... not understood"

# fmt: off
ODD_PAYLOADS: list[tuple[Any, list[str]]] = [
    (None, [NOT_AN_OBJECT]),
    ([], [NOT_AN_OBJECT]),
    ("page", [NOT_AN_OBJECT]),
    (42, [NOT_AN_OBJECT]),
    ({}, ["payload has no entry list"]),
    ({"object": "page", "entry": "x"}, ["payload has no entry list"]),
    ({"object": "page", "entry": [1, None, "x"]}, ["entry is not an object"] * 3),
    ({"object": "page", "entry": [{"time": 1, "changes": []}]}, ["entry without id"]),
    (page_entry(), ["entry has no changes, messaging or standby"]),
    (page_entry(changes={}), ["entry.changes is not a list"]),
    (page_entry(changes=[None, 3]), ["change is not an object"] * 2),
    (page_entry(changes=[{"field": ["x"]}]), ["change field None not understood"]),
    (feed("x"), ["feed change without a value object"]),
    (feed({"item": "comment", "verb": "add"}), ["feed comment without comment_id"]),
    (feed(comment(comment_id=1.5)), ["feed comment without comment_id"]),
    (feed(comment(verb="explode")), ["feed verb 'explode' not understood"]),
    (feed({"item": "status", "verb": "add", "message": "hi"}), ["feed post without post_id"]),
    (feed({"item": "x" * 500, "verb": "add"}), [LONG_ITEM]),
    (messaging("x"), ["messaging event is not an object"]),
    (messaging({"message": "hello"}), ["message is not an object"]),
    (messaging({"message": {"text": "hi"}}), ["message without mid"]),
    (messaging({"message_edit": {"text": "hi"}}), ["message_edit without mid"]),
    (messaging({"sender": {"id": "1"}, "surprise": {}}),
     ["messaging event without a known event key"]),
    (messaging({"message": {"mid": "m_1"}}, object_name="whatsapp_business_account"),
     ["messaging event under an unknown object"]),
    (instagram_change("comments", {"text": "hi"}), ["instagram comment without id"]),
    (instagram_change("mentions", {}), ["instagram mention without media_id or comment_id"]),
]
# fmt: on


@pytest.mark.parametrize(("payload", "reasons"), ODD_PAYLOADS)
def test_odd_shapes_become_unknown_with_a_reason(payload: Any, reasons: list[str]) -> None:
    parsed = parse_payload(payload)
    assert parsed.items == []
    assert [unknown.reason for unknown in parsed.unknown] == reasons


def test_one_bad_event_does_not_lose_the_rest_of_the_batch() -> None:
    parsed = parse_payload(feed("x", comment(message="still here"), None))
    assert [item.text for item in parsed.items] == ["still here"]
    assert len(parsed.unknown) == 2


def test_user_action_verbs_are_ignored_not_unknown() -> None:
    parsed = parse_payload(feed(comment(verb="block")))
    assert [ignored.kind for ignored in parsed.ignored] == ["feed.comment.block"]


@pytest.mark.parametrize(
    ("message", "expected"),
    [(12345, "12345"), (1.5, "1.5"), ({"text": "x"}, None), (["a"], None), (True, None)],
)
def test_text_that_is_not_a_string_is_coerced_or_dropped(
    message: Any, expected: str | None
) -> None:
    (item,) = parse_payload(feed(comment(message=message))).items
    assert item.text == expected


def test_ids_as_integral_numbers_become_strings() -> None:
    payload = messaging(
        {"sender": {"id": 7.0}, "recipient": {"id": int(PAGE)}, "message": {"mid": 5}}
    )
    (item,) = parse_payload(payload).items
    assert (item.external_id, item.author_id, item.thread_id) == ("5", "7", "7")


@pytest.mark.parametrize(
    ("value", "expected"), [(True, True), ("true", True), (1, True), ("yes", False), ({}, False)]
)
def test_is_echo_only_counts_an_explicit_true(value: Any, expected: bool) -> None:
    payload = messaging({"sender": {"id": "7"}, "message": {"mid": "m_1", "is_echo": value}})
    assert parse_payload(payload).items[0].is_echo is expected


def test_huge_text_is_kept_whole_and_the_key_stays_short() -> None:
    text = "help " * 200_000
    (item,) = parse_payload(
        messaging({"sender": {"id": "7"}, "message": {"mid": "m_1", "text": text}})
    ).items
    assert item.text == text
    assert item.delivery_key == "fb_dm:add:m_1"


def test_lone_surrogates_and_nul_in_every_string_are_replaced() -> None:
    value = comment(
        message="a\ud800b\x00",
        comment_id="9_7\udfff",
        **{"from": {"id": "6\x00", "name": "\udc80Jo"}},
    )
    (item,) = parse_payload(feed(value)).items
    assert (item.text, item.author_name, item.author_id) == (
        "a\ufffdb\ufffd",
        "\ufffdJo",
        "6\ufffd",
    )
    assert item.external_id == "9_7\ufffd" and item.delivery_key.startswith("fb_comment:add:#")


@pytest.mark.parametrize(
    ("created_time", "entry_time", "expected"),
    [
        (1742667604, 1, datetime(2025, 3, 22, 18, 20, 4, tzinfo=UTC)),
        ("1742667604", 1, datetime(2025, 3, 22, 18, 20, 4, tzinfo=UTC)),
        (1742667604.5, 1, datetime(2025, 3, 22, 18, 20, 4, 500000, tzinfo=UTC)),
        ("2025-03-22T18:20:04+0000", 1, datetime(2025, 3, 22, 18, 20, 4, tzinfo=UTC)),
        ("2025-03-22T19:20:04+01:00", 1, datetime(2025, 3, 22, 18, 20, 4, tzinfo=UTC)),
        (None, 1742667607, datetime(2025, 3, 22, 18, 20, 7, tzinfo=UTC)),
        ("soon", 1742667607123, datetime(2025, 3, 22, 18, 20, 7, 123000, tzinfo=UTC)),
        (-5, None, UNKNOWN_TIME),
        (10**30, float("nan"), UNKNOWN_TIME),
        (True, "x" * 100, UNKNOWN_TIME),
    ],
)
def test_created_at_falls_back_to_entry_time_then_unknown(
    created_time: Any, entry_time: Any, expected: datetime
) -> None:
    payload = feed(comment(created_time=created_time))
    payload["entry"][0]["time"] = entry_time
    (item,) = parse_payload(payload).items
    assert item.created_at == expected and item.created_at.tzinfo is UTC


# --- properties -----------------------------------------------------------------------------

ODD_STRINGS = st.sampled_from(
    ["", " ", "\ud800", "a\udfffb", "\x00", "\u202e", "\u200b", "1785312004523", "1742667604",
     "2025-03-22T18:20:04+0000", "9" * 40, PAGE, IG, "true", "sticker", "image", "a:b", "x" * 300]
)  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(),
    st.text(max_size=12),
    ODD_STRINGS,
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)
IDS = st.one_of(
    st.sampled_from([PAGE, IG, "6000000000000042", "9_7"]),
    st.integers(0, 10**18),
    ODD_STRINGS,
    JSON,
)
TIMES = st.one_of(st.integers(-10, 10**15), st.floats(), ODD_STRINGS, JSON)


def shaped(keys: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """Meta-like objects: any subset of the documented keys, sometimes plain noise instead."""
    return st.fixed_dictionaries({}, optional={k: v | JSON for k, v in keys.items()}) | JSON


PEOPLE = shaped({"id": IDS, "name": ODD_STRINGS, "username": ODD_STRINGS})
ATTACHMENT = shaped({
    "type": st.sampled_from(["image", "sticker", "fallback", "template", "story_mention", "video"]),
    "payload": shaped({"url": ODD_STRINGS, "sticker_id": IDS}),
    "url": ODD_STRINGS,
    "URL": ODD_STRINGS,
})  # fmt: skip
MESSAGE = shaped({
    "mid": IDS, "text": ODD_STRINGS, "attachments": st.lists(ATTACHMENT, max_size=3),
    "is_echo": st.booleans(), "is_deleted": st.booleans(), "is_unsupported": st.booleans(),
    "reply_to": shaped({"mid": IDS, "story": shaped({"id": IDS, "url": ODD_STRINGS})}),
    "app_id": IDS, "metadata": ODD_STRINGS,
})  # fmt: skip
MESSAGING_EVENT = shaped({
    "sender": PEOPLE, "recipient": PEOPLE, "timestamp": TIMES, "message": MESSAGE,
    "message_edit": shaped({"mid": IDS, "text": ODD_STRINGS, "num_edit": IDS}),
    "reaction": JSON, "read": JSON, "delivery": JSON, "postback": JSON,
})  # fmt: skip
FEED_VALUE = shaped({
    "item": st.sampled_from(["comment", "status", "photo", "video", "share", "post", "reaction"]),
    "verb": st.sampled_from(["add", "edited", "edit", "remove", "hide", "unhide", "block"]),
    "post_id": IDS, "comment_id": IDS, "parent_id": IDS, "from": PEOPLE, "message": ODD_STRINGS,
    "created_time": TIMES, "edited_time": TIMES, "photo": ODD_STRINGS, "video": ODD_STRINGS,
    "link": ODD_STRINGS, "photos": st.lists(ODD_STRINGS, max_size=3), "photo_id": IDS,
    "video_id": IDS,
})  # fmt: skip
IG_VALUE = shaped({
    "id": IDS, "comment_id": IDS, "media_id": IDS, "text": ODD_STRINGS, "from": PEOPLE,
    "parent_id": IDS, "media": shaped({"id": IDS, "media_product_type": ODD_STRINGS}),
})  # fmt: skip
CHANGE = shaped({
    "field": st.sampled_from(["feed", "comments", "live_comments", "mentions", "messages", "x"]),
    "value": st.one_of(FEED_VALUE, IG_VALUE, MESSAGING_EVENT),
})  # fmt: skip
ENTRY = shaped({
    "id": IDS, "time": TIMES, "changes": st.lists(CHANGE, max_size=3),
    "messaging": st.lists(MESSAGING_EVENT, max_size=3),
    "standby": st.lists(MESSAGING_EVENT, max_size=2),
})  # fmt: skip
PAYLOAD = shaped({
    "object": st.sampled_from(["page", "instagram", "whatsapp_business_account"]),
    "entry": st.lists(ENTRY, max_size=3),
})  # fmt: skip

PROPERTY_SETTINGS = settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


def assert_well_formed(parsed: Parsed) -> None:
    assert not [u.reason for u in parsed.unknown if u.reason.startswith("parser failed")]
    for item in parsed.items:
        assert isinstance(item, InboundItem)
        assert item.platform in PLATFORMS and item.channel in CHANNELS and item.verb in VERBS
        assert item.external_id and item.account_id and len(item.delivery_key) <= 128
        assert item.created_at.tzinfo is UTC
        strings = [item.text, item.author_id, item.author_name, item.external_id, item.thread_id]
        strings += [a.url for a in item.attachments] + [a.type for a in item.attachments]
        assert not any(UNSAFE_TEXT.search(s) for s in strings if s is not None)


@PROPERTY_SETTINGS
@given(JSON)
def test_arbitrary_json_never_raises(payload: Any) -> None:
    assert_well_formed(parse_payload(payload))


@PROPERTY_SETTINGS
@given(PAYLOAD)
def test_meta_shaped_noise_never_raises_and_yields_well_formed_items(payload: Any) -> None:
    assert_well_formed(parse_payload(payload))


@PROPERTY_SETTINGS
@given(PAYLOAD)
def test_keys_are_deterministic_and_survive_reserialisation(payload: Any) -> None:
    first = [item.delivery_key for item in parse_payload(payload).items]
    assert first == [item.delivery_key for item in parse_payload(payload).items]
    redelivered = json.loads(json.dumps(payload, sort_keys=True, ensure_ascii=True))
    assert first == [item.delivery_key for item in parse_payload(redelivered).items]


@PROPERTY_SETTINGS
@given(st.text(min_size=1), st.text(min_size=1), st.sampled_from(sorted(VERBS)))
def test_distinct_ids_get_distinct_keys(first: str, second: str, verb: str) -> None:
    if first != second:
        assert delivery_key("fb_dm", verb, first) != delivery_key("fb_dm", verb, second)
