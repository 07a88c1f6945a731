"""The `cases:` section of config.yaml: follow-ups and case notes."""

from __future__ import annotations

from pydantic import Field, field_validator

from bot.config.section import Section


class Cases(Section):
    # Days after consent is given (or a match is made) before staff are reminded to check in.
    follow_up_days: int = Field(default=3, ge=1, le=90)
    # Case notes are initials, a date and a type of support. Free text is off by default
    # (data protection by default); an organisation that needs it turns it on here.
    free_text_notes: bool = False
    support_types: tuple[str, ...] = (
        "someone to talk to",
        "peer connection",
        "support group",
        "information about services",
        "referral to a professional service",
        "safeguarding referral",
        "check-in",
    )

    @field_validator("support_types")
    @classmethod
    def _some_types(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value or any(not t.strip() or len(t) > 80 for t in value):
            raise ValueError("support_types needs one or more types of 1 to 80 characters")
        return value
