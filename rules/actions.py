"""Merging actions (category defaults < rule < config) and the safeguarding override."""

from __future__ import annotations

from collections.abc import Sequence

from .model import SAFEGUARDING_TOPS, Actions, CaseSpec, Finding, top_of
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


def reply_order(findings: Sequence[Finding]) -> list[Finding]:
    """The findings in the order their replies are chosen: as found, except that out-of-remit
    findings go ahead of any help request.

    Policy 000 §6: a question we cannot answer (legal, medical) gets the boundary reply even
    when it also reads as a plea for help; the help reply would offer support we cannot give.
    """
    ordered = list(findings)
    boundary = [f for f in ordered if top_of(f.category) == "out_of_remit"]
    helping = [i for i, f in enumerate(ordered) if top_of(f.category) == "help_request"]
    if not boundary or not helping:
        return ordered
    rest = [f for f in ordered if top_of(f.category) != "out_of_remit"]
    first_help = rest.index(ordered[helping[0]])
    return rest[:first_help] + boundary + rest[first_help:]


def planned_replies(
    findings: Sequence[Finding], *, direct_message: bool, public_allowed: bool
) -> dict[str, str]:
    """The reply templates chosen for some findings: at most one per kind ("dm" or "private",
    and "public"), from the first finding in reply order that asks for one.

    Risk is never answered in public, not even by a draft someone might approve in a hurry:
    the person is reached privately and the lead decides the rest.
    """
    escalating = any(f.actions.escalate for f in findings)
    wanted: dict[str, str] = {}
    for finding in reply_order(findings):
        private = finding.actions.draft_private_reply
        public = finding.actions.draft_public_reply
        if private:
            wanted.setdefault("dm" if direct_message else "private", private)
        if public and not escalating and public_allowed:
            wanted.setdefault("public", public)
    return wanted
