"""Matching on the case page: topics, proposals, and the steps of an introduction.

The panel (bot/web/templates/cases/_matches.html) reads its data through the `matches_panel`
template global, so the case page itself needs only its include line. Every step first settles
the case in a transaction of its own (withdrawn consent cancels pending introductions, and that
stands even when the step itself is then refused), then takes the step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, flash, request
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy import delete
from sqlmodel import Session, col, select

from bot.audit import record
from bot.cases.record import support_open
from bot.db import session_scope
from bot.directory import introductions as intro_steps
from bot.directory.introductions import Refused
from bot.directory.matching import Proposal, case_topics, places_wording, proposals_for_case
from bot.directory.shares import SHARE_LABELS, introduction_text, shared_details
from bot.directory.vocabulary import KIND_LABELS, TOPICS, topic_label
from bot.models import Case, Item, User, utcnow
from bot.models.directory import CaseTopic, Introduction, SupportResource
from bot.untrusted import ascii_int
from bot.web.dashboard.base import actor, check_case_access, engine, haven
from bot.web.dashboard.case_forms import back_to_case, caseworker_only

bp = Blueprint("matching", __name__)

STATUS_LABELS = {
    "proposed": "proposed: ask the person",
    "person_agreed": "person agreed: ask the supporter",
    "supporter_agreed": "both agreed: ready to introduce",
    "introduced": "introduced",
    "closed": "closed",
    "declined": "declined",
    "cancelled": "cancelled",
}


@dataclass(frozen=True)
class IntroductionView:
    intro: Introduction
    resource: SupportResource
    status_label: str
    steps: list[tuple[str, Any, str]]
    text: str | None
    places: str  # counted now, so taking a place shows at once


def _initials(name: str | None) -> str:
    """The default name to share: initials, the least the person can be known by."""
    parts = [p for p in (name or "").split() if p[:1].isalpha()]
    return "".join(f"{p[0].upper()}." for p in parts[:2])


def _view(db: Session, intro: Introduction, names: dict[int, str]) -> IntroductionView:
    resource = db.get(SupportResource, intro.resource_id)
    assert resource is not None
    steps = [
        (label, at, names.get(who or 0, "Haven" if who is None else "someone"))
        for label, at, who in (
            ("proposed", intro.proposed_at, intro.proposed_by),
            ("person agreed", intro.person_agreed_at, intro.person_agreed_by),
            ("supporter agreed", intro.supporter_agreed_at, intro.supporter_agreed_by),
            ("introduced", intro.introduced_at, intro.introduced_by),
            (intro.status, intro.ended_at, intro.ended_by),
        )
        if at is not None
    ]
    if intro.status == "introduced" or intro.shared_text:
        text = intro.shared_text
    elif intro.status == "supporter_agreed":
        text = introduction_text(shared_details(intro))
    else:
        text = None
    places = places_wording(resource.capacity, resource.load)
    return IntroductionView(intro, resource, STATUS_LABELS[intro.status], steps, text, places)


@bp.app_template_global("matches_panel")
def matches_panel(case: Case) -> dict[str, Any]:
    """Everything the case page's matching panel shows, read in one session."""
    with Session(engine()) as db:
        names = {u.id: u.username for u in db.exec(select(User)).all() if u.id is not None}
        intros = db.exec(
            select(Introduction)
            .where(Introduction.case_id == case.id)
            .order_by(col(Introduction.proposed_at).desc(), col(Introduction.id).desc())
        ).all()
        author = db.exec(
            select(Item.author_name).where(
                Item.case_id == case.id, col(Item.author_name).is_not(None)
            )
        ).first()
        proposals: list[Proposal] = [] if case.status == "closed" else proposals_for_case(db, case)
        return {
            "topics": case_topics(db, case.id),  # type: ignore[arg-type]
            "all_topics": TOPICS,
            "topic_label": topic_label,
            "kind_labels": KIND_LABELS,
            "proposals": proposals,
            "introductions": [_view(db, i, names) for i in intros],
            "share_labels": SHARE_LABELS,
            "default_name": _initials(author),
            "consent_given": case.consent == "given",
            "open": case.status != "closed",
        }


