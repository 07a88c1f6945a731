"""Checking the page's own post before it is published: what Haven would flag, and what to do.

The page's posts are held to the photo and names policies: policy 002 never names or shows a
supported family on social media, *even with their permission*; policy 004 asks that no family
is identifiable; policy 001 publishes a photo only with the consent of everyone pictured. The
advice given must agree with the page's policy, so a page that forbids family posts (the
default) is never told to "check consent" about a family's names or photos.

Nothing here stores, logs or audits the draft: it is text in, concerns and advice out.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.cases.wording import Concern, concerns
from bot.config import HavenConfig
from bot.config.voices import voice_for
from rules import Attachment, Message, RuleSet
from rules import Finding as RuleFinding
from rules.model import top_of

# What the page's own posts are checked for once published (workers/processing.py).
PAGE_CHECKS = frozenset({"pii", "photo"})
CHANNEL = {"facebook": "fb_post", "instagram": "ig_comment"}
FAMILY_RULES = frozenset({"pii-family-named", "pii-family-children-named"})
NAME_CATEGORIES = frozenset({"pii.person_name", "pii.child_name"})


@dataclass(frozen=True)
class PostCheck:
    concerns: tuple[Concern, ...]
    spans: tuple[tuple[int, int], ...]
    advice: tuple[str, ...]


def families_allowed(config: HavenConfig, account_id: str | None) -> bool:
    """Whether the page lets staff post about families at all; strict (False) unless its voice
    or the organisation says so (bot/config/voices.py): policy 002 is the strictest."""
    return voice_for(config, account_id).family_posts


def check_post(
    ruleset: RuleSet, text: str, *, photo: bool, platform: str, allow_families: bool = False
) -> PostCheck:
    """The personal-details and photo concerns a page post would raise, and what to do."""
    message = Message(
        text=text,
        channel=CHANNEL.get(platform, "fb_post"),
        platform=platform,
        attachments=(Attachment("image"),) if photo else (),
        from_page=True,
    )
    findings = [f for f in ruleset.evaluate(message) if top_of(f.category) in PAGE_CHECKS]
    descriptions = {rule.id: rule.description for rule in ruleset.rules}
    # One line per concern (bot/cases/wording.py), every match marked: each is to take out.
    found = tuple(concerns(findings, descriptions))
    spans = tuple(span for f in findings for span in spans_of(f))
    return PostCheck(found, spans, advice(found, allow_families=allow_families))


def advice(concerns: tuple[Concern, ...], *, allow_families: bool) -> tuple[str, ...]:
    """What to do before publishing, in the page policy's terms (never "check consent" for
    a family's names, which no permission makes publishable under policy 002)."""
    said: list[str] = []
    family = any(e.rule in FAMILY_RULES for c in concerns for e in c.evidence)
    if family or any(c.category in NAME_CATEGORIES and c.severity != "low" for c in concerns):
        said.append(
            "Take the names out before publishing. The families we support are never named on "
            "social media, even with their permission."
            if not allow_families
            else "Take the names out before publishing: naming a family we support breaks "
            "their confidentiality, whatever they have said."
        )
    elif any(c.category in NAME_CATEGORIES for c in concerns):
        said.append("If a name here is a family we support, or one of their children, take it out.")
    if any(top_of(c.category) == "photo" for c in concerns):
        said.append(
            "Do not use a photo of a family we support, even if the children's faces cannot be "
            "seen and even if they say yes; only planned media stories may."
            if not allow_families
            else "Use a photo only if everyone in it has agreed to it being published, and "
            "never one that shows where a family lives."
        )
    if any(top_of(c.category) == "pii" and c.category not in NAME_CATEGORIES for c in concerns):
        said.append(
            "Take out phone numbers, schools, addresses, places and other details that could "
            "identify someone, and turn location sharing off for the post."
        )
    return tuple(said)


def spans_of(finding: RuleFinding) -> list[tuple[int, int]]:
    """Every stretch of the text a finding marks (one span, or several)."""
    return list(finding.spans or ((finding.span,) if finding.span else ()))
