"""The rules Haven is running, and how often each has matched (all time and recently).

Read from the app's loaded rule set and one grouped count over findings; counts only, so
nothing of any message (safeguarding or not) is shown here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import login_required
from sqlalchemy import case as sql_case
from sqlalchemy import func
from sqlmodel import Session, select

from bot.models import Finding, utcnow
from bot.web.dashboard.base import engine, haven

bp = Blueprint("rules_page", __name__)

RECENT = timedelta(days=30)


@dataclass(frozen=True)
class RuleRow:
    id: str
    pack: str
    category: str
    severity: str
    description: str
    hits: int
    recent: int


@bp.get("/rules")
@login_required
def rules() -> ResponseReturnValue:
    since = utcnow() - RECENT
    with Session(engine()) as db:
        counts = {
            rule: (hits, recent)
            for rule, hits, recent in db.exec(
                select(
                    Finding.rule,
                    func.count(),
                    func.sum(sql_case((Finding.created_at >= since, 1), else_=0)),
                ).group_by(Finding.rule)
            ).all()
        }
    ruleset = haven().ruleset
    rows = [
        RuleRow(
            r.id,
            r.pack,
            r.category,
            r.severity,
            r.description,
            *counts.get(r.id, (0, 0)),
        )
        for r in ruleset.rules
    ]
    pack = request.args.get("pack", "")
    packs = sorted({r.pack for r in rows})
    if pack in packs:
        rows = [r for r in rows if r.pack == pack]
    rows.sort(key=lambda r: (r.pack, r.category, r.id))
    return render_template(
        "dashboard/rules.html", rows=rows, packs=packs, pack=pack, recent_days=RECENT.days
    )
