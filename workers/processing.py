"""From a stored item to findings, a case and drafted replies, in one transaction."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.audit import record
from bot.cases.hiding import hide_on_arrival
from bot.config import HavenConfig
from bot.judging import message_of
from bot.models import Finding, Item, utcnow
from bot.notify.alerts import raise_alerts_for_item
from bot.notify.out_of_hours import reply_out_of_hours
from bot.photos.look import PhotoLook
from bot.photos.outcome import settle_photos
from bot.post_check import PAGE_CHECKS
from rules import Finding as RuleFinding
from rules import RuleSet, categories_of
from workers.batch_context import BatchContext, prepare
from workers.cases import attach_to_case
from workers.consent import join_private_conversation, read_reply
from workers.drafts import DM_CHANNELS, draft_replies
from workers.versions import (
    STATE_VERBS,
    apply_state_update,
    inherit_state,
    newer_version_exists,
    supersede_older_versions,
)

log = logging.getLogger(__name__)


def claim_item(engine: Engine, item_id: int) -> bool:
    """Take an item for processing; False if another worker has it or it is done.

    A conditional UPDATE is the lock: a re-delivered or duplicated job finds nothing to claim.
    """
    with engine.begin() as connection:
        result = connection.execute(
            update(Item)
            .where(Item.id == item_id, Item.status == "received")
            .values(status="processing", attempts=Item.attempts + 1, status_changed_at=utcnow())
        )
    return result.rowcount == 1


def release_item(engine: Engine, item_id: int, *, error: str) -> None:
    """Give a claimed item back after a failed attempt."""
    with engine.begin() as connection:
        connection.execute(
            update(Item)
            .where(Item.id == item_id, Item.status == "processing")
            .values(status="received", status_changed_at=utcnow(), error=error[:500])
        )


def handle_item(
    session: Session,
    ruleset: RuleSet,
    item_id: int,
    *,
    config: HavenConfig | None = None,
    judged: list[RuleFinding] | None = None,
    batch: BatchContext | None = None,
    photos: Sequence[PhotoLook] = (),
) -> list[str]:
    """Judge a claimed item and record the outcome; returns the categories found.

    `config` routes alerts and sets office hours (defaults when None), as the item's page
    sees it (its voice: bot/config/voices.py).
    `judged` is what the rules already found in the item's message when a batch judged many at
    once (batches.py), which also locked every version first and read ahead what its items
    share (`batch`, workers/batch_context.py). `photos` is what was seen in its pictures
    (workers/photos.py), looked at before this transaction.
    """
    item = session.get(Item, item_id)
    if item is None:
        raise LookupError(f"item {item_id} does not exist")
    if batch is None:
        batch = prepare(session, [item], config or HavenConfig(), read_ahead=False)
        session.refresh(item)  # as the version that held the lock left it
    voice = batch.voice(item.account_id)
    config = voice.config
    if not item.known_account or item.standby:
        # Unknown pages are kept for an admin to look at, never acted on; standby threads
        # belong to another app or a person in the Page inbox.
        _finish(session, item, "skipped", [])
        return []
    if item.verb in STATE_VERBS:
        apply_state_update(session, item)
        _finish(session, item, "processed", [])
        return []
    versions = batch.versions_of(item)
    inherit_state(item, versions)
    if judged is None:
        findings = ruleset.evaluate(message_of(item, no_family_posts=voice.no_family_posts))
    else:
        findings = list(judged)
    if newer_version_exists(item, versions):
        # An older text that arrived late: only risk in it still matters (see versions.py).
        risk = [f for f in findings if f.category.startswith("risk.")]
        _store_findings(session, item, risk)
        attach_to_case(session, item, risk, batch.open_cases)
        raise_alerts_for_item(session, ruleset, item, risk, config)
        _finish(session, item, "superseded", categories_of(risk))
        return categories_of(risk)
    answered = supersede_older_versions(session, item, versions)
    if item.from_page:
        # The page's own posts and replies are checked for personal details and photos
        # (staff must not post families' names or pictures) but never answered.
        # Its own private messages (echoes) are between the page and one person: not checked.
        public = item.channel not in DM_CHANNELS
        findings = [f for f in findings if public and f.category.split(".")[0] in PAGE_CHECKS]
    findings = settle_photos(session, item, findings, list(photos), config.photos)
    _store_findings(session, item, findings)
    # A message in the private conversation a private reply started joins that reply's case.
    joined = join_private_conversation(session, item, batch.conversations)
    case = attach_to_case(session, item, findings, batch.open_cases) or joined
    if not item.from_page and not item.is_echo:
        draft_replies(session, ruleset, item, findings, case, voice=voice, skip_kinds=answered)
        hide_on_arrival(session, item, findings, config.hiding)
    raise_alerts_for_item(session, ruleset, item, findings, config)
    if not item.from_page and not item.is_echo:
        reply_out_of_hours(session, ruleset, config, item, case)
    read_reply(session, item, case, follow_up_days=config.cases.follow_up_days)
    categories = categories_of(findings)
    _finish(session, item, "processed", categories)
    return categories


def _store_findings(session: Session, item: Item, findings: list[RuleFinding]) -> None:
    for finding in findings:
        session.add(_finding_row(item, finding))


def needs_judging(item: Item) -> bool:
    """Whether handle_item runs the rules on this item (state updates and skipped ones: no)."""
    return item.known_account and not item.standby and item.verb not in STATE_VERBS


def _finding_row(item: Item, finding: RuleFinding) -> Finding:
    start, end = finding.span if finding.span else (None, None)
    return Finding(
        item_id=item.id,
        rule=finding.rule,
        category=finding.category,
        severity=finding.severity,
        score=finding.score,
        span_start=start,
        span_end=end,
        explanation=finding.explanation.as_json() if finding.explanation else None,
    )


def _finish(session: Session, item: Item, status: str, categories: list[str]) -> None:
    item.status = status
    item.status_changed_at = utcnow()
    session.add(item)
    record(session, "system", f"item.{status}", "item", item.id, categories=categories)
    # Ids and categories only: message text never reaches the logs.
    log.info("item %s %s: %s", item.id, status, ",".join(categories) or "no findings")
