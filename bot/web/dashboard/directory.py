"""The support directory in the dashboard: admins keep it, every member of staff can read it.

Contact routes are how staff reach a supporter or service; they appear on these staff pages
only, never in anything sent to the person or passed on in an introduction.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlmodel import Session, col, select

from bot.audit import record
from bot.db import session_scope
from bot.directory.vocabulary import (
    KIND_LABELS,
    TOPICS,
    ResourceForm,
    read_resource_form,
    topic_label,
)
from bot.models import utcnow
from bot.models.directory import RESOURCE_KINDS, Introduction, SupportResource
from bot.web.dashboard.base import actor, engine

bp = Blueprint("directory", __name__)

# Keeping the directory is the page admin's job (DESIGN.md); everyone else reads it.
EDITORS = frozenset({"admin"})
FIELDS = (
    "kind",
    "name",
    "description",
    "topics",
    "area",
    "capacity",
    "load",
    "contact_route",
    "availability",
)


@bp.app_template_filter("topic_label")
def _topic_label(topic: str) -> str:
    return topic_label(topic)


def _editor() -> None:
    if current_user.role not in EDITORS:
        abort(403)


def _template_helpers() -> dict[str, object]:
    return {
        "kinds": RESOURCE_KINDS,
        "kind_labels": KIND_LABELS,
        "topics": TOPICS,
        "topic_label": topic_label,
        "can_edit": current_user.role in EDITORS,
    }


@bp.get("/directory")
@login_required
def listing() -> ResponseReturnValue:
    kind = request.args.get("kind", "")
    show = request.args.get("show", "active")
    query = select(SupportResource)
    if kind in RESOURCE_KINDS:
        query = query.where(SupportResource.kind == kind)
    if show != "all":
        query = query.where(col(SupportResource.active).is_(True))
    with Session(engine()) as db:
        rows = db.exec(query.order_by(col(SupportResource.kind), col(SupportResource.name))).all()
    return render_template(
        "directory/list.html", rows=rows, kind=kind, show=show, **_template_helpers()
    )


def _form_values(resource: SupportResource | None) -> dict[str, object]:
    if resource is None:
        return {"kind": "peer_supporter", "topics": [], "load": 0}
    return {name: getattr(resource, name) for name in FIELDS}


@bp.get("/directory/new")
@login_required
def new() -> ResponseReturnValue:
    _editor()
    return render_template(
        "directory/edit.html", resource=None, values=_form_values(None), **_template_helpers()
    )


@bp.get("/directory/<int:resource_id>/edit")
@login_required
def edit(resource_id: int) -> ResponseReturnValue:
    _editor()
    with Session(engine()) as db:
        resource = db.get(SupportResource, resource_id) or abort(404)
    return render_template(
        "directory/edit.html",
        resource=resource,
        values=_form_values(resource),
        **_template_helpers(),
    )


def _apply(resource: SupportResource, form: ResourceForm) -> list[str]:
    """Copy the checked form onto the entry; returns the names of the fields that changed."""
    changed = []
    for name in FIELDS:
        value = getattr(form, name)
        if getattr(resource, name) != value:
            setattr(resource, name, value)
            changed.append(name)
    return changed


@bp.post("/directory/new")
@bp.post("/directory/<int:resource_id>/edit")
@login_required
def save(resource_id: int | None = None) -> ResponseReturnValue:
    _editor()
    form = read_resource_form(request.form.to_dict(), request.form.getlist("topics"))
    if form.errors:
        for error in form.errors:
            flash(error, "error")
        values = {**request.form.to_dict(), "topics": request.form.getlist("topics")}
        with Session(engine()) as db:
            resource = db.get(SupportResource, resource_id) if resource_id else None
        return render_template(
            "directory/edit.html", resource=resource, values=values, **_template_helpers()
        ), 400
    now = utcnow()
    with session_scope(engine()) as db:
        if resource_id is None:
            resource = SupportResource(
                kind=form.kind,
                name=form.name,
                contact_route="",
                created_at=now,
                created_by=current_user.id,
            )
        else:
            resource = db.get(SupportResource, resource_id) or abort(404)
        changed = _apply(resource, form)
        resource.updated_at, resource.updated_by = now, current_user.id
        db.add(resource)
        db.flush()
        # Which fields changed, never their values: contact routes stay out of the audit log.
        action = "directory.added" if resource_id is None else "directory.edited"
        record(db, actor(), action, "support_resource", resource.id, fields=sorted(changed))
        saved_id = resource.id
    flash(f"Saved {form.name}.", "info")
    return redirect(url_for("directory.listing", _anchor=f"resource-{saved_id}"))


@bp.post("/directory/<int:resource_id>/active")
@login_required
def set_active(resource_id: int) -> ResponseReturnValue:
    """Deactivate (no new proposals; introductions already made go on) or reactivate."""
    _editor()
    active = request.form.get("active") == "1"
    with session_scope(engine()) as db:
        resource = db.get(SupportResource, resource_id) or abort(404)
        if resource.active != active:
            resource.active, resource.updated_at = active, utcnow()
            resource.updated_by = current_user.id
            db.add(resource)
            action = "directory.reactivated" if active else "directory.deactivated"
            record(db, actor(), action, "support_resource", resource_id)
        pending = db.exec(
            select(Introduction.id).where(
                Introduction.resource_id == resource_id,
                col(Introduction.status).in_(("proposed", "person_agreed", "supporter_agreed")),
            )
        ).all()
        name = resource.name
    message = f"{name} is {'active' if active else 'no longer offered'}."
    if not active and pending:
        message += f" {len(pending)} pending introduction(s) still name them: see those cases."
    flash(message, "info")
    return redirect(url_for("directory.listing", show="all"))
