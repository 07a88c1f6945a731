"""Uploaded files stay in memory: a photo checked on the dashboard never touches the disk.

Werkzeug spools an upload over 500 KB to a temporary file; Haven promises that a photo staff
check is hashed and dropped, so uploads are read into memory instead. MAX_CONTENT_LENGTH (and
the photo pages' own per-request limit) bounds how much that can be.
"""

from __future__ import annotations

import io
from typing import IO

from flask import Request


class InMemoryRequest(Request):
    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        return io.BytesIO()
