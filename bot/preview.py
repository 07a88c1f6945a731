"""Trying a message on the rules page: what Haven would find in it, why, and what it would draft.

The same ruleset, reply choice (rules.actions.planned_replies) and templates as the worker, on a
message that goes nowhere: nothing is stored, audited or logged (the text least of all), and
nothing is sent. The page's own posts are judged as the worker judges them: for personal
details and photos only, and never answered.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.cases.wording import Concern, concerns
from bot.config.voices import Voice
from bot.post_check import PAGE_CHECKS, spans_of
from rules import Message, RuleSet
from rules.actions import planned_replies
from rules.model import SAFEGUARDING_TOPS, top_of

MAX_TEXT = 5000
KINDS = ("comment", "dm", "post")
PLATFORMS = ("facebook", "instagram")
# (platform, kind) -> the channel a real delivery of that kind arrives on (webhooks/events/).
CHANNELS = {
    ("facebook", "comment"): "fb_comment",
    ("facebook", "dm"): "fb_dm",
    ("facebook", "post"): "fb_post",
    ("instagram", "comment"): "ig_comment",
    ("instagram", "dm"): "ig_dm",
    ("instagram", "post"): "ig_comment",
}


@dataclass(frozen=True)
class Draft:
    kind: str  # "public", "private" (to a comment's author) or "dm"
    template: str
    text: str


@dataclass(frozen=True)
class Preview:
    concerns: tuple[Concern, ...]
    spans: tuple[tuple[int, int], ...]
    drafts: tuple[Draft, ...]
    hide: bool
    opens_case: str | None  # the case type it would open
    tells_lead: bool  # a safeguarding escalation
    alerts: tuple[str, ...]  # roles alerted besides the escalation


def try_message(
    ruleset: RuleSet,
    text: str,
    *,
    platform: str,
    kind: str,
    own_post: bool,
    voice: Voice,
    descriptions: dict[str, str],
) -> Preview:
    """Judge one message as the worker would, and draft its replies; nothing is kept."""
    channel = CHANNELS.get((platform, kind), "fb_comment")
    message = Message(text=text[:MAX_TEXT], channel=channel, platform=platform, from_page=own_post)
    findings = ruleset.evaluate(message)
    if own_post:
        findings = [f for f in findings if top_of(f.category) in PAGE_CHECKS]
    # One line per concern, in the same words as the queue and the case page.
    found = tuple(concerns(findings, descriptions))
    spans = tuple(s for f in findings for s in spans_of(f))
    drafts: tuple[Draft, ...] = ()
    if not own_post:  # the page never answers itself
        wanted = planned_replies(findings, direct_message=kind == "dm", public_allowed=kind != "dm")
        # In the words of the page chosen: its voice's name, templates and referral line.
        context = {"first_name": "", "page_name": voice.page_name}
        drafts = tuple(
            Draft(
                reply_kind,
                template,
                voice.render(
                    ruleset, template, _reply_channel(platform, reply_kind, channel), context
                ),
            )
            for reply_kind, template in wanted.items()
        )
    cases = [f.actions.open_case for f in findings if f.actions.open_case]
    tells_lead = any(top_of(f.category) in SAFEGUARDING_TOPS for f in findings)
    escalated = {"safeguarding_lead"} if tells_lead else set()
    return Preview(
        concerns=found,
        spans=spans,
        drafts=drafts,
        hide=any(f.actions.hide for f in findings) and kind != "dm" and not own_post,
        opens_case=cases[0].type if cases and not own_post else None,
        tells_lead=tells_lead,
        alerts=tuple(
            dict.fromkeys(r for f in findings for r in f.actions.alert if r not in escalated)
        ),
    )


def _reply_channel(platform: str, kind: str, channel: str) -> str:
    """A private reply to a comment arrives as a DM; a public one where the comment is."""
    if kind == "public":
        return channel
    return "ig_dm" if platform == "instagram" else "fb_dm"
