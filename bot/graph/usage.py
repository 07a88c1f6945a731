"""Parse Meta's rate-limit usage headers into a Usage record."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Meta reports each of these as an integer percentage of the budget [reference section 4].
PERCENT_KEYS = ("call_count", "total_time", "total_cputime")

APP_USAGE_HEADER = "X-App-Usage"
PAGE_USAGE_HEADER = "X-Page-Usage"
BUC_USAGE_HEADER = "X-Business-Use-Case-Usage"

# One header is up to 32 objects [reference section 4]; cap what we keep so a garbage header
# cannot make us build a huge list.
_MAX_BUC_OBJECTS = 64
# Headers are attacker-adjacent text (proxies, stand-ins): refuse to json-parse anything huge.
_MAX_HEADER_CHARS = 64 * 1024


def _number(value: Any) -> int | None:
    """Return a non-negative int from a header value, or None when it is not one."""
    # bool is an int subclass; `true` is not a percentage.
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if isinstance(value, int | float) and math.isfinite(value) and value >= 0:
        return round(value)
    return None


def _load(raw: str | None) -> Any:
    if not raw or len(raw) > _MAX_HEADER_CHARS:
        return None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return None


def _percentages(data: Any) -> dict[str, int]:
    if not isinstance(data, Mapping):
        return {}
    out: dict[str, int] = {}
    for key in PERCENT_KEYS:
        number = _number(data.get(key))
        if number is not None:
            out[key] = number
    return out


@dataclass(frozen=True)
class BusinessUseCase:
    """One entry of X-Business-Use-Case-Usage: usage of one business object (Page, IG account)."""

    object_id: str
    type: str | None
    percentages: dict[str, int]
    # Meta gives this in MINUTES, not seconds [reference section 4].
    regain_minutes: int | None = None

    def max_percent(self) -> int:
        return max(self.percentages.values(), default=0)


def _business(data: Any) -> list[BusinessUseCase]:
    if not isinstance(data, Mapping):
        return []
    entries: list[BusinessUseCase] = []
    for object_id, items in data.items():
        # Meta sends a list per object; tolerate a bare object too.
        if isinstance(items, Mapping):
            items = [items]
        if not isinstance(items, list):
            continue
        for item in items:
            if not isinstance(item, Mapping):
                continue
            kind = item.get("type")
            entries.append(
                BusinessUseCase(
                    object_id=str(object_id),
                    type=kind if isinstance(kind, str) else None,
                    percentages=_percentages(item),
                    regain_minutes=_number(item.get("estimated_time_to_regain_access")),
                )
            )
            if len(entries) >= _MAX_BUC_OBJECTS:
                return entries
    return entries


@dataclass
class Usage:
    """Usage reported on one Graph response; parsing never raises."""

    app: dict[str, int] = field(default_factory=dict)
    page: dict[str, int] = field(default_factory=dict)
    business: list[BusinessUseCase] = field(default_factory=list)

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> Usage:
        """Build from response headers (case-insensitive mapping, e.g. requests' headers)."""
        try:
            return cls(
                app=_percentages(_load(headers.get(APP_USAGE_HEADER))),
                page=_percentages(_load(headers.get(PAGE_USAGE_HEADER))),
                business=_business(_load(headers.get(BUC_USAGE_HEADER))),
            )
        except Exception:  # a usage header must never break a Graph call
            return cls()

    def max_percent(self, object_id: str | None = None) -> int:
        """Highest percentage across app, page and business usage (0 when nothing was reported)."""
        values = [*self.app.values(), *self.page.values()]
        values += [e.max_percent() for e in self._entries(object_id)]
        return max(values, default=0)

    def regain_minutes(self, object_id: str | None = None) -> int | None:
        """Minutes Meta says to wait, for object_id if it is listed, else the longest listed."""
        minutes = [e.regain_minutes for e in self._entries(object_id) if e.regain_minutes]
        return max(minutes, default=None)

    def wait_seconds(self, object_id: str | None = None) -> float:
        """Seconds to wait before calling again (0.0 when Meta asked for no wait)."""
        return float((self.regain_minutes(object_id) or 0) * 60)

    def _entries(self, object_id: str | None) -> list[BusinessUseCase]:
        # The BUC object can be the Page while we call for its linked IG account, so an id that
        # is not listed falls back to every entry rather than to none.
        if object_id is not None:
            mine = [e for e in self.business if e.object_id == object_id]
            if mine:
                return mine
        return self.business
