"""Sample Meta deliveries for the demo, in the documented webhook shapes, with made-up people.

Every text here is invented for the demo; none comes from a real person.
"""

from __future__ import annotations

from typing import Any

DEMO_PAGE_ID = "104000000000001"
DEMO_IG_ID = "17841400000000001"
POST = f"{DEMO_PAGE_ID}_900000000000001"
# Jo asks for help in comment 1; the demo sends Haven's private reply (a dry run) and Jo
# answers "yes please" in Messenger. In a dry run no recipient id comes back from Meta, so
# the commenter's own id stands in for it (workers/consent.py): Jo's DM comes from that id.
JO = ("6000000000000042", "Jo Walker")
JO_COMMENT = "900000000000001_700000000000001"


def _comment(n: int, author: tuple[str, str], text: str, at: int, **extra: Any) -> dict[str, Any]:
    return {
        "field": "feed",
        "value": {
            "item": "comment",
            "verb": "add",
            "post_id": POST,
            "comment_id": f"900000000000001_70000000000{n:04d}",
            "parent_id": POST,
            "from": {"id": author[0], "name": author[1]},
            "message": text,
            "created_time": at,
            **extra,
        },
    }


def _page(changes: list[dict[str, Any]], at: int) -> dict[str, Any]:
    return {"object": "page", "entry": [{"id": DEMO_PAGE_ID, "time": at, "changes": changes}]}


def _dm(sender: str, mid: str, text: str, at_ms: int, *, instagram: bool = False) -> dict[str, Any]:
    account = DEMO_IG_ID if instagram else DEMO_PAGE_ID
    return {
        "object": "instagram" if instagram else "page",
        "entry": [
            {
                "id": account,
                "time": at_ms,
                "messaging": [
                    {
                        "sender": {"id": sender},
                        "recipient": {"id": account},
                        "timestamp": at_ms,
                        "message": {"mid": mid, "text": text},
                    }
                ],
            }
        ],
    }


def demo_deliveries(now: int) -> list[dict[str, Any]]:
    """About a dozen deliveries as Meta would send them, timed in the last hour before `now`."""
    t = now - 3600
    jo, sam, ana = (
        JO,
        ("6000000000000043", "Sam Ellis"),
        (
            "6000000000000044",
            "Ana Price",
        ),
    )
    return [
        _page(
            [
                _comment(
                    1,
                    jo,
                    "Does anyone else feel like they're failing? I really need someone "
                    "to talk to about our adoption, it's been so hard lately.",
                    t + 60,
                ),
                _comment(2, sam, "Great event on Saturday, thank you all!", t + 90),
            ],
            t + 95,
        ),
        _page(
            [
                _comment(
                    3,
                    ana,
                    "I can't do this anymore. Everyone would be better off without me.",
                    t + 300,
                )
            ],
            t + 301,
        ),
        _page(
            [
                _comment(
                    4,
                    ("6000000000000045", "Pat Morgan"),
                    "So proud of our foster "
                    "daughter Lily, she started at St Mary's Primary this week! Call me "
                    "on 07700 900123 if you want to meet up.",
                    t + 600,
                )
            ],
            t + 601,
        ),
        _page(
            [
                _comment(
                    5,
                    ("6000000000000046", "Chris Dale"),
                    "Can anyone tell me if I can "
                    "stop contact with the birth family? Do I need a solicitor?",
                    t + 900,
                )
            ],
            t + 901,
        ),
        _page(
            [
                _comment(
                    6,
                    ("6000000000000047", "Win Big"),
                    "Earn £500 a day from home!!! "
                    "DM me now, limited spaces, click bit.ly/fr33money",
                    t + 1000,
                )
            ],
            t + 1001,
        ),
        _page(
            [
                _comment(
                    7,
                    ("6000000000000048", "Lee Hart"),
                    "You lot are useless, I've "
                    "emailed three times about my complaint and nobody has replied.",
                    t + 1200,
                )
            ],
            t + 1201,
        ),
        _page(
            [_comment(8, sam, "", t + 1300, photo="https://scontent.xx.fbcdn.net/v/demo.jpg")],
            t + 1301,
        ),
        _dm(
            "7392015648120394",
            "m_demo_1",
            "Hi, my partner checks my phone and I'm scared to go home tonight. What can I do?",
            (t + 1500) * 1000,
        ),
        _dm(
            "7392015648120395",
            "m_demo_2",
            "Is the Tuesday support group still on this week?",
            (t + 1600) * 1000,
        ),
        _dm(
            "6841100000000001",
            "aWdfZG1fZGVtbzE",
            "Been struggling to cope since the "
            "placement started, could I talk to someone who has been through it?",
            (t + 1700) * 1000,
            instagram=True,
        ),
        {
            "object": "instagram",
            "entry": [
                {
                    "id": DEMO_IG_ID,
                    "time": t + 1800,
                    "changes": [
                        {
                            "field": "comments",
                            "value": {
                                "id": "17867301270500001",
                                "text": "Has anyone tried microdosing for anxiety? "
                                "Thinking of giving it a go.",
                                "from": {"id": "848067418300001", "username": "demo_user"},
                                "media": {"id": "18050310947700001", "media_product_type": "FEED"},
                            },
                        }
                    ],
                }
            ],
        },
        # Meta delivers at least once: the first delivery again, which must change nothing.
        _page(
            [
                _comment(
                    1,
                    jo,
                    "Does anyone else feel like they're failing? I really need "
                    "someone to talk to about our adoption, it's been so hard lately.",
                    t + 60,
                ),
                _comment(2, sam, "Great event on Saturday, thank you all!", t + 90),
            ],
            t + 95,
        ),
    ]


def demo_consent_reply(now: int) -> dict[str, Any]:
    """Jo's answer to the private reply that asked for consent, sent once that reply has gone."""
    return _dm(JO[0], "m_demo_consent_1", "Yes please, that would really help", now * 1000)
