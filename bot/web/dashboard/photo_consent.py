"""The photo-consent register page (policy 001): record that the people in a photo agreed.

Staff choose the photo and say who agreed, for whom (initials only), how and for how long.
The photo is hashed in memory and dropped: the register keeps the hash, so the page's own
post of that photo is recognised later (bot/photos/outcome.py), never the photo itself.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlmodel import Session
from wtforms import DateField, StringField
from wtforms.validators import DataRequired, Length, Optional

from bot.db import session_scope
from bot.models.photos import CONSENT_METHODS
from bot.photos.analysis import can_look, photo_hash
from bot.photos.consent import (
    ConsentRefused,
    consent_for,
    record_consent,
    register,
    withdraw_consent,
)
from bot.photos.fetch import PhotoRefused, decode
from bot.web.dashboard.base import actor, engine, haven

bp = Blueprint("photo_consent", __name__)


class ConsentForm(FlaskForm):
    photo = FileField("The photo", validators=[FileRequired("Choose the photo.")])
    description = StringField(
        "What the photo shows (a few words, no names)",
        validators=[DataRequired(), Length(max=120)],
    )
    consented_by = StringField("Who agreed (initials)", validators=[DataRequired(), Length(max=20)])
    consented_for = StringField(
        "For whom: 'self', or the initials of those pictured",
        validators=[DataRequired(), Length(max=60)],
    )
    # Drawn as a plain <select> (WTForms' SelectField warns about its own choice format);
    # record_consent refuses anything not in CONSENT_METHODS.
    method = StringField("How", validators=[DataRequired()])
    given_on = DateField("Given on", validators=[DataRequired()])
    until = DateField("Until (leave empty: until withdrawn)", validators=[Optional()])


@bp.route("/photo-consent", methods=["GET", "POST"])
@login_required
def photo_consent() -> ResponseReturnValue:
    photos = haven().settings.config.photos
    # A photo may be larger than a webhook body (the app's limit); still bounded, in memory.
    request.max_content_length = photos.max_bytes + 64 * 1024
    form = ConsentForm()
    problem = None
    if form.validate_on_submit():
        problem = _record(form)
        if problem is None:
            flash("Consent recorded. Haven keeps the photo's fingerprint, not the photo.", "ok")
            return redirect(url_for("photo_consent.photo_consent"))
    with Session(engine()) as session:
        consents = register(session)
    page = render_template(
        "dashboard/photo_consent.html",
        form=form,
        problem=problem,
        consents=consents,
        methods=CONSENT_METHODS,
        can_look=can_look(),
    )
    # A form that could not be recorded says why, with the status that says so.
    return page, 400 if (problem or form.errors) else 200


@bp.route("/photo-consent/<int:consent_id>/withdraw", methods=["POST"])
@login_required
def withdraw(consent_id: int) -> ResponseReturnValue:
    with session_scope(engine()) as session:
        consent = withdraw_consent(session, actor(), current_user.id, consent_id)
    if consent is None:
        abort(404)
    flash("Consent marked withdrawn. A post of this photo will be flagged again.", "ok")
    return redirect(url_for("photo_consent.photo_consent"))


def _record(form: ConsentForm) -> str | None:
    """Hash the uploaded photo and record the consent; the words of any refusal."""
    if not can_look():
        return "Photos cannot be fingerprinted here: Haven's `photos` extra is not installed."
    photos = haven().settings.config.photos
    data = form.photo.data.read(photos.max_bytes + 1)
    if len(data) > photos.max_bytes:
        return f"The photo is larger than {photos.max_bytes // (1024 * 1024)} MB."
    try:
        decode(data, photos)
        phash = photo_hash(data, max_pixels=photos.max_pixels)
    except (PhotoRefused, ValueError) as refused:
        return f"That file cannot be used: {refused}."
    del data  # nothing of the photo is kept past its fingerprint
    try:
        with session_scope(engine()) as session:
            given = form.given_on.data
            already = consent_for(session, phash, given, photos.match_distance)
            record_consent(
                session,
                actor(),
                current_user.id,
                phash=phash,
                description=form.description.data or "",
                consented_by=form.consented_by.data or "",
                consented_for=form.consented_for.data or "",
                method=form.method.data or "",
                given_on=given,
                until=form.until.data,
            )
    except ConsentRefused as refused:
        return str(refused)
    if already is not None:
        flash(f"This photo was already in the register ({already.description}).", "ok")
    return None
