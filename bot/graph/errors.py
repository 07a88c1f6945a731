"""GraphError, classification of Meta errors, and the read-back match for ambiguous sends."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests
from urllib3.exceptions import ConnectTimeoutError

from bot.graph.usage import Usage

TRANSIENT = "transient"
RATE_LIMITED = "rate_limited"
TOKEN = "token"
PERMISSION = "permission"
PARAMETER = "parameter"
OUTSIDE_WINDOW = "outside_window"
ALREADY_REPLIED = "already_replied"
PRIVATE_REPLY_BLOCKED = "private_reply_blocked"
UNAVAILABLE = "unavailable"
POLICY_BLOCK = "policy_block"
UNKNOWN = "unknown"

KINDS = frozenset(
    (TRANSIENT, RATE_LIMITED, TOKEN, PERMISSION, PARAMETER, OUTSIDE_WINDOW, ALREADY_REPLIED)
    + (PRIVATE_REPLY_BLOCKED, UNAVAILABLE, POLICY_BLOCK, UNKNOWN)
)
RETRYABLE_KINDS = frozenset({TRANSIENT, RATE_LIMITED})

# 4 app, 17 user, 32 page, 613 custom, 80001-80006 business use case (Pages, IG, Messenger...).
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, *range(80001, 80007)})
OUTSIDE_WINDOW_SUBCODES = frozenset({2018278})
# Meta's wording drifts and uses curly apostrophes; the reference only pins the fragments.
_PRIVATE_BLOCKED = re.compile(r"settings\s+don\W?t\s+allow\b.*\brespond\b.*\bprivate", re.I | re.S)
_OUTSIDE_WINDOW = re.compile(r"outside\s+(of\s+)?(the\s+)?allowed\s+window", re.I)
_SECRET_PARAMS = re.compile(r"(access_token|appsecret_proof)=[^&\s'\"]+")


class GraphError(Exception):
    """A failed Graph call, classified so a job can choose between retrying and giving up."""

    def __init__(
        self,
        message: str,
        *,
        kind: str,
        status: int | None = None,
        code: int | None = None,
        subcode: int | None = None,
        type: str | None = None,  # Meta's own field name (shadows the builtin here only)
        fbtrace_id: str | None = None,
        retry_after: float | None = None,
        ambiguous: bool = False,
        account_id: str | None = None,
        user_title: str | None = None,
        user_msg: str | None = None,
        is_transient: bool | None = None,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown GraphError kind {kind!r}")
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.status = status
        self.code = code
        self.subcode = subcode
        self.type = type
        self.fbtrace_id = fbtrace_id
        self.retry_after = retry_after
        self.ambiguous = ambiguous
        self.account_id = account_id
        self.user_title = user_title
        self.user_msg = user_msg
        # Meta's own hint; classification never relies on it.
        self.is_transient = is_transient

    @property
    def permanent(self) -> bool:
        """True unless retrying later can succeed (transient or rate_limited)."""
        return self.kind not in RETRYABLE_KINDS

    def _fields(self) -> dict[str, Any]:
        fields = dict(vars(self))
        del fields["message"]
        return fields

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only arguments break Exception's default pickling (rq/multiprocessing need it).
        return (_restore, (self.message, self._fields()))

    def __str__(self) -> str:
        return (
            f"{self.message} [kind={self.kind} code={self.code} subcode={self.subcode} "
            f"status={self.status} fbtrace_id={self.fbtrace_id}]"
        )


def _restore(message: str, fields: dict[str, Any]) -> GraphError:
    return GraphError(message, **fields)


def classify(*, status: int | None, code: int | None, subcode: int | None, text: str = "") -> str:
    """Map an HTTP status and Meta error code/subcode/message to a GraphError kind."""
    if code is None:
        if status == 429:
            return RATE_LIMITED
        return TRANSIENT if status is not None and status >= 500 else UNKNOWN
    if code in (1, 2):
        return TRANSIENT
    if code in RATE_LIMIT_CODES:
        return RATE_LIMITED
    if code == 190:
        return TOKEN
    # Code 10 is both "permission" and "outside the 24 h window"; only the subcode (or, for
    # Instagram's different subcode, the wording) tells them apart.
    if code == 10 and (subcode in OUTSIDE_WINDOW_SUBCODES or _OUTSIDE_WINDOW.search(text)):
        return OUTSIDE_WINDOW
    if code == 10 or 200 <= code <= 299:
        return PERMISSION
    if code == 100:
        return PRIVATE_REPLY_BLOCKED if _PRIVATE_BLOCKED.search(text) else PARAMETER
    if code == 10900:
        return ALREADY_REPLIED
    if code == 551:
        return UNAVAILABLE
    if code == 368:
        return POLICY_BLOCK
    return TRANSIENT if status is not None and status >= 500 else UNKNOWN


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _retry_after_header(headers: Mapping[str, str]) -> float | None:
    # Meta rarely sends Retry-After, but proxies in front of a stand-in might; seconds form only.
    value = headers.get("Retry-After")
    try:
        seconds = float(value) if value else None
    except ValueError:
        return None
    return seconds if seconds is not None and 0 < seconds < 86400 else None


def error_from_response(
    status: int,
    body: Any,
    usage: Usage,
    headers: Mapping[str, str],
    *,
    account_id: str | None = None,
) -> GraphError:
    """Build the GraphError for an error body or a non-2xx response."""
    err = body.get("error") if isinstance(body, Mapping) else None
    if not isinstance(err, Mapping):
        err = {}
    code, subcode = _int(err.get("code")), _int(err.get("error_subcode"))
    message = _str(err.get("message")) or f"HTTP {status} without a Graph error body"
    user_msg = _str(err.get("error_user_msg"))
    kind = classify(status=status, code=code, subcode=subcode, text=f"{message}\n{user_msg or ''}")
    retry_after: float | None = None
    if kind == RATE_LIMITED:
        # estimated_time_to_regain_access is MINUTES; 0 or absent -> let the caller back off
        # (calling again while throttled extends the block [reference section 4]).
        minutes = usage.regain_minutes(account_id)
        retry_after = minutes * 60.0 if minutes else _retry_after_header(headers)
    elif kind == TRANSIENT:
        retry_after = _retry_after_header(headers)
    hint = err.get("is_transient")
    return GraphError(
        message,
        kind=kind,
        status=status,
        code=code,
        subcode=subcode,
        type=_str(err.get("type")),
        fbtrace_id=_str(err.get("fbtrace_id")),
        retry_after=retry_after,
        # Meta answered, but a 5xx / code 1-2 can come after the action was performed.
        ambiguous=kind == TRANSIENT,
        account_id=account_id,
        user_title=_str(err.get("error_user_title")),
        user_msg=user_msg,
        is_transient=hint if isinstance(hint, bool) else None,
    )


def check_response(
    status: int,
    body: Any,
    usage: Usage,
    headers: Mapping[str, str],
    *,
    method: str,
    account_id: str,
) -> GraphError | None:
    """Return the GraphError a response stands for, or None when body is a usable 2xx answer."""
    if not 200 <= status < 300 or (isinstance(body, Mapping) and "error" in body):
        return error_from_response(status, body, usage, headers, account_id=account_id)
    if body is None:
        # A 2xx that is not Graph's JSON (captive proxy?): a send may still have happened.
        message = "2xx response that is not JSON"
        ambiguous = method != "GET"
        return GraphError(
            message, kind=UNKNOWN, status=status, ambiguous=ambiguous, account_id=account_id
        )
    return None


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """Remove tokens and proofs from text (requests puts the full URL in its exception text)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return _SECRET_PARAMS.sub(r"\1=[redacted]", text)


