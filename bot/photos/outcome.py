"""What an item's pictures add to its judgement, recorded in the item's own transaction.

Each picture leaves an observation (counts, reasons, hash, or why it was not looked at). Its
findings join the item's, so cases, drafts and alerts follow as they do for words. The page's
own photos are matched against the consent register: consent on record is noted on the item;
people in it and no consent on record is flagged to whoever approves posts.
"""

from __future__ import annotations

from dataclasses import replace

from sqlmodel import Session, select

from bot.config.photos import Photos
from bot.models import Item, utcnow
from bot.models.photos import PhotoObservation
from bot.photos.consent import consent_for
from bot.photos.look import PhotoLook
from rules import Actions, CaseSpec, Finding

PEOPLE_CATEGORIES = frozenset({"photo.family", "photo.child"})
# The photo pack's rule that queues every photo the page posts for a consent check: with
# consent on record for every picture of the post, the register has answered it.
PAGE_POST_RULE = "photo-page-post"
NO_CONSENT_RULE = "photo-no-consent"
# A visitor's picture of people is a privacy matter a moderator follows through (the private
# reply asking them to take it down, their answer): it opens a case, as personal details do.
PEOPLE_CASE = CaseSpec(type="privacy", priority="normal")
DM_CHANNELS = frozenset({"fb_dm", "ig_dm"})


def settle_photos(
    session: Session,
    item: Item,
    findings: list[Finding],
    looks: list[PhotoLook],
    config: Photos,
) -> list[Finding]:
    """Record what each picture showed; return the item's findings with the pictures' added."""
    if not looks:
        return findings
    stored = set(
        session.exec(select(PhotoObservation.position).where(PhotoObservation.item_id == item.id))
    )
    page_post = item.from_page and item.channel not in DM_CHANNELS
    added: list[Finding] = []
    consented = 0
    for look in looks:
        photo_findings, consent_id, note = list(look.findings), None, look.note
        if page_post and look.phash is not None:
            consent = consent_for(session, look.phash, utcnow().date(), config.match_distance)
            if consent is not None:
                consented += 1
                consent_id = consent.id
                note = f"consent on record: {consent.description} (given {consent.given_on})"
                photo_findings = [f for f in photo_findings if f.category not in PEOPLE_CATEGORIES]
            elif look.people:
                photo_findings.append(_no_consent(config))
                note = "people in the photo and no consent on record"
        elif not item.from_page:
            photo_findings = [_opens_case(f) for f in photo_findings]
        added += photo_findings
        if look.position not in stored:
            session.add(_observation(item, look, consent_id, note))
    if page_post and consented == len(looks):
        findings = [f for f in findings if f.rule != PAGE_POST_RULE]
    return _one_per_rule([*findings, *added])


def _no_consent(config: Photos) -> Finding:
    return Finding(
        category="photo.family",
        rule=NO_CONSENT_RULE,
        severity="medium",
        score=0.9,
        span=None,
        # The page's own post: never hidden or answered; the person who approves posts checks it.
        actions=Actions(alert=tuple(config.approver_roles)),
    )


def _opens_case(finding: Finding) -> Finding:
    if finding.category not in PEOPLE_CATEGORIES or finding.actions.open_case is not None:
        return finding
    return replace(finding, actions=replace(finding.actions, open_case=PEOPLE_CASE))


def _one_per_rule(findings: list[Finding]) -> list[Finding]:
    """One finding per rule on an item (its unique key): two pictures with people are one."""
    seen: dict[str, Finding] = {}
    for finding in findings:
        seen.setdefault(finding.rule, finding)
    return list(seen.values())


def _observation(
    item: Item, look: PhotoLook, consent_id: int | None, note: str | None
) -> PhotoObservation:
    analysis = look.analysis
    return PhotoObservation(
        item_id=item.id,
        position=look.position,
        url_digest=look.url_digest,
        status=look.status,
        phash=look.phash,
        people=analysis.people if analysis else 0,
        faces=analysis.faces if analysis else 0,
        is_screenshot=analysis.is_screenshot if analysis else False,
        is_document=analysis.is_document if analysis else False,
        has_location=bool(analysis and analysis.exif_gps),
        reasons=list(analysis.reasons) if analysis else [],
        note=note[:300] if note else None,
        consent_id=consent_id,
    )
