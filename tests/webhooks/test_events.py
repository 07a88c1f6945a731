"""Every webhook fixture becomes exactly the right items; keys dedupe redeliveries only."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from webhooks.events import InboundItem, Parsed, parse_payload

FIXTURES = Path(__file__).parents[1] / "fixtures" / "meta"

PAGE = "111222333444555"
PAGE2 = "222333444555666"
PAGE_NAME = "Harbour Lights Family Support"
IG = "17841400000000000"
IG_MENTIONED = "17841405726653026"
POST1 = f"{PAGE}_900000000000001"
COMMENT1 = "900000000000001_700000000000009"
USER = "7392015648120394"
USER2 = "7392015648120395"
IG_USER = "6841100000000000"
IG_USER2 = "6841100000000001"
CDN = "https://scontent.xx.fbcdn.net/v/t39.30808-6/"
MSG_CDN = "https://lookaside.fbsbx.com/messaging_cdn/?asset_id="
IG_CDN = "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id="
FIELDS = (
    "platform channel verb account_id external_id post_id parent_id thread_id author_id "
    "author_name author_username text attachments created_at is_echo from_page standby "
    "app_id metadata media_product_type"
).split()


def load_fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parse_fixture(name: str) -> Parsed:
    return parse_payload(json.loads(load_fixture(name)))


def summary(item: InboundItem) -> dict[str, Any]:
    fields = {name: getattr(item, name) for name in FIELDS}
    fields["attachments"] = tuple((a.type, a.url) for a in item.attachments)
    return fields


def want(channel: str, verb: str, external_id: str, created: str, **given: Any) -> dict[str, Any]:
    """Expected summary; unspecified fields are None/False/(), ids default to the fixture's."""
    platform = "facebook" if channel.startswith("fb_") else "instagram"
    is_dm = channel.endswith("_dm")
    post = given.pop("post", None)
    author = given.pop("author", None)
    from_page = given.pop("page", False)
    expected = {
        "platform": platform,
        "channel": channel,
        "verb": verb,
        "account_id": given.pop("account", PAGE if platform == "facebook" else IG),
        "external_id": external_id,
        "post_id": post,
        "parent_id": given.pop("parent", None),
        "thread_id": given.pop("thread", author if is_dm and not from_page else post),
        "author_id": author,
        "author_name": given.pop("name", None),
        "author_username": given.pop("username", None),
        "text": given.pop("text", None),
        "attachments": tuple(given.pop("attachments", ())),
        "created_at": datetime.fromisoformat(created),
        "is_echo": given.pop("echo", False),
        "from_page": from_page,
        "standby": given.pop("standby", False),
        "app_id": given.pop("app_id", None),
        "metadata": given.pop("metadata", None),
        "media_product_type": given.pop("media", None),
    }
    assert not given, f"unexpected expectation keys {sorted(given)}"
    return expected


def dm(external_id: str, created: str, author: str = USER, **given: Any) -> dict[str, Any]:
    return want("fb_dm", given.pop("verb", "add"), external_id, created, author=author, **given)


def ig_dm(external_id: str, created: str, author: str = IG_USER, **given: Any) -> dict[str, Any]:
    return want("ig_dm", given.pop("verb", "add"), external_id, created, author=author, **given)


JO = {"author": "6000000000000042", "name": "Jo Visitor"}
ANA = {"author": "6000000000000044", "name": "Ana"}
PAGE_AUTHOR = {"author": PAGE, "name": PAGE_NAME, "page": True}
ECHO = {"author": PAGE, "page": True, "echo": True, "thread": USER}
POST = {n: f"{PAGE}_9000000000000{n:02d}" for n in (1, 2, 3, 4, 77, 78, 80, 84, 86, 90, 92)}
C = "fb_comment"
P = "fb_post"
PHOTO_REPLY_URL = CDN + "471234567_1234567890123456_1234567890123456789_n.jpg?_nc_cat=1&oh=00_AYC"
PHOTO_POST_URL = CDN + "316000000_900000000000079_4000000000000000000_n.jpg?_nc_cat=2&oh=00_AYE"
GIF_URL = "https://video.xx.fbcdn.net/v/t42.3356-2/10000000_gif.mp4?_nc_cat=1&oh=00_AYD"
OWN_PHOTO_URL = CDN + "490000000_900000000000091_5_n.jpg?_nc_cat=4&oh=00_AYG"
VIDEO_URL = "https://video.xx.fbcdn.net/v/t42.1790-2/480000000_900000000000085_n.mp4"

