"""Reading an export of past comments (CSV or JSONL) a line at a time, for the rules dry run.

A year of a busy page's comments is hundreds of thousands of rows: the file is streamed, never
read whole, so memory stays flat whatever its size, and the bytes read so far drive the
progress bar (the number of rows is not known until the end).
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Callable, Iterator
from pathlib import Path

TEXT_COLUMNS = ("text", "message", "comment", "body", "content", "comment_text")
JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")


def _nothing(_bytes: int) -> None:
    return None


def export_rows(path: Path, advance: Callable[[int], None] = _nothing) -> Iterator[tuple[str, str]]:
    """Yield (id, text) from a CSV (a text/message/comment column) or JSONL export; `advance`
    is told how many bytes each line took."""
    lines = _decoded_lines(path, advance)
    if path.suffix.lower() in JSON_SUFFIXES:
        yield from _jsonl_rows(lines)
    else:
        yield from _csv_rows(lines)


def _decoded_lines(path: Path, advance: Callable[[int], None]) -> Iterator[str]:
    # An incremental decoder: a UTF-8 BOM at the start (Excel writes one) is dropped, and a
    # character is never split, whatever the line lengths.
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    with path.open("rb") as handle:
        for raw in handle:
            advance(len(raw))
            yield decoder.decode(raw)
        tail = decoder.decode(b"", final=True)
        if tail:
            yield tail


def _jsonl_rows(lines: Iterator[str]) -> Iterator[tuple[str, str]]:
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict):
            text = next((obj[c] for c in TEXT_COLUMNS if isinstance(obj.get(c), str)), None)
            if text is not None:
                yield str(obj.get("id", n)), text


def _csv_rows(lines: Iterator[str]) -> Iterator[tuple[str, str]]:
    reader = csv.DictReader(lines)
    fields = [f for f in reader.fieldnames or [] if f]
    column = next(
        (f for f in fields if f.strip().lower() in TEXT_COLUMNS), fields[0] if fields else None
    )
    if column is None:
        return
    id_column = next((f for f in fields if f.strip().lower() == "id"), None)
    for n, row in enumerate(reader, 1):
        text = row.get(column) or ""
        yield (row.get(id_column) or str(n)) if id_column else str(n), text
