"""Merging actions (category defaults < rule < config) and the safeguarding override."""

from __future__ import annotations

from .model import SAFEGUARDING_TOPS, Actions, CaseSpec, top_of
from .schema import ActionsDoc


def merge_actions(base: Actions, doc: ActionsDoc | None) -> Actions:
    if doc is None:
        return base
    values = {
        "hide": base.hide,
        "draft_public_reply": base.draft_public_reply,
        "draft_private_reply": base.draft_private_reply,
        "open_case": base.open_case,
        "alert": base.alert,
        "escalate": base.escalate,
    }
    for key in doc.model_fields_set:
        value = getattr(doc, key)
        if key == "open_case" and value is not None:
            value = CaseSpec(type=value.type, priority=value.priority)
        elif key == "alert":
            value = tuple(value or ())
        elif key in ("hide", "escalate"):
            value = bool(value)
        values[key] = value
    return Actions(**values)


def safeguard(category: str, actions: Actions) -> Actions:
    """The safeguarding override: a risk finding always opens an urgent case and escalates."""
    if top_of(category) not in SAFEGUARDING_TOPS:
        return actions
    alert = (
        actions.alert
        if "safeguarding_lead" in actions.alert
        else actions.alert + ("safeguarding_lead",)
    )
    return Actions(
        hide=actions.hide,
        draft_public_reply=actions.draft_public_reply,
        draft_private_reply=actions.draft_private_reply or "risk",
        open_case=CaseSpec(type="safeguarding", priority="urgent"),
        alert=alert,
        escalate=True,
    )


def private_variant(actions: Actions) -> Actions:
    # A DM cannot be hidden or answered in public.
    return Actions(
        hide=False,
        draft_public_reply=None,
        draft_private_reply=actions.draft_private_reply,
        open_case=actions.open_case,
        alert=actions.alert,
        escalate=actions.escalate,
    )
