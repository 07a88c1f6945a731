"""The words that weighed most in a learned finding, weighed when a member of staff asks.

Naming them takes one more embedding per word of the message: most of what judging a message
cost the worker (docs/benchmarks.md, issue 20). Few findings are ever opened that far, so the
worker stores its judgement without them (`rules.semantic.explain_words: false`, the default)
and "why?" offers to weigh them: the stored message is judged again with the running rules,
the words are weighed for that finding's category, and kept on the finding, so the next person
to open "why?" reads them without asking. Asking again changes nothing.

Who may ask is who may see the finding: the item's page decides by the safeguarding wall
(bot/cases/access.py), and so does this. Weighing a safeguarding case's finding shows its
content, so it is a look (bot/cases/looks.py); a refusal stays on the record as the case
page's do.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from enum import Enum
from typing import Any

from sqlmodel import Session, col, select

from bot.audit import record
from bot.cases.access import case_of_item, is_safeguarding, may_see_case
from bot.cases.looks import record_looks
from bot.cases.wording import WEIGHED, WORDS_GONE, words_to_weigh
from bot.config import HavenConfig
from bot.config.voices import voice_for
from bot.judging import message_of
from bot.models import Finding, Item
from rules import RuleSet
from rules.model import Explanation
from rules.semantic import weighing_words

log = logging.getLogger(__name__)

VIA = "“why?” words"  # where the look was, for the audit log: "(on the “why?” words)"


class Outcome(Enum):
    WEIGHED = "weighed"
    ALREADY = "already"  # weighed before (or by the worker): nothing new
    MISSING = "missing"  # no such finding
    REFUSED = "refused"  # behind the safeguarding wall for this role
    NOT_LEARNED = "not_learned"  # a written rule's finding: its words are marked already
    OUT_OF_DATE = "out_of_date"  # an edit replaced the text it was about
    NO_STAGE = "no_stage"  # the learned stage is not running, or no longer reads the category
    TEXT_GONE = "text_gone"  # the message was removed (retention, a person's erasure)


def weigh_finding(
    db: Session,
    ruleset: RuleSet,
    config: HavenConfig,
    finding_id: int,
    *,
    role: str | None,
    actor: str,
    now: datetime,
) -> Outcome:
    """Weigh the words of one stored learned finding and keep them on it, if this role may
    see it. Message text is neither logged nor audited: only ids."""
    finding = db.get(Finding, finding_id)
    if finding is None:
        return Outcome.MISSING
    item = db.get(Item, finding.item_id)
    case = case_of_item(db, item)
    walled = case.id if case is not None and is_safeguarding(case) else None
    if not may_see_case(role, case):
        if walled is not None:
            record(db, actor, "case.view_refused", "case", walled, via=VIA)
        return Outcome.REFUSED
    if walled is not None:
        record_looks(db, actor, [walled], VIA, now)
    explained = finding.explanation or {}
    if explained.get("method") != "classifier":
        return Outcome.NOT_LEARNED
    if explained.get(WORDS_GONE) or (item is not None and not item.text):
        return Outcome.TEXT_GONE
    if not words_to_weigh(explained):
        return Outcome.ALREADY
    if finding.superseded_at is not None:
        return Outcome.OUT_OF_DATE
    assert item is not None  # a finding's item is a foreign key
    voice = voice_for(config, item.account_id)
    message = message_of(item, no_family_posts=voice.no_family_posts)
    words = weighing_words(ruleset, message, finding.category)
    if words is None:
        return Outcome.NO_STAGE
    finding.explanation = _with_words(explained, words, WEIGHED)
    db.add(finding)
    log.info("finding %s of item %s: %d words weighed on demand", finding.id, item.id, len(words))
    return Outcome.WEIGHED


def forget_weighed_words(db: Session, item_ids: Sequence[int]) -> int:
    """Take a message's words out of its findings' "why?" when its text goes (retention, a
    person's erasure): they are the person's words, and "why?" must not go on quoting what was
    removed, nor offer to weigh what is no longer there. Returns the findings changed."""
    if not item_ids:
        return 0
    changed = 0
    query = select(Finding).where(col(Finding.item_id).in_(list(item_ids)))
    for finding in db.exec(query).all():
        explained = finding.explanation or {}
        if explained.get("method") != "classifier" or explained.get(WORDS_GONE):
            continue
        finding.explanation = _with_words(explained, (), WORDS_GONE)
        db.add(finding)
        changed += 1
    return changed


def _with_words(explained: dict[str, Any], words: Sequence[str], mark: str) -> dict[str, Any]:
    """The explanation naming these words (none: none), its sentence rebuilt to match, and
    marked how they came (WEIGHED or WORDS_GONE, never both). A new dict: the JSON column does
    not see changes made inside the one it holds."""
    kept = {k: v for k, v in explained.items() if k not in (WEIGHED, WORDS_GONE)}
    reason = Explanation.from_json({**kept, "words": list(words)}).reason()
    return {**kept, "words": list(words), "reason": reason, mark: True}
