"""`haven keys rotate`: re-seal every encrypted value with the newest key, in batches.

Every `EncryptedText` column of every table is found from the models, so a table added later
is covered without touching this file. A value already sealed with the newest key is left
alone, so a rotation that was interrupted is simply run again; plaintext written before
encryption was switched on is sealed on the way. Each batch commits on its own: a long rotation
never holds the tables locked for its whole run.
"""

from __future__ import annotations

from sqlalchemy import Column, Table, Text, select, type_coerce, update
from sqlalchemy.engine import Engine

from bot.audit import record
from bot.crypto import DataKeyError, EncryptedText, decrypt, keys_installed, sealed_with_newest
from bot.db import session_scope
from bot.models import metadata


def encrypted_columns() -> list[tuple[Table, list[Column]]]:  # type: ignore[type-arg]
    found = []
    for table in metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, EncryptedText)]
        if columns:
            found.append((table, columns))
    return found


def rotate(engine: Engine, *, batch_size: int = 500, actor: str = "cli") -> dict[str, int]:
    """Re-seal what is not under the newest key; returns rows changed per table. Audited."""
    if not keys_installed():
        raise DataKeyError("no data keys are installed: set HAVEN_DATA_KEYS")
    changed: dict[str, int] = {}
    for table, columns in encrypted_columns():
        changed[table.name] = _rotate_table(engine, table, columns, batch_size)
    with session_scope(engine) as session:
        record(session, actor, "keys.rotated", "database", None, rows=changed)
    return changed


def _rotate_table(engine: Engine, table: Table, columns: list[Column], batch_size: int) -> int:  # type: ignore[type-arg]
    (key,) = table.primary_key.columns
    # The stored text exactly as it is, not decrypted by the column's type.
    raw = [type_coerce(c, Text).label(c.name) for c in columns]
    last, changed = None, 0
    while True:
        with session_scope(engine) as session:
            query = select(key, *raw).order_by(key).limit(batch_size)
            rows = session.execute(query if last is None else query.where(key > last)).all()
            for row in rows:
                values = {}
                for column in columns:
                    stored = row._mapping[column.name]
                    if stored is None or sealed_with_newest(stored):
                        continue
                    try:
                        values[column.name] = decrypt(stored)
                    except DataKeyError as exc:
                        raise DataKeyError(f"{table.name} row {row[0]}: {exc}") from None
                if values:
                    # Bound through the column's type: sealed with the newest key on the way in.
                    session.execute(update(table).where(key == row[0]).values(**values))
                    changed += 1
        if len(rows) < batch_size:
            return changed
        last = rows[-1][0]
