"""Check a post before publishing: what Haven would flag in the page's own post, and what to do.

The page's posts are held to the photo and names policies (no supported families' photos,
names, schools...). Staff paste a draft here, and may add its photo, and see the concerns it
would raise, with the words highlighted, and advice that agrees with the page's policy
(bot/post_check.py). The same rules as the running bot, through the app's `Context.ruleset`;
the draft and the photo are not stored or logged anywhere (check_photo.py looks at the photo).
"""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileSize
from wtforms import BooleanField, TextAreaField
from wtforms.validators import Length, Optional

from bot.post_check import CHANNEL, PAGE_CHECKS, check_post, families_allowed
from bot.web.dashboard.base import haven, highlight
from bot.web.dashboard.check_photo import MAX_PHOTO_BYTES, PhotoCheck, check_photo

bp = Blueprint("check", __name__)

MAX_POST = 5000


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
            segments=None,
            photo=None,
            platform="facebook",
            platforms=CHANNEL,
            pages=[],
            page=None,
            allow_families=False,
            too_big=too_big,
        ), 413
    form = CheckForm()
    config = haven().settings.config
    pages = {a.id: a for a in config.meta.accounts}
    # Plain <select>s: WTForms' SelectField warns about its own choice format.
    page_id = request.form.get("page", "")
    page = pages.get(page_id) or next(iter(pages.values()), None)
    # A page's post is checked as that page's platform; without pages, as the form says.
    platform = page.platform if page else request.form.get("platform", "facebook")
    platform = platform if platform in CHANNEL else "facebook"
    allow_families = families_allowed(config, page.id if page else None)
    result = segments = None
    photo: PhotoCheck | None = None
    if form.validate_on_submit():
        text = form.text.data or ""
        upload = form.picture.data
        data = upload.read() if upload else b""  # in memory only; dropped with the request
        if text.strip():
            result = check_post(
                haven().ruleset,
                text,
                photo=bool(form.photo.data or data),
                platform=platform,
                allow_families=allow_families,
            )
            segments = highlight(text, list(result.spans))
        if data:
            photo = check_photo(
                data,
                ruleset=haven().ruleset,
                checks=PAGE_CHECKS,
                caption=text,
                channel=CHANNEL[platform],
                platform=platform,
                no_family_photos=not allow_families,
            )
    return render_template(
        "dashboard/check.html",
        form=form,
        result=result,
        segments=segments,
        photo=photo,
        platform=platform,
        platforms=CHANNEL,
        pages=list(pages.values()),
        page=page,
        allow_families=allow_families,
        too_big=None,
    )
