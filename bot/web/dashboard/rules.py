"""The rules Haven is running, how often each has matched, the learned stage's checks beside
them, and a box to try a message.

Read from the app's loaded rule set and one grouped count over findings; counts only, so
nothing of any message (safeguarding or not) is shown here. A message tried here goes through
bot/preview.py and nowhere else: it is not stored, audited or logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import login_required
from flask_wtf import FlaskForm
from sqlalchemy import case as sql_case
from sqlalchemy import func
from sqlmodel import Session, select
from wtforms import BooleanField, TextAreaField
from wtforms.validators import DataRequired, Length

from bot.config.voices import voice_for
from bot.models import Finding, utcnow
from bot.preview import KINDS, MAX_TEXT, PLATFORMS, Preview, try_message
from bot.semantic import availability
from bot.web.dashboard.base import engine, haven, highlight
from rules.semantic.catalogue import MODES, model_checks

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


class TryForm(FlaskForm):
    text = TextAreaField(
        "Message", validators=[DataRequired(), Length(max=MAX_TEXT)], render_kw={"rows": 5}
    )
    own_post = BooleanField("Written by the page itself (its own post)")


@bp.get("/rules")
@login_required
def rules() -> ResponseReturnValue:
    return _page(TryForm(), None)


@bp.post("/rules/try")
@login_required
def try_it() -> ResponseReturnValue:
    form = TryForm()
    if not form.validate_on_submit():
        return _page(form, None), 400
    # Plain <select>s: WTForms' SelectField warns about its own choice format.
    config = haven().settings.config
    pages = {a.id: a for a in config.meta.accounts}
    page = pages.get(request.form.get("page", ""))
    # A page's message is tried as that page's platform, in its voice; without one, as the
    # organisation speaks.
    platform = page.platform if page else request.form.get("platform", "facebook")
    kind = request.form.get("kind", "comment")
    ruleset = haven().ruleset_naming_words
    descriptions = {r.id: r.description for r in ruleset.rules}
    descriptions.update({c.rule: c.looks_for for c in model_checks(ruleset)})
    preview = try_message(
        ruleset,
        form.text.data or "",
        platform=platform if platform in PLATFORMS else "facebook",
        kind=kind if kind in KINDS else "comment",
        own_post=bool(form.own_post.data),
        voice=voice_for(config, page.id if page else None),
        descriptions=descriptions,
    )
    return _page(form, preview, platform=platform, kind=kind, page_id=page.id if page else "")


def _page(
    form: TryForm,
    preview: Preview | None,
    *,
    platform: str = "facebook",
    kind: str = "comment",
    page_id: str = "",
) -> str:
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
    segments = highlight(form.text.data or "", list(preview.spans)) if preview else None
    accounts = haven().settings.config.meta.accounts  # a page choice only when there are several
    return render_template(
        "dashboard/rules.html",
        rows=rows,
        packs=packs,
        pack=pack,
        recent_days=RECENT.days,
        checks=model_checks(ruleset),
        modes=MODES,
        stage=availability(haven().settings.config.rules.semantic).reason,
        form=form,
        preview=preview,
        segments=segments,
        platforms=PLATFORMS,
        platform=platform,
        kinds=KINDS,
        kind=kind,
        pages=accounts if len(accounts) > 1 else [],
        page_id=page_id,
    )
