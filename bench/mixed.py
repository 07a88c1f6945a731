"""Mixed deliveries for the worker benches (issue 20): what a busy page's worker judges.

A fixed cycle of texts, so every run carries the same mix: help requests (a finding, a case
and a drafted reply), risk (a safeguarding case, an escalation and its alert), personal
details (hidden on arrival, an alert), out-of-remit questions, abuse, and plain chat that
the rules find nothing in. One in five is a direct message; one in six is a second message
from the previous person in the same thread, which joins their case.
"""

from __future__ import annotations

import time

from loadgen import Delivery, signed_delivery

MIX = (
    "I really need someone to talk to about our adoption, it's been so hard lately",
    "Is the group on this week? We had such a lovely time last month",
    "Can someone message me about the carers support group please, I'm struggling",
    "Could someone ring me back on 07700 900123, I need to talk to someone",
    "Thank you all so much for the coffee morning, the kids loved it",
    "I can't do this any more, I want to kill myself",
    "Do I need a solicitor for the family court hearing next month?",
    "Does anyone else feel like they're failing? I really need someone to talk to",
    "What time does the Saturday drop-in start?",
    "You lot are useless idiots, shut up",
)


def mixed_deliveries(count: int, *, page_id: str, secret: str, tag: str) -> list[Delivery]:
    """`count` unique deliveries of the mix; `tag` goes into every id so runs never collide."""
    now = int(time.time())
    out: list[Delivery] = []
    author = ""
    for n in range(count):
        text = MIX[n % len(MIX)]
        if n % 6 != 5 or not author:  # else: the same person again, in the same thread
            author = f"64{tag}{n:06d}"
        dm = n % 5 == 4
        out.append(signed_delivery(page_id, secret, f"mix{tag}", tag, n, author, text, now, dm=dm))
    return out