# fixture -> (items in the order parse_payload returns them, ignored kinds, unknown reasons)
# fmt: off
CASES: dict[str, tuple[list[dict[str, Any]], list[str], list[str]]] = {
    "fb_comment_add.json": ([
        want(C, "add", COMMENT1, "2025-03-22T18:20:04+00:00", post=POST1,
             text="When is the next food drive?", **JO),
    ], [], []),
    "fb_comment_reply_photo.json": ([
        want(C, "add", "900000000000001_700000000000010", "2025-03-22T18:21:40+00:00",
             post=POST1, parent=COMMENT1, author="6000000000000043", name="Sam",
             attachments=[("image", PHOTO_REPLY_URL + "&oe=67E5A1B2")]),
    ], [], []),
    "fb_comment_video.json": ([
        want(C, "add", "900000000000002_700000000000020", "2025-03-22T19:00:00+00:00",
             post=POST[2], author="6000000000000045", name="Priya", text="this made my day",
             attachments=[("video", GIF_URL)]),
    ], [], []),
    "fb_comment_edited.json": ([
        want(C, "edited", COMMENT1, "2025-03-22T18:23:20+00:00", post=POST1,
             text="When is the next food drive? We could really use it this month.", **JO),
    ], [], []),
    "fb_comment_edit_verb.json": ([  # the older verb spelling 'edit'
        want(C, "edited", "900000000000001_700000000000011", "2025-03-22T18:43:20+00:00",
             post=POST1, author="6000000000000046", name="Lee",
             text="Sorry, wrong date - Sunday not Saturday"),
    ], [], []),
    "fb_comment_remove.json": ([
        want(C, "remove", COMMENT1, "2025-03-22T18:25:00+00:00", post=POST1,
             author="6000000000000042"),
    ], [], []),
    "fb_comment_hide.json": ([
        want(C, "hide", COMMENT1, "2025-03-22T18:26:40+00:00", post=POST1),
    ], [], []),
    "fb_comment_unhide.json": ([
        want(C, "unhide", COMMENT1, "2025-03-22T18:28:20+00:00", post=POST1),
    ], [], []),
    "fb_comment_no_author.json": ([
        want(C, "add", "900000000000003_700000000000030", "2025-03-22T19:33:20+00:00",
             post=POST[3], text="Is the helpline open at weekends?"),
        want(C, "add", "900000000000003_700000000000031", "2025-03-22T19:33:24+00:00",
             post=POST[3], parent="900000000000003_700000000000030", author="6000000000000047",
             text="I think so, I called last Sunday"),
    ], [], []),
    "fb_comment_unicode.json": ([  # lone surrogate and NUL become U+FFFD; the rest is kept
        want(C, "add", "900000000000001_700000000000060", "2025-03-22T22:36:40+00:00",
             post=POST1, author="6000000000000055", name="Zoë Åström",
             text="äöå café 💛 zero\u200bwidth \u202eRTL bad\ufffd nul\ufffdend"),
    ], [], []),
    "fb_comment_edit_before_add.json": ([  # the edit's entry comes first in the body
        want(C, "add", "900000000000004_700000000000050", "2025-03-22T22:03:20+00:00",
             post=POST[4], author="6000000000000054", name="Jamie",
             text="Could someone ring me back on 07700 900123"),
        want(C, "edited", "900000000000004_700000000000050", "2025-03-22T22:05:00+00:00",
             post=POST[4], author="6000000000000054", name="Jamie",
             text="Could someone ring me back please"),
    ], [], []),
    "fb_page_reply.json": ([
        want(C, "add", "900000000000001_700000000000012", "2025-03-22T18:25:50+00:00",
             post=POST1, parent=COMMENT1, **PAGE_AUTHOR,
             text="Thanks Jo, we've sent you a private message with the details."),
    ], [], []),
    "fb_post_status.json": ([
        want(P, "add", POST[77], "2017-11-29T09:50:30+00:00", post=POST[77],
             text="Can I volunteer on Saturday?", **ANA),
    ], [], []),
    "fb_post_photo.json": ([
        want(P, "add", POST[78], "2017-11-29T09:51:40+00:00", post=POST[78], text="our stall",
             attachments=[("image", PHOTO_POST_URL + "&oe=5A2C0000")], **ANA),
    ], [], []),
    "fb_post_photos.json": ([
        want(P, "add", POST[80], "2025-03-22T19:50:00+00:00", post=POST[80],
             author="6000000000000048", name="Chris", text="Photos from the fun run!",
             attachments=[("image", CDN + f"480000000_90000000000008{n}_{n}_n.jpg")
                          for n in (1, 2, 3)]),
    ], [], []),
    "fb_post_video.json": ([
        want(P, "add", POST[84], "2025-03-22T20:06:40+00:00", post=POST[84],
             author="6000000000000049", name="Morgan", text="Our choir at the winter concert",
             attachments=[("video", VIDEO_URL + "?_nc_cat=3&oh=00_AYF")]),
    ], [], []),
    "fb_post_share.json": ([
        want(P, "add", POST[86], "2025-03-22T20:23:20+00:00", post=POST[86],
             author="6000000000000050", name="Rowan", text="Worth a read",
             attachments=[("share", "https://www.example.org/news/local-support-groups")]),
    ], [], []),
    "fb_post_edited.json": ([
        want(P, "edited", POST[77], "2017-11-29T10:06:40+00:00", post=POST[77],
             text="Can I volunteer on Saturday or Sunday?", **ANA),
    ], [], []),
    "fb_post_remove.json": ([
        want(P, "remove", POST[77], "2017-11-29T10:08:20+00:00", post=POST[77],
             author="6000000000000044"),
    ], [], []),
    "fb_page_own_post.json": ([
        want(P, "add", POST[90], "2025-03-22T20:40:00+00:00", post=POST[90], **PAGE_AUTHOR,
             text="A lovely afternoon at the family picnic - thank you to everyone who came!",
             attachments=[("image", OWN_PHOTO_URL)]),
    ], [], []),
    "fb_reactions.json": ([], ["feed.reaction"] * 3, []),
    "fb_feed_batch.json": ([  # two entries (two Pages), five changes, one a reaction
        want(C, "add", "900000000000001_700000000000040", "2025-03-22T21:46:41+00:00",
             post=POST1, author="6000000000000051", name="Dee",
             text="Does anyone know a group for dads?"),
        want(P, "add", POST[92], "2025-03-22T21:46:43+00:00", post=POST[92],
             author="6000000000000053", name="Alex", text="Thank you all for last week"),
        want(C, "add", "910000000000001_710000000000001", "2025-03-22T21:46:51+00:00",
             account=PAGE2, post=f"{PAGE2}_910000000000001", author="6100000000000001",
             name="Fran", text="What time does the group start?"),
        want(C, "add", "910000000000001_710000000000002", "2025-03-22T21:46:55+00:00",
             account=PAGE2, post=f"{PAGE2}_910000000000001",
             parent="910000000000001_710000000000001", author=PAGE2, name="Northside Carers",
             page=True, text="Hi Fran, 7pm every Tuesday."),
    ], ["feed.reaction"], []),
    "fb_feed_unknown.json": (
        [], [], ["feed item 'event' not understood", "change field 'mention' not understood"],
    ),
    "fb_dm_text_image.json": ([
        dm("m_AbC1dEf2", "2026-07-29T08:00:04.523+00:00", text="Hi, is the shelter open today?"),
        dm("m_AbC1dEf3", "2026-07-29T08:00:09.001+00:00",
           attachments=[("image", MSG_CDN + "1000000000000001&signature=AbCd")]),
    ], [], []),
    "fb_dm_attachments.json": ([
        dm(f"m_att_{kind}", f"2026-07-29T08:16:4{n}+00:00", author=USER2, text=text,
           attachments=[(shown, url)])
        for n, kind, shown, text, url in [
            (0, "audio", "audio", None, MSG_CDN + "2001"),
            (1, "video", "video", None, MSG_CDN + "2002"),
            (2, "file", "file", None, MSG_CDN + "2003"),
            (3, "reel", "reel", None, MSG_CDN + "2004"),
            (4, "ig_reel", "ig_reel", None, MSG_CDN + "2005"),
            (5, "fallback", "fallback", "see https://www.example.org/help",
             "https://www.example.org/help"),
            (6, "template", "template", None, None),
            (7, "sticker_both", "sticker", None, MSG_CDN + "2007"),  # image duplicate dropped
            (8, "sticker_legacy", "sticker", None, MSG_CDN + "2008"),  # image + sticker_id
            (9, "sticker_only", "sticker", None, MSG_CDN + "2009"),
        ]
    ], [], []),
    "fb_dm_reply_to.json": ([
        dm("m_AbC1dEf4", "2026-07-29T08:01:40+00:00", parent="m_ZyX8",
           text="Yes please, Saturday works"),
    ], [], []),
    "fb_dm_echo.json": ([  # the bot's own send, then a human in the Page inbox
        dm("m_ZyX9", "2026-07-29T08:08:19.880+00:00", text="Yes, 9-5.", **ECHO,
           app_id="1517776481860111", metadata="bot:reply:42"),
        dm("m_ZyX10", "2026-07-29T08:08:20+00:00", app_id="263902037430900", **ECHO,
           text="Hi, this is Sarah from the team - how can I help?"),
    ], [], []),
    "fb_dm_edit.json": ([
        dm("m_AbC1dEf2", "2016-03-22T17:47:36.463+00:00", verb="edited",
           text="Hi, is the shelter open tomorrow?"),
        dm("m_AbC1dEf2", "2016-03-22T17:48:20+00:00", verb="edited",
           text="Hi, is the shelter open on Sunday?"),
    ], [], []),
    "fb_dm_ignored.json": (
        [], [f"fb_dm.{kind}" for kind in
             ("reaction", "read", "delivery", "postback", "referral", "optin")], [],
    ),
    "fb_dm_standby.json": ([  # another app or the Page inbox owns this thread
        dm("m_sb1", "2026-07-29T08:50:00+00:00", author="7392015648120396", standby=True,
           text="Hello? Is anyone there"),
        dm("m_sb2", "2026-07-29T08:50:00.900+00:00", author=PAGE, page=True, echo=True,
           thread="7392015648120396", standby=True, app_id="263902037430900",
           text="Hi, you're talking to Dan from the team."),
    ], [], []),
    "fb_dm_out_of_order.json": ([  # delivered third, first, second: returned in time order
        dm("m_ooo1", "2026-07-29T09:06:41+00:00", text="first"),
        dm("m_ooo2", "2026-07-29T09:06:42+00:00", author=USER2, text="second"),
        dm("m_ooo3", "2026-07-29T09:06:43+00:00", text="third"),
    ], [], []),
    "ig_comment.json": ([
        want("ig_comment", "add", "17867301270523379", "2026-04-16T11:39:51+00:00",
             post="18050310947722369", parent="17865799348089039", author="848067418322071",
             username="some_user", text="Where do I drop off donations?", media="FEED"),
    ], [], []),
    "ig_comment_fb_login.json": ([  # 'comment_id' instead of 'id'; an ad comment
        want("ig_comment", "add", "17867301270523380", "2026-04-16T11:46:40+00:00",
             post="18050310947722370", author="848067418322072", username="another_user",
             text="Is this event free?", media="REELS"),
        want("ig_comment", "add", "17867301270523381", "2026-04-16T11:46:40+00:00",
             post="18050310947722371", author="848067418322073", username="ad_viewer",
             text="How do I sign up?", media="AD"),
    ], [], []),
    "ig_own_reply.json": ([
        want("ig_comment", "add", "17867301270523382", "2026-04-16T11:48:20+00:00",
             post="18050310947722369", parent="17867301270523379", author=IG,
             username="harbourlights", page=True, media="FEED",
             text="@some_user drop-off is at the hall, 10-4"),
    ], [], []),
    "ig_live_comment.json": ([
        want("ig_comment", "add", "17867301270523390", "2026-04-16T12:03:20+00:00",
             post="18050310947722400", author="848067418322074", username="live_fan",
             text="Hello from Leeds!", media="LIVE"),
    ], [], []),
    "ig_mention_comment.json": ([
        want("ig_mention", "add", "17894227972186120", "2018-03-09T19:16:08+00:00",
             account=IG_MENTIONED, post="17918195224117851"),
    ], [], []),
    "ig_mention_caption.json": ([  # no comment_id: the media is the item
        want("ig_mention", "add", "17918195224117852", "2018-03-09T19:16:40+00:00",
             account=IG_MENTIONED, post="17918195224117852"),
    ], [], []),
    "ig_dm_batch.json": ([
        ig_dm("aWdfZG1fMTc4", "2026-07-29T08:03:10.662+00:00", parent="17900000000000000",
              text="Love this!"),
        ig_dm("aWdfZG1fMTc5", "2026-07-29T08:03:20+00:00",
              attachments=[("story_mention", IG_CDN + "1001")]),
        ig_dm("aWdfZG1fMTgw", "2026-07-29T08:05:00+00:00",
              attachments=[("image", IG_CDN + "1002")]),
        ig_dm("aWdfZG1fMTgx", "2026-07-29T08:06:40+00:00", author=IG, page=True, echo=True,
              thread=IG_USER, text="Thanks for writing!"),
        ig_dm("aWdfZG1fMTc4", "2026-07-29T08:08:20+00:00", verb="remove"),
    ], [], []),
    "ig_dm_attachments.json": ([
        ig_dm(f"aWdfatt_{kind}", f"2026-07-29T09:23:2{n}+00:00", author=IG_USER2,
              attachments=[(kind, IG_CDN + str(3001 + n))])
        for n, kind in enumerate(["share", "ig_reel", "reel", "audio", "video", "file"])
    ] + [
        ig_dm("aWdfatt_two", "2026-07-29T09:23:26+00:00", author=IG_USER2, text="two pics",
              attachments=[("image", IG_CDN + "3007"), ("image", IG_CDN + "3008")]),
        ig_dm("aWdfatt_unsupported", "2026-07-29T09:23:27+00:00", author=IG_USER2,
              attachments=[("unsupported", None)]),
    ], [], []),
    "ig_dm_ignored.json": (
        [], ["ig_dm.reaction", "ig_dm.reaction", "ig_dm.read", "ig_dm.postback",
             "ig_dm.referral"], [],
    ),
    # The dashboard "Test" button: changes[]-style, entry id "0", timestamp in seconds as text.
    "ig_dashboard_test.json": ([
        ig_dm("random_mid", "2018-05-27T22:23:44+00:00", account="0", author="12334",
              text="random_text"),
    ], [], []),
}
# fmt: on