def _never_sent(exc: requests.ConnectionError) -> bool:
    # requests wraps urllib3's MaxRetryError; its reason says whether the TCP connection was
    # ever made. NewConnectionError (and DNS failures) subclass ConnectTimeoutError.
    reason = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)
    return isinstance(reason, ConnectTimeoutError)


def error_from_transport(
    exc: requests.RequestException,
    *,
    account_id: str | None,
    secrets: Iterable[str | None],
) -> GraphError:
    """Classify a requests exception; ambiguous unless the request certainly never left."""
    detail = f"{type(exc).__name__}: {redact(str(exc), secrets)[:300]}"
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        ambiguous = False
    elif isinstance(
        exc,
        requests.exceptions.Timeout
        | requests.exceptions.ChunkedEncodingError
        | requests.exceptions.ContentDecodingError
        | requests.exceptions.RetryError,
    ):
        # ReadTimeout and a broken response body both mean Meta had the request.
        ambiguous = True
    elif isinstance(exc, requests.ConnectionError):
        # A reset mid-response, TLS failure or unknown wrapping: assume it may have arrived.
        ambiguous = not _never_sent(exc)
    else:
        # InvalidURL, MissingSchema...: a configuration bug; nothing reached Meta.
        return GraphError(detail, kind=UNKNOWN, account_id=account_id)
    return GraphError(detail, kind=TRANSIENT, ambiguous=ambiguous, account_id=account_id)


@dataclass(frozen=True)
class SentCheck:
    """Did an ambiguous send land? True = it exists, False = checked and absent, None = unknown."""

    found: bool | None
    id: str | None = None
    detail: str = ""


def _same_text(a: Any, b: str) -> bool:
    # Meta may trim or re-wrap whitespace; anything else it changes defeats the match.
    return isinstance(a, str) and " ".join(a.split()) == " ".join(b.split())


def _parse_time(value: Any) -> datetime | None:
    # Graph returns "2025-03-22T18:20:04+0000" for both FB created_time and IG timestamp.
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
    except (TypeError, ValueError):
        return None


def match_sent(
    items: Any,
    key: str,
    text: str,
    *,
    since: datetime | None = None,
    exclude_author: str | None = None,
    more: bool = False,
) -> SentCheck:
    """Look for an item whose `key` field carries our text (authored by anyone but exclude_author).

    Matching on text rather than author errs towards "found": a look-alike posted by someone else
    costs one reply we skip, while a miss costs a double post.
    """
    floor = since - timedelta(minutes=5) if since else None  # clock skew with Meta
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, Mapping) or not _same_text(item.get(key), text):
            continue
        author = item.get("from")
        if exclude_author and isinstance(author, Mapping) and author.get("id") == exclude_author:
            continue
        when = _parse_time(item.get("created_time") or item.get("timestamp"))
        if floor and when and when < floor:
            continue
        found_id = item.get("id")
        return SentCheck(True, id=str(found_id) if found_id else None, detail="same text found")
    if more:
        return SentCheck(None, detail="not in the first page of results")
    return SentCheck(False, detail="no item with this text")
