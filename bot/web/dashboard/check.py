"""Check a post before publishing: what Haven would flag in the page's own post.

The page's posts are held to the photo and names policies (no supported families' photos,
names, schools...). Staff paste a draft here and see the personal-details and photo findings
it would raise, with the words highlighted. The same rules as the running bot, through the
app's `Context.ruleset`; the draft is not stored or logged anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, TextAreaField
from wtforms.validators import DataRequired, Length

from bot.web.dashboard.base import Segment, haven, highlight
from rules import Attachment, Message
from rules import Finding as RuleFinding

bp = Blueprint("check", __name__)

MAX_POST = 5000
# What the page's own posts are checked for once published (workers/processing.py).
PAGE_CHECKS = frozenset({"pii", "photo"})
WHERE = {"facebook": "fb_post", "instagram": "ig_comment"}


class CheckForm(FlaskForm):
    text = TextAreaField(
        "Draft post", validators=[DataRequired(), Length(max=MAX_POST)], render_kw={"rows": 8}
    )
    photo = BooleanField("It has a photo or video")


@dataclass(frozen=True)
class Flag:
    category: str
    severity: str
    description: str
    words: list[str]


def check_post(text: str, *, photo: bool, platform: str) -> tuple[list[Flag], list[Segment]]:
    """The personal-details and photo findings a page post would raise, and the marked text."""
    ruleset = haven().ruleset
    message = Message(
        text=text,
        channel=WHERE.get(platform, "fb_post"),
        platform=platform,
        attachments=(Attachment("image"),) if photo else (),
        from_page=True,
    )
    findings = [f for f in ruleset.evaluate(message) if f.category.split(".", 1)[0] in PAGE_CHECKS]
    descriptions = {rule.id: rule.description for rule in ruleset.rules}
    spans = [span for f in findings for span in _spans(f)]
    flags = [
        Flag(
            f.category,
            f.severity,
            descriptions.get(f.rule, ""),
            [text[s:e] for s, e in _spans(f)],
        )
        for f in findings
    ]
    return flags, highlight(text, spans)


def _spans(finding: RuleFinding) -> list[tuple[int, int]]:
    return list(finding.spans or ((finding.span,) if finding.span else ()))


@bp.route("/check", methods=["GET", "POST"])
@login_required
def check() -> ResponseReturnValue:
    form = CheckForm()
    result = None
    # A plain <select>: WTForms' SelectField warns about its own choice format.
    platform = request.form.get("platform", "facebook")
    platform = platform if platform in WHERE else "facebook"
    if form.validate_on_submit():
        result = check_post(form.text.data or "", photo=bool(form.photo.data), platform=platform)
    return render_template(
        "dashboard/check.html", form=form, result=result, platform=platform, platforms=WHERE
    )
