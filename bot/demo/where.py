"""Where the last `haven demo` keeps its database, so commands in another terminal can find it.

The demo runs on its own database under `<instance>/demo/` and, unless HAVEN_DATA_KEYS is set,
on a data key made for that run. Both are recorded in `<instance>/demo/where.json` (and the key
in a file beside it, readable by its owner only): the demo's texts are made up, and without the
key `haven items` could list the demo's items but not read them. Nothing here is a real
person's data, which is why the demo may write its key to disk and a charity's Haven never does.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

WHERE_FILE = "where.json"
KEY_FILE = "data-key"


@dataclass(frozen=True)
class DemoDatabase:
    database_url: str
    data_keys_file: str | None  # None: the demo ran with the operator's own HAVEN_DATA_KEYS


def demo_folder(instance_path: str | os.PathLike[str]) -> Path:
    """The demo's own instance folder under a charity's instance folder."""
    return Path(instance_path) / "demo"


def record_where(demo_instance: Path, database_url: str, run_key: str | None) -> Path:
    """Write where.json (and the run's key, if the demo made one); returns where.json's path."""
    demo_instance.mkdir(parents=True, exist_ok=True)
    key_file = None
    # A key left by an earlier run is of no use now: this run's texts use another key.
    (demo_instance / KEY_FILE).unlink(missing_ok=True)
    if run_key is not None:
        key_file = demo_instance / KEY_FILE
        # Created owner-only before the key is written, so it is never readable by others.
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as out:
            out.write(run_key)
    where = demo_instance / WHERE_FILE
    record = {"database_url": database_url, "data_keys_file": str(key_file) if key_file else None}
    where.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return where


def recorded(instance_path: str | os.PathLike[str]) -> DemoDatabase | None:
    """What the last demo under this instance folder recorded; None if none ran (or unreadable)."""
    where = demo_folder(instance_path) / WHERE_FILE
    try:
        record = json.loads(where.read_text(encoding="utf-8"))
        url, key_file = record["database_url"], record.get("data_keys_file")
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(url, str) or not (key_file is None or isinstance(key_file, str)):
        return None
    return DemoDatabase(url, key_file)
