"""The `data_protection:` section of config.yaml: how long message texts are kept, and when
the safeguarding lead reviews a hold that keeps them longer."""

from __future__ import annotations

from pydantic import Field

from bot.config.section import Section


class DataProtection(Section):
    # Message texts, raw webhook bodies, draft texts and names are removed this many days
    # after they arrived; the minimal case record (type, dates, status, outcome, categories)
    # stays. 90 days is what the charity's webchat policy keeps transcripts for.
    retention_days: int = Field(default=90, ge=1, le=3650)
    # What a page that promised not to save chats (voices.*.retention: not_saved) keeps them
    # for: long enough for staff to read and answer, and no longer.
    minimum_days: int = Field(default=1, ge=1, le=30)
    # Rows purged per table per tick: a large backlog is worked off over a few ticks instead
    # of holding one long transaction against the webhook's writes.
    purge_batch_size: int = Field(default=500, ge=1, le=100_000)
    # A safeguarding hold (the texts of a safeguarding case, kept past the period) is due for
    # the lead's review this many months after it is placed; the lead then extends it, with a
    # new date and a reason, or releases it, and its texts follow the period again.
    hold_review_months: int = Field(default=12, ge=1, le=120)
    # While a review is overdue, the lead is reminded again this often.
    hold_reminder_every_days: int = Field(default=7, ge=1, le=365)
    # How far ahead the retention report looks for "due next".
    report_days_ahead: int = Field(default=7, ge=1, le=365)
    # The public address of Haven, for the status link in Meta's data-deletion answer
    # (e.g. https://haven.example.org). Required by that callback: without it the callback
    # refuses (503), because a link built from the request's Host header is the caller's choice.
    public_url: str = Field(default="", max_length=300, pattern=r"^(https?://[^\s]+)?$")
    # A data-deletion request is taken this long after Meta signed it, and no longer: a
    # recorded one replayed later erases nothing.
    deletion_request_max_age_minutes: int = Field(default=60, ge=5, le=7 * 24 * 60)
