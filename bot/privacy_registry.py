"""Which tables hold data about a platform user, and how to export and erase it.

Subject access and erasure must cover every table that names or quotes a person, including
tables added later by other parts of Haven. Each part registers its own tables here, beside the
code that knows them, so the export and the erasure never go stale:

    from bot.privacy_registry import register_subject_data

    def _export(session, platform, author_id) -> list[dict]: ...
    def _erase(session, platform, author_id, held_case_ids) -> int: ...

    register_subject_data("support_consents", _export, _erase)

Rules for the two functions:
- `export_fn(session, platform, author_id) -> list[dict]`: every row about that person, as
  JSON-able dicts (datetimes may be left as datetimes; the exporter serialises them).
- `erase_fn(session, platform, author_id, held_case_ids) -> int`: blank or delete what is held
  about that person and return how many rows were changed. Rows that belong to a case in
  `held_case_ids` (a safeguarding hold) must be kept as they are. It must be idempotent: a
  second call changes nothing and returns 0. It only adds to the session; the caller commits
  once, so an erasure is all or nothing.

Erasures run in `order` (lowest first; 100 unless given). The core tables register with 900:
they unlink the person from items and cases last, so a table that finds the person through
their cases or items (consent records, matches) still finds them when its turn comes.

Registration happens at import time. `registered()` imports `bot.models` (which imports every
models module) and the core registrations first, so registering from a models module or from
`bot/privacy_core.py` is always seen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

ExportFn = Callable[[Session, str, str], list[dict[str, Any]]]
EraseFn = Callable[[Session, str, str, set[int]], int]


@dataclass(frozen=True)
class SubjectData:
    """One registered kind of personal data: a name for reports, and how to export and erase."""

    name: str
    export: ExportFn
    erase: EraseFn
    order: int = 100


_REGISTRY: dict[str, SubjectData] = {}


def register_subject_data(
    name: str, export_fn: ExportFn, erase_fn: EraseFn, *, order: int = 100
) -> None:
    """Register (or re-register, e.g. on module reload) a table's export and erase functions."""
    _REGISTRY[name] = SubjectData(name=name, export=export_fn, erase=erase_fn, order=order)


def registered() -> list[SubjectData]:
    """Every registration, in the order erasures run (`order`, then registration order)."""
    # Imported here, not at the top: the core registrations import models, which may
    # themselves import this module to register their own tables.
    import bot.models  # noqa: F401
    import bot.privacy_core  # noqa: F401

    return sorted(_REGISTRY.values(), key=lambda data: data.order)
