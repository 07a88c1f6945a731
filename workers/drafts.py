"""Suggested replies from the rule packs' templates. Nothing here sends anything."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlmodel import Session

from bot.audit import record
from bot.config.voices import Voice
from bot.models import Case, Item, ReplyDraft
from rules import Finding, RuleSet
from rules.actions import planned_replies

DM_CHANNELS = frozenset({"fb_dm", "ig_dm"})


def draft_replies(
    session: Session,
    ruleset: RuleSet,
    item: Item,
    findings: Sequence[Finding],
    case: Case | None,
    *,
    voice: Voice,
    skip_kinds: Collection[str] = (),
) -> list[ReplyDraft]:
    """At most one public and one private draft per item, from the highest-priority finding."""
    wanted = planned_replies(
        findings,
        direct_message=item.channel in DM_CHANNELS,
        public_allowed=_can_answer_in_public(item),
    )
    for kind in skip_kinds:
        wanted.pop(kind, None)
    # In the words of the item's page: its voice's name, templates and referral line.
    context = {"first_name": _first_name(item.author_name), "page_name": voice.page_name}
    drafts = []
    for kind, template in wanted.items():
        draft = ReplyDraft(
            item_id=item.id,
            case_id=case.id if case else None,
            kind=kind,
            template=template,
            text=voice.render(ruleset, template, _reply_channel(item, kind), context),
        )
        session.add(draft)
        # Named by the row: its id is known once it is written, with the others (bot/audit).
        record(session, "system", "draft.created", "draft", draft, kind=kind, template=template)
        drafts.append(draft)
    return drafts


def _can_answer_in_public(item: Item) -> bool:
    # Meta allows no public reply on Instagram Live comments, and a removed comment is gone.
    return (
        item.channel not in DM_CHANNELS
        and item.removed_at is None
        and item.media_product_type != "LIVE"
    )


def _reply_channel(item: Item, kind: str) -> str:
    """The channel the reply goes out on: a private reply to a comment arrives as a DM."""
    if kind == "public":
        return item.channel
    return "ig_dm" if item.platform == "instagram" else "fb_dm"


def _first_name(full_name: str | None) -> str:
    """The first word of the display name, or nothing: never the handle or surname."""
    if not full_name:
        return ""
    return full_name.split()[0][:40]
