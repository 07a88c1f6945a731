"""The `dashboard:` section of config.yaml."""

from __future__ import annotations

from pydantic import Field, field_validator

from bot.config.section import Section
from rules import TAXONOMY


class Sessions(Section):
    """How long a signed-in session lasts: idle (no request) and in all, however busy."""

    # Admins and the safeguarding lead and deputy: they can see or act on safeguarding cases.
    idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    moderator_idle_minutes: int = Field(default=120, ge=1, le=24 * 60)
    absolute_hours: float = Field(default=12, gt=0, le=7 * 24)


class Dashboard(Section):
    page_size: int = Field(default=50, ge=1, le=500)
    # Cookies only over HTTPS. Turn off only for a dashboard on http://127.0.0.1 (the demo).
    secure_cookies: bool = True
    # Admins and the safeguarding roles always need a second factor; this adds moderators.
    totp_for_moderators: bool = False
    totp_issuer: str = Field(default="Haven", min_length=1, max_length=40)
    # Failed sign-ins before each further attempt must wait (bot/web/auth/limits.py): for a
    # username (from each address it has signed in from, and from all others together), and
    # for an address over the usernames it has never signed in as. The wait starts at a minute
    # and doubles up to login_max_wait_minutes; nothing is ever blocked for longer.
    login_failures_per_user: int = Field(default=5, ge=1, le=100)
    login_failures_per_ip: int = Field(default=20, ge=1, le=1000)
    login_max_wait_minutes: int = Field(default=15, ge=1, le=1440)
    # A quiet spell this long after the last wait forgets the failures.
    login_window_minutes: int = Field(default=15, ge=1, le=1440)
    # An address a user signed in from within this many days is theirs: strangers' failures
    # elsewhere never slow them down there.
    login_known_address_days: int = Field(default=90, ge=1, le=3650)
    # Behind one reverse proxy that sets X-Forwarded-For, count attempts by the client's
    # address instead of the proxy's. Leave off when Haven is reached directly.
    behind_proxy: bool = False
    sessions: Sessions = Sessions()
    # Working hours from arrival to the first thing a person does about a flagged item.
    response_target_hours: float = Field(default=4, gt=0, le=24 * 30)
    # Tighter (or looser) targets by top-level category, e.g. {risk: 1}.
    response_target_hours_by_category: dict[str, float] = Field(
        default_factory=lambda: {"risk": 1.0}
    )
    case_outcomes: tuple[str, ...] = (
        "supported",
        "matched with support",
        "referred to a professional service",
        "safeguarding referral made",
        "no response",
        "no longer needed",
        "duplicate",
    )

    @field_validator("response_target_hours_by_category")
    @classmethod
    def _known_categories(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(TAXONOMY))
        if unknown:
            raise ValueError(f"unknown categories {unknown}; use {sorted(TAXONOMY)}")
        if any(hours <= 0 for hours in value.values()):
            raise ValueError("targets must be more than 0 hours")
        return value

    @field_validator("case_outcomes")
    @classmethod
    def _some_outcomes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value or any(not o.strip() or len(o) > 200 for o in value):
            raise ValueError("case_outcomes needs one or more outcomes of 1 to 200 characters")
        return value

    def target_hours(self, top_category: str) -> float:
        return self.response_target_hours_by_category.get(top_category, self.response_target_hours)
