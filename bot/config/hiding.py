"""The `hiding:` section of config.yaml: what Haven hides on its own for safeguarding reasons.

The rules decide most hides (personal details, abuse, spam). Two safeguarding cases are decided
here, over the rules: a public comment that says a child is in danger and who or where the child
is, and a comment from someone who may be at risk of suicide or self-harm.
"""

from __future__ import annotations

from pydantic import field_validator

from bot.config.section import Section
from rules import CATEGORIES


class Hiding(Section):
    # Hide, at once, a public comment that tells of a child in danger together with something
    # that identifies the child (a name, a school, an address). Meta keeps it visible to the
    # person who wrote it (and, on Facebook, their friends), so they are not told they were hidden.
    child_in_danger: bool = True
    # Findings that mean "a child is in danger" ...
    child_in_danger_categories: tuple[str, ...] = ("risk.child_at_risk",)
    # ... and findings that identify the child, alongside one of those.
    identifying_categories: tuple[str, ...] = (
        "pii.child_name",
        "pii.person_name",
        "pii.school",
        "pii.address",
        "pii.postcode",
        "pii.phone",
        "pii.email",
        "pii.id_number",
        "photo.child",
    )
    # false (the default): a comment about suicide or self-harm stays visible, even when a rule
    # would hide it for the personal details in it, because hiding silences a cry for help.
    # true: such comments are hidden like any other when a rule says so.
    hide_cries_for_help: bool = False
    cry_for_help_categories: tuple[str, ...] = ("risk.suicide", "risk.self_harm")

    @field_validator(
        "child_in_danger_categories", "identifying_categories", "cry_for_help_categories"
    )
    @classmethod
    def _known(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - CATEGORIES)
        if unknown:
            raise ValueError(f"unknown categories {', '.join(unknown)} (see DESIGN.md taxonomy)")
        return value