@pytest.mark.parametrize("name", sorted(CASES))
def test_fixture_becomes_exactly_these_items(name: str) -> None:
    expected_items, expected_ignored, expected_unknown = CASES[name]
    parsed = parse_fixture(name)
    assert [summary(item) for item in parsed.items] == expected_items
    assert [ignored.kind for ignored in parsed.ignored] == expected_ignored
    assert all(ignored.reason for ignored in parsed.ignored)
    assert [unknown.reason for unknown in parsed.unknown] == expected_unknown
    assert parsed.object == json.loads(load_fixture(name))["object"]


def test_every_webhook_fixture_has_expectations() -> None:
    webhook_fixtures = {
        path.name for path in FIXTURES.glob("*.json") if path.name[:3] in ("fb_", "ig_")
    }
    assert webhook_fixtures == set(CASES)


def test_created_at_reads_feed_seconds_and_messaging_milliseconds() -> None:
    (comment,) = parse_fixture("fb_comment_add.json").items
    first_dm = parse_fixture("fb_dm_text_image.json").items[0]
    assert comment.created_at == datetime(2025, 3, 22, 18, 20, 4, tzinfo=UTC)
    assert first_dm.created_at == datetime(2026, 7, 29, 8, 0, 4, 523000, tzinfo=UTC)
    assert comment.created_at.utcoffset() == first_dm.created_at.utcoffset() == UTC.utcoffset(None)


