"""Which rows retention or erasure has already emptied: the record that makes both idempotent.

Texts are encrypted at rest (a marker looks like any other ciphertext in SQL), so whether a
row was already emptied is kept beside it, one row per emptied row.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, exists, update
from sqlmodel import Session, col

from bot.models import utcnow
from bot.models.privacy import PrivacyRemoval


def not_removed(table_name: str, id_column: Any) -> Any:
    """A clause: the row `id_column` names has not been emptied yet."""
    return ~exists().where(
        and_(PrivacyRemoval.table_name == table_name, PrivacyRemoval.row_id == id_column)
    )


def mark_removed(session: Session, table_name: str, row_ids: Iterable[int], reason: str) -> None:
    """Record rows as emptied; rows recorded before (a race, a repeat) are left as they were."""
    rows = [
        {"table_name": table_name, "row_id": row_id, "reason": reason, "removed_at": utcnow()}
        for row_id in row_ids
    ]
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(PrivacyRemoval.__table__).on_conflict_do_nothing(  # type: ignore[attr-defined]
        index_elements=["table_name", "row_id"]
    )
    session.execute(statement, rows)


def blank_rows(
    session: Session, model: Any, row_ids: Iterable[int], values: dict[str, Any], reason: str
) -> int:
    """Overwrite the personal columns of these rows in one statement and record them as
    emptied (retention and erasure both go through here). Returns how many rows."""
    ids = list(row_ids)
    if not ids:
        return 0
    session.exec(  # type: ignore[call-overload]
        update(model)
        .where(col(model.id).in_(ids))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    mark_removed(session, model.__tablename__, ids, reason)
    return len(ids)
