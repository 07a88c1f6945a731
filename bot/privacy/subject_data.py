"""Where a person's data lives: every table that names or quotes them, in the order erasure runs.

Subject access and erasure (bot/privacy/subject.py) walk `SUBJECT_DATA`, so a table added
later that holds anything about a platform user must be added here, with its two functions:

- `export(session, platform, author_id) -> list[dict]`: every row about that person, as
  JSON-able dicts (datetimes may be left as datetimes; the exporter serialises them).
- `erase(session, platform, author_id, held_case_ids) -> int`: blank or delete what is held
  about that person and return how many rows were changed. Rows that belong to a case in
  `held_case_ids` (a safeguarding hold) must be kept as they are. It must be idempotent: a
  second call changes nothing and returns 0. It only adds to the session; the caller commits
  once, so an erasure is all or nothing.

The order matters: the core tables come last and unlink the person from items and cases, so a
table that finds the person through their cases or items (consent records, introductions)
still finds them when its turn comes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from bot.privacy import consent_data, core_data, directory_data, photo_data, record_data

ExportFn = Callable[[Session, str, str], list[dict[str, Any]]]
EraseFn = Callable[[Session, str, str, set[int]], int]


@dataclass(frozen=True)
class SubjectData:
    """One kind of personal data: a name for reports, and how to export and erase it."""

    name: str
    export: ExportFn
    erase: EraseFn


SUBJECT_DATA: tuple[SubjectData, ...] = (
    # Found through the person's cases and items: before the core tables unlink them.
    SubjectData("consent_and_case_notes", consent_data.export_consent, consent_data.erase_consent),
    SubjectData(
        "introductions", directory_data.export_introductions, directory_data.erase_introductions
    ),
    SubjectData("case_topics", directory_data.export_case_topics, directory_data.erase_case_topics),
    SubjectData("safeguarding_record", record_data.export_record, record_data.erase_record),
    SubjectData(
        "photo_observations", photo_data.export_observations, photo_data.erase_observations
    ),
    # The core tables; cases and then items go last, as they are how the others find the person.
    SubjectData("inbound_events", core_data.export_events, core_data.erase_events),
    SubjectData("reply_drafts", core_data.export_drafts, core_data.erase_drafts),
    SubjectData("outbound_actions", core_data.export_actions, core_data.nothing_to_erase),
    SubjectData("case_events", core_data.export_case_events, core_data.erase_case_events),
    SubjectData("person_marks", core_data.export_marks, core_data.erase_marks),
    SubjectData("cases", core_data.export_cases, core_data.erase_cases),
    SubjectData("items", core_data.export_items, core_data.erase_items),
)