def _step(case_id: int, take: Callable[[Session], str]) -> ResponseReturnValue:
    """Settle the case (committed on its own), then take the step; Refused becomes a message."""
    caseworker_only()
    with session_scope(engine()) as db:
        case = check_case_access(db, case_id) or abort(404)
        if not support_open(db, case):
            abort(403)  # closed on a safeguarding case until the lead opens it
        intro_steps.settle_case(db, case_id, actor_id=current_user.id)
    try:
        with session_scope(engine()) as db:
            message = take(db)
    except Refused as refused:
        flash(str(refused), "error")
    else:
        flash(message, "info")
    return back_to_case(case_id, "matches")


def _case_of_introduction(intro_id: int) -> int:
    with Session(engine()) as db:
        intro = db.get(Introduction, intro_id) or abort(404)
        return intro.case_id


@bp.post("/cases/<int:case_id>/topics")
@login_required
def set_topics(case_id: int) -> ResponseReturnValue:
    chosen = sorted({t for t in request.form.getlist("topics") if t in TOPICS})

    def take(db: Session) -> str:
        before = set(case_topics(db, case_id))
        db.execute(delete(CaseTopic).where(col(CaseTopic.case_id) == case_id))
        for topic in chosen:
            db.add(CaseTopic(case_id=case_id, topic=topic, set_by=current_user.id))
        if before != set(chosen):
            record(db, actor(), "case.topics_set", "case", case_id, topics=chosen)
        return "Topics saved." if chosen else "Topics cleared."

    return _step(case_id, take)


@bp.post("/cases/<int:case_id>/introductions")
@login_required
def propose(case_id: int) -> ResponseReturnValue:
    raw = request.form.get("resource_id", "")

    def take(db: Session) -> str:
        case = db.get(Case, case_id) or abort(404)
        # The explanation is worked out again here, not taken from the form.
        offered = {p.candidate.id: p for p in proposals_for_case(db, case) if p.offered}
        number = ascii_int(raw)
        proposal = offered.get(number) if number is not None else None
        if proposal is None:
            raise Refused("That entry is not offered for this case now (full, inactive or taken).")
        intro_steps.propose(
            db,
            case_id,
            proposal.candidate.id,
            actor_id=current_user.id,
            explanation=proposal.why,
        )
        return f"Proposed {proposal.candidate.name}. Next: ask the person."

    return _step(case_id, take)


@bp.post("/introductions/<int:intro_id>/person")
@login_required
def person_agreed(intro_id: int) -> ResponseReturnValue:
    ticked = set(request.form.getlist("share"))
    shares = {k: request.form.get(f"share_{k}", "") for k in SHARE_LABELS if k in ticked}

    def take(db: Session) -> str:
        intro_steps.person_agreed(
            db, intro_id, shares, actor_id=current_user.id, ruleset=haven().ruleset
        )
        return "Recorded: the person agreed. Next: ask the supporter."

    return _step(_case_of_introduction(intro_id), take)


@bp.post("/introductions/<int:intro_id>/supporter")
@login_required
def supporter_agreed(intro_id: int) -> ResponseReturnValue:
    accepts = request.form.getlist("accept")

    def take(db: Session) -> str:
        intro_steps.supporter_agreed(db, intro_id, accepts, actor_id=current_user.id)
        return "Recorded: the supporter agreed. Check the text, then make the introduction."

    return _step(_case_of_introduction(intro_id), take)


@bp.post("/introductions/<int:intro_id>/introduce")
@login_required
def introduce(intro_id: int) -> ResponseReturnValue:
    def take(db: Session) -> str:
        intro_steps.introduce(db, intro_id, actor_id=current_user.id, now=utcnow())
        return "Introduced. Pass on exactly the text shown, and nothing more."

    return _step(_case_of_introduction(intro_id), take)


@bp.post("/introductions/<int:intro_id>/end")
@login_required
def end(intro_id: int) -> ResponseReturnValue:
    status = request.form.get("status", "")
    reason = (request.form.get("reason") or "").strip()

    def take(db: Session) -> str:
        intro_steps.end(db, intro_id, status, reason, actor_id=current_user.id)
        return f"Introduction {status}."

    return _step(_case_of_introduction(intro_id), take)
