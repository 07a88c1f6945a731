"""What the Graph client sends and gets back: ids, texts, calls and answers, checked.

Kept apart from bot/graph/client.py so the client itself stays about the HTTP conversation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.graph.errors import UNKNOWN, GraphError

PLATFORMS = ("facebook", "instagram")
MIN_API_MAJOR = 24
# Meta ids are digits and underscores; IG ids can be base64-ish. A "/", "?" or "&" from a
# webhook value would rewrite the request path, so anything else is refused.
_ID = re.compile(r"[A-Za-z0-9_.:=-]{1,200}")
METADATA_MAX_CHARS = 1000  # Send API limit on `metadata`
FB_COMMENT_FIELDS = (
    "id,message,from,created_time,parent{id},attachment,is_hidden,can_hide,"
    "can_reply_privately,permalink_url"
)
IG_COMMENT_FIELDS = "id,text,username,from,timestamp,media,parent_id,hidden,like_count"
# Dry-run answers for reads: "nothing has happened yet".
_DRY_DEFAULTS = {"can_reply_privately": True, "can_hide": True, "is_hidden": False, "hidden": False}


def validate_api_version(version: str) -> str:
    """Return version if it is "vNN.N" with NN >= 24 (Meta silently remaps expired versions)."""
    match = re.fullmatch(r"v(\d{2,3})\.(\d{1,2})", version or "")
    if not match or int(match.group(1)) < MIN_API_MAJOR:
        raise ValueError(f"Graph API version {version!r} must look like 'v24.0', v24 or newer")
    return version


def check_id(value: str, name: str) -> str:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise ValueError(f"{name} {value!r} is not a Graph object id")
    return value


def check_text(text: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise ValueError("message text is empty")
    return text


@dataclass(frozen=True)
class SentMessage:
    """The Send API's answer. recipient_id is the person's messaging id (PSID / IGSID): for a
    private reply it is the only link between a commenter and their later messages."""

    message_id: str
    recipient_id: str | None


def quick_reply_buttons(options: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    """(title, payload) pairs as Messenger / Instagram text quick replies (at most 13)."""
    if len(options) > 13:
        raise ValueError("Meta allows at most 13 quick replies")
    return [{"content_type": "text", "title": t[:20], "payload": p} for t, p in options]


@dataclass(frozen=True)
class GraphCall:
    """One Graph request as a dry run records it (never the token or proof)."""

    method: str
    path: str
    params: dict[str, Any]
    body: dict[str, Any] | None
    account_id: str
    host: str = ""
    as_json: bool = False


def require_key(result: Any, key: str, account_id: str) -> str:
    value = get_field(result, key)
    if isinstance(value, str) and value:
        return value
    # Meta said 2xx, so the action probably happened even though its id is unreadable.
    message = f"2xx response without {key!r}"
    raise GraphError(message, kind=UNKNOWN, ambiguous=True, account_id=account_id)


def require_success(result: Any) -> None:
    if get_field(result, "success") is not True:
        raise GraphError("Graph answered without success=true", kind=UNKNOWN)


def get_field(value: Any, key: str) -> Any:
    """value[key] when value is a mapping, else None (Graph bodies are not trusted to be dicts)."""
    return value.get(key) if isinstance(value, Mapping) else None
