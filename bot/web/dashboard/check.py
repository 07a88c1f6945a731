"""Check a post before publishing: what Haven would flag in the page's own post, and what to do.

The page's posts are held to the photo and names policies (no supported families' photos,
names, schools...). Staff paste a draft here and see the concerns it would raise, with the words
highlighted, and advice that agrees with the page's policy (bot/post_check.py). The same rules
as the running bot, through the app's `Context.ruleset`; the draft is not stored or logged.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, TextAreaField
from wtforms.validators import DataRequired, Length

from bot.post_check import CHANNEL, check_post, families_allowed
from bot.web.dashboard.base import haven, highlight

bp = Blueprint("check", __name__)

MAX_POST = 5000


class CheckForm(FlaskForm):
    text = TextAreaField(
        "Draft post", validators=[DataRequired(), Length(max=MAX_POST)], render_kw={"rows": 8}
    )
    photo = BooleanField("It has a photo or video")


@bp.route("/check", methods=["GET", "POST"])
@login_required
def check() -> ResponseReturnValue:
    form = CheckForm()
    config = haven().settings.config
    pages = {a.id: a for a in config.meta.accounts}
    # Plain <select>s: WTForms' SelectField warns about its own choice format.
    page_id = request.form.get("page", "")
    page = pages.get(page_id) or next(iter(pages.values()), None)
    # A page's post is checked as that page's platform; without pages, as the form says.
    platform = page.platform if page else request.form.get("platform", "facebook")
    platform = platform if platform in CHANNEL else "facebook"
    result = segments = None
    if form.validate_on_submit():
        text = form.text.data or ""
        result = check_post(
            haven().ruleset,
            text,
            photo=bool(form.photo.data),
            platform=platform,
            allow_families=families_allowed(config, page.id if page else None),
        )
        segments = highlight(text, list(result.spans))
    return render_template(
        "dashboard/check.html",
        form=form,
        result=result,
        segments=segments,
        platform=platform,
        platforms=CHANNEL,
        pages=list(pages.values()),
        page=page,
    )
