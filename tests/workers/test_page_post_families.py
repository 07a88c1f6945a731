"""The page's own post naming a family, as Meta delivers it: a strong finding, no reply."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.models import Finding, Item, ReplyDraft
from tests.helpers import PAGE_ID
from tests.workers.support import store_and_judge


def _page_post(text: str) -> dict:
    """The page's own status post, in the feed change shape Meta documents."""
    post_id = f"{PAGE_ID}_900000000000777"
    value = {
        "item": "status",
        "verb": "add",
        "post_id": post_id,
        "from": {"id": PAGE_ID, "name": "Test page"},
        "message": text,
        "created_time": 1_790_000_000,
    }
    entry = {"id": PAGE_ID, "time": 1_790_000_001, "changes": [{"field": "feed", "value": value}]}
    return {"object": "page", "entry": [entry]}


def test_a_family_named_in_the_pages_own_post_is_a_strong_finding_and_no_reply(
    migrated_engine: Engine,
) -> None:
    text = "Lovely to visit Sarah and Tom Jones and their twins today!"
    payload = _page_post(text)
    item_id = store_and_judge(migrated_engine, payload)
    with Session(migrated_engine) as session:
        item = session.get(Item, item_id)
        findings = {f.rule: f for f in session.exec(select(Finding)).all()}
        drafts = session.exec(select(ReplyDraft)).all()
    assert item is not None and item.from_page and item.channel == "fb_post"
    family = findings["pii-family-named"]
    assert family.severity == "high" and family.category == "pii.person_name"
    assert text[family.span_start : family.span_end] == "Sarah and Tom Jones"
    assert drafts == []  # the page never answers itself