def test_raw_is_the_change_or_messaging_object_as_received() -> None:
    payload = json.loads(load_fixture("fb_comment_add.json"))
    assert parse_payload(payload).items[0].raw == payload["entry"][0]["changes"][0]
    payload = json.loads(load_fixture("ig_dm_batch.json"))
    assert parse_payload(payload).items[0].raw == payload["entry"][0]["messaging"][0]
    payload = json.loads(load_fixture("ig_dashboard_test.json"))
    assert parse_payload(payload).items[0].raw == payload["entry"][0]["changes"][0]


# --- delivery keys -------------------------------------------------------------------------


def keys(parsed: Parsed) -> list[str]:
    return [item.delivery_key for item in parsed.items]


@pytest.mark.parametrize("name", sorted(CASES))
def test_delivery_keys_are_identical_across_redeliveries(name: str) -> None:
    first = keys(parse_fixture(name))
    again = keys(parse_fixture(name))
    # A redelivery may be re-batched or re-serialised: other key order, other spacing.
    reordered = json.loads(json.dumps(json.loads(load_fixture(name)), sort_keys=True))
    assert first == again == keys(parse_payload(reordered))
    assert all(len(key) <= 128 for key in first)


def test_delivery_keys_are_unique_across_all_fixture_updates() -> None:
    all_keys = [key for name in sorted(CASES) for key in keys(parse_fixture(name))]
    assert len(all_keys) == len(set(all_keys))


