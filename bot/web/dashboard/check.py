"""Check a post before publishing: what Haven would flag in the page's own post.

The page's posts are held to the photo and names policies (no supported families' photos,
names, schools...). Staff paste a draft here, and may add its photo, and see the
personal-details and photo findings it would raise, with the words highlighted. The same rules
as the running bot, through the app's `Context.ruleset`; the draft and the photo are not stored
or logged anywhere (check_photo.py looks at the photo).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileSize
from wtforms import BooleanField, TextAreaField
from wtforms.validators import Length, Optional

from bot.web.dashboard.base import Segment, haven, highlight
from bot.web.dashboard.check_photo import MAX_PHOTO_BYTES, PhotoCheck, check_photo
from rules import Attachment, Message
from rules import Finding as RuleFinding

bp = Blueprint("check", __name__)

MAX_POST = 5000
# What the page's own posts are checked for once published (workers/processing.py).
PAGE_CHECKS = frozenset({"pii", "photo"})
WHERE = {"facebook": "fb_post", "instagram": "ig_comment"}


# The form's other fields and the multipart wrapping, on top of the photo itself.
FORM_OVERHEAD = 64 * 1024


class CheckForm(FlaskForm):
    text = TextAreaField(
        "Draft post", validators=[Optional(), Length(max=MAX_POST)], render_kw={"rows": 8}
    )
    photo = BooleanField("It has a photo or video")
    picture = FileField(
        "Its photo (optional; looked at, never kept)",
        validators=[
            FileSize(
                max_size=MAX_PHOTO_BYTES,
                message=f"The photo is larger than {MAX_PHOTO_BYTES // (1024 * 1024)} MB.",
            )
        ],
    )

    def validate(self, extra_validators=None) -> bool:  # type: ignore[no-untyped-def,override]
        if not super().validate(extra_validators):
            return False
        if not (self.text.data or "").strip() and not self.picture.data:
            self.text.errors.append("Paste the draft post, or choose its photo.")
            return False
        return True


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
    # This page alone takes a photo: a larger body than the app's limit (meta.max_body_bytes),
    # refused from its declared length before a byte of it is read.
    request.max_content_length = MAX_PHOTO_BYTES + FORM_OVERHEAD
    if (request.content_length or 0) > request.max_content_length:
        too_big = f"The photo is larger than {MAX_PHOTO_BYTES // (1024 * 1024)} MB."
        return render_template(
            "dashboard/check.html",
            form=CheckForm(formdata=None),
            result=None,
            photo=None,
            platform="facebook",
            platforms=WHERE,
            too_big=too_big,
        ), 413
    form = CheckForm()
    result: tuple[list[Flag], list[Segment]] | None = None
    photo: PhotoCheck | None = None
    # A plain <select>: WTForms' SelectField warns about its own choice format.
    platform = request.form.get("platform", "facebook")
    platform = platform if platform in WHERE else "facebook"
    if form.validate_on_submit():
        text = form.text.data or ""
        upload = form.picture.data
        data = upload.read() if upload else b""  # in memory only; dropped with the request
        if text.strip():
            result = check_post(text, photo=bool(form.photo.data or data), platform=platform)
        if data:
            photo = check_photo(
                data,
                ruleset=haven().ruleset,
                checks=PAGE_CHECKS,
                caption=text,
                channel=WHERE[platform],
                platform=platform,
            )
    return render_template(
        "dashboard/check.html",
        form=form,
        result=result,
        photo=photo,
        platform=platform,
        platforms=WHERE,
        too_big=None,
    )
