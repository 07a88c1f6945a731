"""An uploaded photo stays in memory: Werkzeug would spool one over 500 KB to a temporary file."""

from __future__ import annotations

import io

from flask import Flask, request
from werkzeug.test import EnvironBuilder


def test_a_large_upload_is_read_into_memory_not_a_temporary_file(app: Flask) -> None:
    big = bytes(2 * 1024 * 1024)  # well over Werkzeug's 500 KB in-memory limit
    builder = EnvironBuilder(
        path="/photo-consent",
        method="POST",
        data={"photo": (io.BytesIO(big), "p.jpg", "image/jpeg")},
        content_type="multipart/form-data",
    )
    environ = builder.get_environ()
    try:
        with app.request_context(environ):
            request.max_content_length = 4 * 1024 * 1024
            upload = request.files["photo"]
            assert isinstance(upload.stream, io.BytesIO)
            assert upload.read() == big
    finally:
        environ["wsgi.input"].close()  # the test's own copy of the body (a spooled file)
        builder.close()