def edited_comment(text: str, **extra: Any) -> dict[str, Any]:
    payload = json.loads(load_fixture("fb_comment_edited.json"))
    payload["entry"][0]["changes"][0]["value"].update(message=text, **extra)
    return payload


def test_second_edit_with_new_text_gets_a_new_key() -> None:
    first = keys(parse_payload(edited_comment("first edit")))
    assert keys(parse_payload(edited_comment("first edit"))) == first
    assert keys(parse_payload(edited_comment("second edit"))) != first
    assert keys(parse_payload(edited_comment("first edit", edited_time=1742667999))) != first


def test_edit_that_arrives_before_its_add_is_ordered_after_it() -> None:
    add, edit = parse_fixture("fb_comment_edit_before_add.json").items
    assert (add.verb, edit.verb) == ("add", "edited")
    assert add.external_id == edit.external_id and add.delivery_key != edit.delivery_key
    assert add.created_at < edit.created_at


def test_add_sorts_before_edit_with_the_same_timestamp() -> None:
    payload = json.loads(load_fixture("fb_comment_edit_before_add.json"))
    payload["entry"][0]["changes"][0]["value"]["created_time"] = 1742681000
    assert [item.verb for item in parse_payload(payload).items] == ["add", "edited"]


def test_message_edit_key_includes_num_edit() -> None:
    first, second = parse_fixture("fb_dm_edit.json").items
    assert first.delivery_key == "fb_dm:edited:m_AbC1dEf2:1"
    assert second.delivery_key == "fb_dm:edited:m_AbC1dEf2:2"
    (original,) = [i for i in parse_fixture("fb_dm_text_image.json").items if i.text]
    assert original.delivery_key == "fb_dm:add:m_AbC1dEf2"


