"""GraphClient: the only code in Haven that talks to Meta's Graph API."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import logging
import re
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

import requests

from bot.graph.errors import (
    GraphError,
    SentCheck,
    check_response,
    error_from_transport,
    match_sent,
)
from bot.graph.shapes import (
    _DRY_DEFAULTS,
    FB_COMMENT_FIELDS,
    IG_COMMENT_FIELDS,
    METADATA_MAX_CHARS,
    PLATFORMS,
    GraphCall,
    SentMessage,
    check_id,
    check_text,
    get_field,
    quick_reply_buttons,
    require_key,
    require_success,
    validate_api_version,
)
from bot.graph.usage import Usage

__all__ = [
    "GraphCall",
    "GraphClient",
    "GraphError",
    "SentCheck",
    "SentMessage",
    "Usage",
    "validate_api_version",
]

log = logging.getLogger(__name__)


class GraphClient:
    """Small Graph API client on a requests.Session; every secret comes from the caller."""

    def __init__(
        self,
        *,
        session: requests.Session,
        base_url: str = "https://graph.facebook.com",
        instagram_base_url: str = "https://graph.instagram.com",
        api_version: str = "v24.0",
        app_secret: str | None,
        tokens: Mapping[str, str],
        timeout: float = 10.0,
        dry_run: bool = False,
        slow_down_at: int = 80,
        instagram_login_accounts: Collection[str] = (),
    ) -> None:
        for name, url in (("base_url", base_url), ("instagram_base_url", instagram_base_url)):
            if not re.match(r"https?://[^/?#\s]+", url or ""):
                raise ValueError(f"{name} {url!r} must be an http(s) URL")
        if not timeout or timeout <= 0:
            raise ValueError("timeout must be a positive number of seconds")
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.instagram_base_url = instagram_base_url.rstrip("/")
        self.api_version = validate_api_version(api_version)
        self.timeout = timeout
        self.dry_run = dry_run
        self.slow_down_at = slow_down_at
        self.instagram_login_accounts = frozenset(instagram_login_accounts)
        self.last_usage: dict[str, Usage] = {}
        self.recorded: list[GraphCall] = []
        self._app_secret = app_secret or None
        self._tokens = tokens
        self._fake_ids = itertools.count(1)
        self._warned_versions: set[str] = set()

    def __repr__(self) -> str:  # no tokens, no secret
        return f"GraphClient(api_version={self.api_version!r}, dry_run={self.dry_run})"

    # -- actions -----------------------------------------------------------------------------

    def reply_to_comment(
        self, account_id: str, comment_id: str, text: str, *, platform: str
    ) -> str:
        """Post a public reply under a comment; return the new comment id."""
        self._check_platform(account_id, platform)
        # IG threads one level deep: replying to a reply attaches to the top-level comment.
        edge = "comments" if platform == "facebook" else "replies"
        path = f"/{check_id(comment_id, 'comment_id')}/{edge}"
        fake = {"id": f"dry_run_{next(self._fake_ids)}"}
        result = self._call("POST", account_id, path, data={"message": check_text(text)}, fake=fake)
        return require_key(result, "id", account_id)

    def send_private_reply(
        self, account_id: str, comment_id: str, text: str, *, platform: str, post: bool = False
    ) -> str:
        """Send the single private reply Meta allows per comment / FB visitor post."""
        sent = self.private_reply(account_id, comment_id, text, platform=platform, post=post)
        return sent.message_id

    def private_reply(
        self,
        account_id: str,
        comment_id: str,
        text: str,
        *,
        platform: str,
        post: bool = False,
        quick_replies: Sequence[tuple[str, str]] = (),
    ) -> SentMessage:
        """As send_private_reply, with quick-reply buttons, and who received it."""
        self._check_platform(account_id, platform)
        if post and platform != "facebook":
            raise ValueError("post=True is for Facebook visitor posts only")
        key = "post_id" if post else "comment_id"
        message: dict[str, Any] = {"text": check_text(text)}
        if quick_replies:
            message["quick_replies"] = quick_reply_buttons(quick_replies)
        body = {"recipient": {key: check_id(comment_id, key)}, "message": message}
        return self._send_full(account_id, platform, body)

    def send_message(
        self,
        account_id: str,
        recipient_id: str,
        text: str,
        *,
        platform: str,
        metadata: str | None = None,
        quick_replies: Sequence[tuple[str, str]] = (),
    ) -> str:
        """Send a DM inside the 24 h window; metadata comes back on the echo to correlate it."""
        self._check_platform(account_id, platform)
        message: dict[str, Any] = {"text": check_text(text)}
        if quick_replies:
            message["quick_replies"] = quick_reply_buttons(quick_replies)
        if metadata is not None:
            if len(metadata) > METADATA_MAX_CHARS:
                raise ValueError(f"metadata is longer than {METADATA_MAX_CHARS} characters")
            message["metadata"] = metadata
        # RESPONSE only: outside the window Meta answers 10/2018278 (kind outside_window).
        recipient = {"id": check_id(recipient_id, "recipient_id")}
        body = {"recipient": recipient, "messaging_type": "RESPONSE", "message": message}
        return self._send(account_id, platform, body)

    def hide_comment(
        self, account_id: str, comment_id: str, hidden: bool, *, platform: str
    ) -> None:
        """Hide or unhide a comment (idempotent on Meta's side)."""
        self._check_platform(account_id, platform)
        data = {"is_hidden" if platform == "facebook" else "hide": "true" if hidden else "false"}
        self._post_success(account_id, f"/{check_id(comment_id, 'comment_id')}", data)

    def delete_comment(self, account_id: str, comment_id: str) -> None:
        """Delete a comment (explicit human action only); already gone -> kind parameter."""
        path = f"/{check_id(comment_id, 'comment_id')}"
        require_success(self._call("DELETE", account_id, path, fake={"success": True}))

    def get_comment(
        self,
        account_id: str,
        comment_id: str,
        *,
        platform: str,
        fields: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        """Read a comment (can_reply_privately, is_hidden, hidden...). Holds user text."""
        self._check_platform(account_id, platform)
        default = FB_COMMENT_FIELDS if platform == "facebook" else IG_COMMENT_FIELDS
        wanted = list(fields) if fields else default.split(",")
        fake = {"id": comment_id, **{f: _DRY_DEFAULTS[f] for f in wanted if f in _DRY_DEFAULTS}}
        path, params = f"/{check_id(comment_id, 'comment_id')}", {"fields": ",".join(wanted)}
        result = self._call("GET", account_id, path, params=params, fake=fake)
        return dict(result) if isinstance(result, Mapping) else {}

    def subscribed_apps(self, account_id: str) -> list[dict[str, Any]]:
        """List the apps (with subscribed_fields) installed on a Page or IG-login account."""
        path = self._subscription_path(account_id)
        data = get_field(self._call("GET", account_id, path, fake={"data": []}), "data")
        return [dict(i) for i in data if isinstance(i, Mapping)] if isinstance(data, list) else []

    def subscribe_app(self, account_id: str, fields: Sequence[str]) -> None:
        """Re-install the webhook subscription (Meta drops it after 1 h of failed deliveries)."""
        data = {"subscribed_fields": ",".join(fields)}
        self._post_success(account_id, self._subscription_path(account_id), data)

    def should_slow_down(self, account_id: str) -> bool:
        """True when the last response for this account reported usage >= slow_down_at %."""
        usage = self.last_usage.get(account_id)
        if usage is None:
            return False
        return usage.max_percent(account_id) >= self.slow_down_at or bool(
            usage.wait_seconds(account_id)
        )

    def find_sent_message(
        self,
        account_id: str,
        *,
        kind: str,
        target_id: str,
        text: str,
        platform: str,
        since: datetime | None = None,
    ) -> SentCheck:
        """After an ambiguous send, check whether it landed before sending again.

        kind "comment_reply": target_id = the comment replied to; finds a reply with this text.
        kind "message": target_id = the PSID / IGSID; reads the conversation's last 20 messages.
        kind "private_reply": target_id = the comment; FB can_reply_privately, IG unknown.
        since: aware datetime of the idempotency record; older look-alikes are ignored.
        It is the one place that reads conversations and replies back; its limits are what
        Meta lets us list, and how far back.
        """
        self._check_platform(account_id, platform)
        check_id(target_id, "target_id")
        facebook = platform == "facebook"
        if kind == "private_reply":
            if not facebook:
                return SentCheck(None, detail="no Instagram read-back; a resend gets 10900 if sent")
            fake = {"id": target_id, "can_reply_privately": True}
            params = {"fields": "can_reply_privately"}
            result = self._call("GET", account_id, f"/{target_id}", params=params, fake=fake)
            if get_field(result, "can_reply_privately") is True:
                return SentCheck(False, detail="can_reply_privately is true")
            # Not true also means "older than 7 days" or user settings: cannot tell them apart.
            return SentCheck(None, detail="can_reply_privately is not true")
        if kind == "comment_reply":
            key = "message" if facebook else "text"
            path = f"/{target_id}/comments" if facebook else f"/{target_id}/replies"
            params = {"fields": f"id,{key},from,{'created_time' if facebook else 'timestamp'}"}
            if facebook:  # newest first, so a reply sent moments ago is on the first page
                params.update(order="reverse_chronological", limit="100")
            result = self._call("GET", account_id, path, params=params, fake={"data": []})
            more = bool(get_field(get_field(result, "paging"), "next"))
            return match_sent(get_field(result, "data"), key, text, since=since, more=more)
        if kind == "message":
            node = f"/{account_id}" if facebook else "/me"
            params = {
                "platform": "messenger" if facebook else "instagram",
                "user_id": target_id,
                "fields": "messages.limit(20){id,message,from,created_time}",
            }
            result = self._call("GET", account_id, f"{node}/conversations", params=params, fake={})
            threads = get_field(result, "data")
            items = [
                m
                for t in (threads if isinstance(threads, list) else [])
                for m in (get_field(get_field(t, "messages"), "data") or [])
            ]
            return match_sent(items, "message", text, since=since, exclude_author=target_id)
        raise ValueError(f"kind {kind!r} must be comment_reply, private_reply or message")

    # -- internals ---------------------------------------------------------------------------

    def _send(self, account_id: str, platform: str, body: dict[str, Any]) -> str:
        return self._send_full(account_id, platform, body).message_id

    def _send_full(self, account_id: str, platform: str, body: dict[str, Any]) -> SentMessage:
        # FB: the Page node. IG: /me, because with Facebook Login the token is the linked Page's
        # (the IG account id is not the node) and with Instagram Login `me` is the IG user.
        path = f"/{account_id}/messages" if platform == "facebook" else "/me/messages"
        fake = {
            "recipient_id": body["recipient"].get("id", ""),
            "message_id": f"m_dry_run_{next(self._fake_ids)}",
        }
        result = self._call("POST", account_id, path, json_body=body, fake=fake)
        message_id = require_key(result, "message_id", account_id)
        recipient = get_field(result, "recipient_id")
        return SentMessage(message_id, str(recipient) if recipient else None)

    def _post_success(self, account_id: str, path: str, data: dict[str, str]) -> None:
        result = self._call("POST", account_id, path, data=data, fake={"success": True})
        require_success(result)

    def _subscription_path(self, account_id: str) -> str:
        # IG-login accounts subscribe via /me on graph.instagram.com; for an IG account on
        # Facebook Login pass the linked Page id instead.
        if account_id in self.instagram_login_accounts:
            return "/me/subscribed_apps"
        return f"/{check_id(account_id, 'account_id')}/subscribed_apps"

    def _check_platform(self, account_id: str, platform: str) -> None:
        if platform not in PLATFORMS:
            raise ValueError(f"platform {platform!r} must be one of {PLATFORMS}")
        if platform == "facebook" and account_id in self.instagram_login_accounts:
            raise ValueError(f"account {account_id} uses Instagram Login; it has no Facebook Page")

    def _call(
        self,
        method: str,
        account_id: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        data: dict[str, str] | None = None,
        json_body: dict[str, Any] | None = None,
        fake: Any = None,
    ) -> Any:
        check_id(account_id, "account_id")
        # Checked in dry run too: a missing token must show up during the first week.
        token = self._tokens.get(account_id)
        if not token:
            message = f"no access token configured for account {account_id}"
            raise GraphError(message, kind="token", account_id=account_id)
        ig_login = account_id in self.instagram_login_accounts
        host = self.instagram_base_url if ig_login else self.base_url
        body = data if data is not None else json_body
        as_json = json_body is not None
        call = GraphCall(method, path, dict(params or {}), body, account_id, host, as_json)
        if self.dry_run:
            self.recorded.append(call)
            log.info("graph dry-run: would %s %s account=%s", method, path, account_id)
            return fake
        query = {**call.params, "access_token": token}
        proof = None
        # appsecret_proof support on graph.instagram.com is unconfirmed (pyfacebook sends none).
        if self._app_secret and not ig_login:
            proof = hmac.new(self._app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()
            query["appsecret_proof"] = proof
        url = f"{host}/{self.api_version}{path}"
        failure: GraphError | None = None
        try:
            resp = self.session.request(
                method, url, params=query, data=data, json=json_body, timeout=self.timeout
            )
        except requests.RequestException as exc:
            failure = error_from_transport(exc, account_id=account_id, secrets=(token, proof))
        if failure is not None:
            # Raised outside the except block: the requests exception's text holds the URL
            # with the token, and must not be chained into tracebacks.
            raise self._logged(method, path, failure)
        return self._handle(resp, method, path, account_id)

    def _handle(self, resp: requests.Response, method: str, path: str, account_id: str) -> Any:
        usage = Usage.from_headers(resp.headers)
        self.last_usage[account_id] = usage
        served = resp.headers.get("facebook-api-version")
        if served and served != self.api_version and served not in self._warned_versions:
            # Meta silently answers an expired version with the oldest live one.
            self._warned_versions.add(served)
            log.warning("graph asked for %s but %s answered", self.api_version, served)
        try:
            body = resp.json()
        except ValueError:
            body = None
        status = resp.status_code
        failure = check_response(
            status, body, usage, resp.headers, method=method, account_id=account_id
        )
        if failure is not None:
            raise self._logged(method, path, failure)
        pct = usage.max_percent(account_id)
        log.debug(
            "graph %s %s account=%s status=%s usage=%s%%", method, path, account_id, status, pct
        )
        return body

    @staticmethod
    def _logged(method: str, path: str, err: GraphError) -> GraphError:
        # Ids and codes only: Meta's message stays on the exception, user text never logged.
        log.warning(
            "graph %s %s failed account=%s kind=%s code=%s subcode=%s status=%s ambiguous=%s "
            "fbtrace_id=%s",
            *(method, path, err.account_id, err.kind, err.code, err.subcode, err.status),
            *(err.ambiguous, err.fbtrace_id),
        )
        return err
