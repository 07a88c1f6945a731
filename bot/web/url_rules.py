"""URL rules whose URL builders are made once per process, however many apps it builds.

Werkzeug turns every URL rule into two small functions (a URL with and without extra query
arguments) by generating and compiling Python source as the rule is added: about 0.1 ms a
function, for each of the dashboard's rules, every time an app is built. A server builds one
app; the test suite builds one per test, and this was about 80% of `create_app`. The generated
function depends only on the rule's parsed shape (Werkzeug's `_trace`) and its defaults, and
is called with the rule itself, so one function serves every app's copy of a rule.

This overrides Werkzeug's private `_compile_builder` (Werkzeug 3); tests/web/test_url_rules.py
checks that every one of Haven's rules builds the same URLs as Werkzeug's own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from werkzeug.routing import Rule

_builders: dict[tuple[object, ...], Callable[..., tuple[str, str]]] = {}
_lock = threading.Lock()


class SharedBuilderRule(Rule):
    """A Werkzeug rule whose builder functions are shared by equal rules in this process."""

    def _compile_builder(self, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        defaults = self.defaults or {}
        key = (
            tuple(self._trace),
            # A default that appears in the rule is turned into text by its converter when
            # the builder is made, so the converter is part of what the builder is.
            tuple(
                sorted(
                    (str(name), repr(value), _converter_of(self, name))
                    for name, value in defaults.items()
                )
            ),
            append_unknown,
        )
        with _lock:
            builder = _builders.get(key)
        if builder is None:
            builder = super()._compile_builder(append_unknown)
            with _lock:
                _builders.setdefault(key, builder)
        return builder


def _converter_of(rule: Rule, name: str) -> str:
    converter: Any = rule._converters.get(name)
    if converter is None:
        return ""
    # Its settings (a length, a range), not the map it belongs to (one per app).
    settings = sorted((k, repr(v)) for k, v in vars(converter).items() if k != "map")
    return f"{type(converter).__qualname__}{settings!r}"