def test_instagram_unsend_reuses_the_mid_with_its_own_key() -> None:
    items = parse_fixture("ig_dm_batch.json").items
    sent, unsent = items[0], items[-1]
    assert sent.external_id == unsent.external_id == "aWdfZG1fMTc4"
    assert (sent.verb, unsent.verb) == ("add", "remove")
    assert sent.delivery_key != unsent.delivery_key


def test_hide_unhide_hide_are_three_updates() -> None:
    hide = parse_fixture("fb_comment_hide.json").items[0].delivery_key
    unhide = parse_fixture("fb_comment_unhide.json").items[0].delivery_key
    payload = json.loads(load_fixture("fb_comment_hide.json"))
    payload["entry"][0]["changes"][0]["value"]["created_time"] = 1742668200
    hide_again = parse_payload(payload).items[0].delivery_key
    assert len({hide, unhide, hide_again}) == 3


def test_several_videos_added_to_one_post_are_not_mistaken_for_redeliveries() -> None:
    payload = json.loads(load_fixture("fb_post_video.json"))
    second = copy.deepcopy(payload)
    second["entry"][0]["changes"][0]["value"]["video_id"] = "900000000000095"
    assert keys(parse_payload(payload)) != keys(parse_payload(second))


def test_re_signed_cdn_url_does_not_change_an_edit_key() -> None:
    url = CDN + "471234567_1_n.jpg"
    first = edited_comment("pic", photo=url + "?oh=00_A&oe=1")
    resigned = edited_comment("pic", photo=url + "?oh=00_B&oe=2")
    assert keys(parse_payload(first)) == keys(parse_payload(resigned))


def test_long_ids_are_hashed_so_keys_stay_short() -> None:
    payload = json.loads(load_fixture("fb_dm_reply_to.json"))
    payload["entry"][0]["messaging"][0]["message"]["mid"] = "m_" + "x" * 500
    (item,) = parse_payload(payload).items
    assert item.external_id == "m_" + "x" * 500
    assert item.delivery_key.startswith("fb_dm:add:#") and len(item.delivery_key) <= 128


def test_ids_sent_as_ints_are_coerced_to_the_same_strings_and_keys() -> None:
    as_strings = json.loads(load_fixture("fb_dm_echo.json"))
    as_ints = copy.deepcopy(as_strings)
    entry = as_ints["entry"][0]
    entry["id"] = int(entry["id"])
    for event in entry["messaging"]:
        event["sender"]["id"] = int(event["sender"]["id"])
        event["recipient"]["id"] = int(event["recipient"]["id"])
    expected = parse_payload(as_strings).items
    got = parse_payload(as_ints).items
    assert [summary(i) for i in got] == [summary(i) for i in expected]
    assert keys(parse_payload(as_ints)) == keys(parse_payload(as_strings))
