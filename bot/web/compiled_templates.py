"""Templates compiled once per process, however many apps the process builds.

Jinja compiles a template the first time an environment renders it, and every Flask app has an
environment of its own. A server builds one app, but the test suite and the CLI build many in
one process, and compiling the dashboard's templates again for each was about a sixth of the
dashboard tests' time. The compiled code is the same for every app Haven builds (same template
folder, same settings); Jinja keys it by the template's name and checks it against a checksum of
the source, so an edited template is compiled anew.
"""

from __future__ import annotations

from jinja2 import BytecodeCache
from jinja2.bccache import Bucket


class ProcessBytecodeCache(BytecodeCache):
    """Compiled templates kept in this process's memory (no files written)."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


PROCESS_TEMPLATES = ProcessBytecodeCache()
