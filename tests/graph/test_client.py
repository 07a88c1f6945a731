"""GraphClient request shapes, dry run, tokens, hosts, usage and logging."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from bot.graph.client import GraphCall, GraphClient, GraphError, SentCheck, validate_api_version

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "meta"
RESPONSES = json.loads((FIXTURES / "graph_responses.json").read_text())
ERRORS = json.loads((FIXTURES / "graph_errors.json").read_text())["cases"]

PAGE = "111222333444555"
IG = "17841400000000000"  # IG account on Facebook Login: the linked Page's token
IG_LOGIN = "17841499999999999"  # IG account on Instagram Login (graph.instagram.com)
COMMENT = "900000000000001_700000000000009"
IG_COMMENT = "17867301270523379"
PSID = "7392015648120394"
SECRET = "app-secret-0123456789"
TOKENS = {PAGE: "EAAPageTokenAAA111", IG: "EAAPageTokenForIgBBB222", IG_LOGIN: "IGQVJigLoginCCC333"}
FB = "https://graph.facebook.com/v24.0"
IGH = "https://graph.instagram.com/v24.0"
# A distinctive reply text: must never show up in URLs or logs.
TEXT = "Hi Jo \u2014 please don't share your address here \U0001f499 (ref SAFE-7731)"


def proof(token: str) -> str:
    """appsecret_proof computed independently of bot.graph.client."""
    return hmac.new(SECRET.encode("utf-8"), token.encode("utf-8"), hashlib.sha256).hexdigest()


def add(rsps: responses.RequestsMock, method: str, url: str, recorded: dict[str, Any]) -> None:
    headers = dict(recorded.get("headers", {}))
    content_type = headers.pop("Content-Type", "application/json")
    body = recorded["body"]
    payload = {"json": body} if not isinstance(body, str) else {"body": body}
    rsps.add(
        method,
        url,
        status=recorded["status"],
        headers=headers,
        content_type=content_type,
        **payload,
    )


def query(call: Any) -> dict[str, str]:
    parsed = parse_qs(urlsplit(call.request.url).query, keep_blank_values=True)
    return {k: v[0] for k, v in parsed.items()}


def form(call: Any) -> dict[str, str]:
    body = call.request.body
    text = body.decode() if isinstance(body, bytes) else body
    return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}


def json_body(call: Any) -> Any:
    assert call.request.headers["Content-Type"] == "application/json"
    return json.loads(call.request.body)


def path_of(call: Any) -> str:
    parts = urlsplit(call.request.url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def make_client(**overrides: Any) -> GraphClient:
    kwargs: dict[str, Any] = {
        "session": requests.Session(),
        "app_secret": SECRET,
        "tokens": TOKENS,
        "instagram_login_accounts": {IG_LOGIN},
    }
    kwargs.update(overrides)
    return GraphClient(**kwargs)


@pytest.fixture
def client() -> GraphClient:
    return make_client()


def assert_auth(call: Any, token: str, *, with_proof: bool = True) -> None:
    params = query(call)
    assert params["access_token"] == token
    if with_proof:
        assert params["appsecret_proof"] == proof(token)
    else:
        assert "appsecret_proof" not in params
    assert call.request.req_kwargs["timeout"] == 10.0
    # The text travels in the body only, never in the URL (proxies and access logs see URLs).
    assert "SAFE-7731" not in call.request.url


# -- version and construction ----------------------------------------------------------------


@pytest.mark.parametrize("version", ["v24.0", "v25.0", "v26.0", "v100.0"])
def test_accepts_v24_or_newer(version: str) -> None:
    assert validate_api_version(version) == version
    assert make_client(api_version=version).api_version == version


@pytest.mark.parametrize(
    "version", ["v20.0", "v23.0", "24.0", "v24", "latest", "", "v24.0.1", " v24.0", "V24.0"]
)
def test_refuses_old_or_malformed_version_naming_it(version: str) -> None:
    with pytest.raises(ValueError, match=repr(version).replace("\\", "\\\\").replace(".", r"\.")):
        make_client(api_version=version)


@pytest.mark.parametrize("url", ["graph.facebook.com", "ftp://x", "", "https://"])
def test_refuses_bad_base_url(url: str) -> None:
    with pytest.raises(ValueError, match="base_url"):
        make_client(base_url=url)


@pytest.mark.parametrize("timeout", [0, -1])
def test_refuses_missing_timeout(timeout: float) -> None:
    with pytest.raises(ValueError, match="timeout"):
        make_client(timeout=timeout)


def test_repr_shows_no_secret_or_token(client: GraphClient) -> None:
    assert SECRET not in repr(client)
    assert all(token not in repr(client) for token in TOKENS.values())


# -- request shapes --------------------------------------------------------------------------


def test_reply_to_facebook_comment(rsps, client: GraphClient) -> None:
    add(rsps, "POST", f"{FB}/{COMMENT}/comments", RESPONSES["fb_comment_reply"])
    new_id = client.reply_to_comment(PAGE, COMMENT, TEXT, platform="facebook")
    assert new_id == "900000000000001_700000000000011"
    (call,) = rsps.calls
    assert call.request.method == "POST"
    assert path_of(call) == f"{FB}/{COMMENT}/comments"
    assert form(call) == {"message": TEXT}
    assert_auth(call, TOKENS[PAGE])


def test_reply_to_instagram_comment_via_facebook_login(rsps, client: GraphClient) -> None:
    add(rsps, "POST", f"{FB}/{IG_COMMENT}/replies", RESPONSES["ig_comment_reply"])
    assert client.reply_to_comment(IG, IG_COMMENT, TEXT, platform="instagram") == (
        "17870000000000001"
    )
    (call,) = rsps.calls
    assert form(call) == {"message": TEXT}
    assert_auth(call, TOKENS[IG])


def test_instagram_login_account_uses_instagram_host_without_proof(rsps, client) -> None:
    add(rsps, "POST", f"{IGH}/{IG_COMMENT}/replies", RESPONSES["ig_comment_reply"])
    client.reply_to_comment(IG_LOGIN, IG_COMMENT, TEXT, platform="instagram")
    (call,) = rsps.calls
    assert path_of(call) == f"{IGH}/{IG_COMMENT}/replies"
    assert_auth(call, TOKENS[IG_LOGIN], with_proof=False)


def test_facebook_call_for_instagram_login_account_is_refused(rsps, client) -> None:
    with pytest.raises(ValueError, match="Instagram Login"):
        client.hide_comment(IG_LOGIN, COMMENT, True, platform="facebook")
    assert len(rsps.calls) == 0


def test_private_reply_to_facebook_comment_is_json(rsps, client: GraphClient) -> None:
    add(rsps, "POST", f"{FB}/{PAGE}/messages", RESPONSES["private_reply_ok"])
    assert client.send_private_reply(PAGE, COMMENT, TEXT, platform="facebook") == "m_PrIvAtE1"
    (call,) = rsps.calls
    assert json_body(call) == {"recipient": {"comment_id": COMMENT}, "message": {"text": TEXT}}
    assert_auth(call, TOKENS[PAGE])


def test_private_reply_to_visitor_post_uses_post_id(rsps, client: GraphClient) -> None:
    add(rsps, "POST", f"{FB}/{PAGE}/messages", RESPONSES["private_reply_ok"])
    post_id = f"{PAGE}_900000000000077"
    client.send_private_reply(PAGE, post_id, TEXT, platform="facebook", post=True)
    assert json_body(rsps.calls[0])["recipient"] == {"post_id": post_id}


def test_private_reply_post_flag_is_facebook_only(rsps, client: GraphClient) -> None:
    with pytest.raises(ValueError, match="visitor posts"):
        client.send_private_reply(IG, IG_COMMENT, TEXT, platform="instagram", post=True)


@pytest.mark.parametrize(
    ("account", "url"), [(IG, f"{FB}/me/messages"), (IG_LOGIN, f"{IGH}/me/messages")]
)
def test_instagram_private_reply_goes_to_me_messages(rsps, client, account, url) -> None:
    add(rsps, "POST", url, RESPONSES["private_reply_ok"])
    client.send_private_reply(account, IG_COMMENT, TEXT, platform="instagram")
    (call,) = rsps.calls
    assert json_body(call) == {"recipient": {"comment_id": IG_COMMENT}, "message": {"text": TEXT}}
    assert_auth(call, TOKENS[account], with_proof=account != IG_LOGIN)


def test_send_message_is_a_response_with_metadata(rsps, client: GraphClient) -> None:
    add(rsps, "POST", f"{FB}/{PAGE}/messages", RESPONSES["send_ok"])
    mid = client.send_message(PAGE, PSID, TEXT, platform="facebook", metadata="haven:draft:42")
    assert mid == "m_AbC1dEf2GhI3"
    (call,) = rsps.calls
    assert json_body(call) == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {"text": TEXT, "metadata": "haven:draft:42"},
    }
    assert_auth(call, TOKENS[PAGE])


def test_send_message_without_metadata_sends_no_metadata_key(rsps, client) -> None:
    add(rsps, "POST", f"{FB}/me/messages", RESPONSES["send_ok"])
    client.send_message(IG, "6841100000000000", TEXT, platform="instagram")
    assert json_body(rsps.calls[0])["message"] == {"text": TEXT}


def test_send_message_refuses_oversized_metadata(client: GraphClient) -> None:
    with pytest.raises(ValueError, match="metadata"):
        client.send_message(PAGE, PSID, TEXT, platform="facebook", metadata="x" * 1001)


@pytest.mark.parametrize(
    ("platform", "account", "cid", "field"),
    [("facebook", PAGE, COMMENT, "is_hidden"), ("instagram", IG, IG_COMMENT, "hide")],
)
@pytest.mark.parametrize("hidden", [True, False])
def test_hide_and_unhide(rsps, client, platform, account, cid, field, hidden) -> None:
    add(rsps, "POST", f"{FB}/{cid}", RESPONSES["success"])
    assert client.hide_comment(account, cid, hidden, platform=platform) is None
    (call,) = rsps.calls
    assert form(call) == {field: "true" if hidden else "false"}
    assert_auth(call, TOKENS[account])


def test_delete_comment(rsps, client: GraphClient) -> None:
    add(rsps, "DELETE", f"{FB}/{COMMENT}", RESPONSES["success"])
    client.delete_comment(PAGE, COMMENT)
    (call,) = rsps.calls
    assert call.request.method == "DELETE"
    assert_auth(call, TOKENS[PAGE])


def test_success_false_is_an_error(rsps, client: GraphClient) -> None:
    add(rsps, "POST", f"{FB}/{COMMENT}", RESPONSES["success_false"])
    with pytest.raises(GraphError) as info:
        client.hide_comment(PAGE, COMMENT, True, platform="facebook")
    assert info.value.kind == "unknown" and info.value.permanent


def test_get_facebook_comment_default_fields(rsps, client: GraphClient) -> None:
    add(rsps, "GET", f"{FB}/{COMMENT}", RESPONSES["fb_comment"])
    comment = client.get_comment(PAGE, COMMENT, platform="facebook")
    assert comment["can_reply_privately"] is True and comment["is_hidden"] is False
    (call,) = rsps.calls
    fields = query(call)["fields"].split(",")
    assert {"can_reply_privately", "is_hidden", "can_hide", "message", "from"} <= set(fields)
    assert call.request.body is None
    assert_auth(call, TOKENS[PAGE])


def test_get_instagram_comment_custom_fields(rsps, client: GraphClient) -> None:
    add(rsps, "GET", f"{FB}/{IG_COMMENT}", RESPONSES["ig_comment"])
    comment = client.get_comment(IG, IG_COMMENT, platform="instagram", fields=["id", "hidden"])
    assert comment["hidden"] is False
    assert query(rsps.calls[0])["fields"] == "id,hidden"


def test_get_instagram_comment_default_fields(rsps, client: GraphClient) -> None:
    add(rsps, "GET", f"{FB}/{IG_COMMENT}", RESPONSES["ig_comment"])
    client.get_comment(IG, IG_COMMENT, platform="instagram")
    assert "hidden" in query(rsps.calls[0])["fields"].split(",")


def test_subscribed_apps(rsps, client: GraphClient) -> None:
    add(rsps, "GET", f"{FB}/{PAGE}/subscribed_apps", RESPONSES["subscribed_apps"])
    apps = client.subscribed_apps(PAGE)
    assert apps[0]["subscribed_fields"] == ["feed", "messages", "message_echoes"]
    assert_auth(rsps.calls[0], TOKENS[PAGE])


def test_subscribed_apps_for_instagram_login_uses_me(rsps, client: GraphClient) -> None:
    add(rsps, "GET", f"{IGH}/me/subscribed_apps", {"status": 200, "body": {"data": []}})
    assert client.subscribed_apps(IG_LOGIN) == []


def test_subscribe_app(rsps, client: GraphClient) -> None:
    add(rsps, "POST", f"{FB}/{PAGE}/subscribed_apps", RESPONSES["success"])
    client.subscribe_app(PAGE, ["feed", "messages"])
    assert form(rsps.calls[0]) == {"subscribed_fields": "feed,messages"}


def test_stand_in_base_url_timeout_and_no_secret(rsps) -> None:
    client = make_client(base_url="http://127.0.0.1:8081/", timeout=3.5, app_secret=None)
    add(rsps, "POST", "http://127.0.0.1:8081/v24.0/x_1/comments", RESPONSES["fb_comment_reply"])
    client.reply_to_comment(PAGE, "x_1", TEXT, platform="facebook")
    (call,) = rsps.calls
    assert call.request.req_kwargs["timeout"] == 3.5
    assert "appsecret_proof" not in query(call)


def test_timeout_is_passed_through_a_real_adapter() -> None:
    # Independent of `responses`: a session adapter sees the timeout requests hands it.
    seen: dict[str, Any] = {}

    class Adapter(requests.adapters.BaseAdapter):
        def send(self, request, **kwargs):  # type: ignore[no-untyped-def]
            seen.update(kwargs, url=request.url)
            resp = requests.Response()
            resp.status_code, resp._content = 200, b'{"success": true}'
            resp.request = request
            return resp

        def close(self) -> None:
            pass

    session = requests.Session()
    session.mount("https://", Adapter())
    make_client(session=session).delete_comment(PAGE, COMMENT)
    assert seen["timeout"] == 10.0
    assert f"appsecret_proof={proof(TOKENS[PAGE])}" in seen["url"]


# -- input checks ----------------------------------------------------------------------------


def test_missing_token_is_a_token_error_without_http(rsps) -> None:
    client = make_client(tokens={PAGE: TOKENS[PAGE]})
    with pytest.raises(GraphError) as info:
        client.send_message("999", PSID, TEXT, platform="facebook")
    err = info.value
    assert (err.kind, err.permanent, err.ambiguous, err.account_id) == ("token", True, False, "999")
    assert "999" in err.message
    assert len(rsps.calls) == 0


def test_missing_token_is_reported_in_dry_run_too() -> None:
    client = make_client(tokens={}, dry_run=True)
    with pytest.raises(GraphError, match="no access token"):
        client.hide_comment(PAGE, COMMENT, True, platform="facebook")
    assert client.recorded == []


@pytest.mark.parametrize("bad", ["", "123/../me", "1?fields=x", "1&x=2", "a b", "1#x", None])
def test_path_injection_in_ids_is_refused(rsps, client: GraphClient, bad: Any) -> None:
    with pytest.raises(ValueError, match="not a Graph object id"):
        client.reply_to_comment(PAGE, bad, TEXT, platform="facebook")
    with pytest.raises(ValueError, match="not a Graph object id"):
        client.send_message(PAGE, bad, TEXT, platform="facebook")
    assert len(rsps.calls) == 0


@pytest.mark.parametrize("text", ["", "   \n", None])
def test_empty_text_is_refused(client: GraphClient, text: Any) -> None:
    with pytest.raises(ValueError, match="empty"):
        client.reply_to_comment(PAGE, COMMENT, text, platform="facebook")


def test_unknown_platform_is_refused(client: GraphClient) -> None:
    with pytest.raises(ValueError, match="platform"):
        client.reply_to_comment(PAGE, COMMENT, TEXT, platform="threads")


# -- odd 2xx answers -------------------------------------------------------------------------


def test_2xx_without_id_is_ambiguous(rsps, client: GraphClient) -> None:
    add(rsps, "POST", f"{FB}/{PAGE}/messages", {"status": 200, "body": {"recipient_id": PSID}})
    with pytest.raises(GraphError) as info:
        client.send_message(PAGE, PSID, TEXT, platform="facebook")
    assert info.value.kind == "unknown" and info.value.ambiguous


def test_2xx_that_is_not_json_is_ambiguous_for_a_send(rsps, client: GraphClient) -> None:
    html = {"status": 200, "headers": {"Content-Type": "text/html"}, "body": "<html>ok</html>"}
    add(rsps, "POST", f"{FB}/{COMMENT}/comments", html)
    with pytest.raises(GraphError) as info:
        client.reply_to_comment(PAGE, COMMENT, TEXT, platform="facebook")
    assert info.value.kind == "unknown" and info.value.ambiguous and info.value.status == 200


def test_2xx_that_is_not_json_is_not_ambiguous_for_a_read(rsps, client: GraphClient) -> None:
    add(rsps, "GET", f"{FB}/{COMMENT}", {"status": 200, "body": "not json"})
    with pytest.raises(GraphError) as info:
        client.get_comment(PAGE, COMMENT, platform="facebook")
    assert not info.value.ambiguous


# -- dry run ---------------------------------------------------------------------------------


def test_dry_run_records_every_call_and_sends_nothing(rsps) -> None:
    client = make_client(dry_run=True)
    reply_id = client.reply_to_comment(PAGE, COMMENT, TEXT, platform="facebook")
    mid = client.send_private_reply(IG, IG_COMMENT, TEXT, platform="instagram")
    dm = client.send_message(PAGE, PSID, TEXT, platform="facebook", metadata="haven:draft:1")
    client.hide_comment(IG_LOGIN, IG_COMMENT, True, platform="instagram")
    client.delete_comment(PAGE, COMMENT)
    comment = client.get_comment(PAGE, COMMENT, platform="facebook")
    apps = client.subscribed_apps(PAGE)
    check = client.find_sent_message(
        PAGE, kind="comment_reply", target_id=COMMENT, text=TEXT, platform="facebook"
    )
    assert len(rsps.calls) == 0
    assert reply_id.startswith("dry_run_") and mid.startswith("m_dry_run_") and mid != dm
    assert comment["can_reply_privately"] is True and comment["is_hidden"] is False
    assert apps == [] and check == SentCheck(False, detail="no item with this text")
    assert [(c.method, c.path, c.account_id) for c in client.recorded] == [
        ("POST", f"/{COMMENT}/comments", PAGE),
        ("POST", "/me/messages", IG),
        ("POST", f"/{PAGE}/messages", PAGE),
        ("POST", f"/{IG_COMMENT}", IG_LOGIN),
        ("DELETE", f"/{COMMENT}", PAGE),
        ("GET", f"/{COMMENT}", PAGE),
        ("GET", f"/{PAGE}/subscribed_apps", PAGE),
        ("GET", f"/{COMMENT}/comments", PAGE),
    ]
    first, second, third, fourth = client.recorded[:4]
    assert first == GraphCall(
        "POST", f"/{COMMENT}/comments", {}, {"message": TEXT}, PAGE, "https://graph.facebook.com"
    )
    assert second.as_json and second.body == {
        "recipient": {"comment_id": IG_COMMENT},
        "message": {"text": TEXT},
    }
    assert third.body is not None and third.body["message"]["metadata"] == "haven:draft:1"
    assert fourth.host == "https://graph.instagram.com" and fourth.body == {"hide": "true"}
    recorded = repr(client.recorded)
    assert SECRET not in recorded and all(t not in recorded for t in TOKENS.values())
    assert "appsecret_proof" not in recorded


# -- usage -----------------------------------------------------------------------------------


def test_usage_headers_are_kept_per_account(rsps, client: GraphClient) -> None:
    add(rsps, "POST", f"{FB}/{PAGE}/messages", RESPONSES["send_ok"])
    add(rsps, "POST", f"{FB}/{COMMENT}/comments", RESPONSES["fb_comment_reply"])
    client.send_message(PAGE, PSID, TEXT, platform="facebook")
    assert client.last_usage[PAGE].business[0].type == "messenger"
    assert client.last_usage[PAGE].max_percent() == 4
    client.reply_to_comment(PAGE, COMMENT, TEXT, platform="facebook")
    assert client.last_usage[PAGE].app == {"call_count": 3, "total_time": 1, "total_cputime": 1}
    assert not client.should_slow_down(PAGE)
    assert not client.should_slow_down("never-called")


def test_usage_is_recorded_from_error_responses_and_slows_down(rsps, client) -> None:
    add(rsps, "POST", f"{FB}/{PAGE}/messages", ERRORS["code80001_buc_pages"])
    with pytest.raises(GraphError):
        client.send_message(PAGE, PSID, TEXT, platform="facebook")
    assert client.last_usage[PAGE].wait_seconds(PAGE) == 720.0
    assert client.should_slow_down(PAGE)


@pytest.mark.parametrize(("percent", "slow"), [(79, False), (80, True), (95, True)])
def test_should_slow_down_at_threshold(rsps, client, percent: int, slow: bool) -> None:
    usage = json.dumps({PAGE: [{"type": "pages", "call_count": percent, "total_time": 1}]})
    recorded = {"status": 200, "headers": {"X-Business-Use-Case-Usage": usage}}
    add(rsps, "DELETE", f"{FB}/{COMMENT}", {**recorded, "body": {"success": True}})
    client.delete_comment(PAGE, COMMENT)
    assert client.should_slow_down(PAGE) is slow


def test_malformed_usage_header_never_breaks_a_call(rsps, client: GraphClient) -> None:
    headers = {"X-App-Usage": "{not json", "X-Business-Use-Case-Usage": "[1, 2"}
    add(
        rsps,
        "DELETE",
        f"{FB}/{COMMENT}",
        {"status": 200, "headers": headers, "body": {"success": True}},
    )
    client.delete_comment(PAGE, COMMENT)
    assert client.last_usage[PAGE].max_percent() == 0


def test_served_version_mismatch_is_logged_once(rsps, client, caplog) -> None:
    old = {"status": 200, "headers": {"facebook-api-version": "v20.0"}, "body": {"success": True}}
    add(rsps, "DELETE", f"{FB}/{COMMENT}", old)
    add(rsps, "DELETE", f"{FB}/{COMMENT}", old)
    caplog.set_level(logging.WARNING, logger="bot.graph.client")
    client.delete_comment(PAGE, COMMENT)
    client.delete_comment(PAGE, COMMENT)
    assert [r.getMessage() for r in caplog.records] == ["graph asked for v24.0 but v20.0 answered"]


# -- logging ---------------------------------------------------------------------------------


def test_logs_never_hold_message_text_or_tokens(rsps, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client()
    add(rsps, "POST", f"{FB}/{COMMENT}/comments", RESPONSES["fb_comment_reply"])
    add(rsps, "POST", f"{FB}/{PAGE}/messages", ERRORS["code10_outside_window"])
    add(rsps, "POST", f"{FB}/{PAGE}/messages", ERRORS["http502_html"])
    rsps.add("POST", f"{FB}/me/messages", body=requests.exceptions.ReadTimeout("read timed out"))
    add(rsps, "GET", f"{FB}/{COMMENT}", RESPONSES["fb_comment"])
    client.reply_to_comment(PAGE, COMMENT, TEXT, platform="facebook")
    for _ in range(2):
        with pytest.raises(GraphError):
            client.send_message(PAGE, PSID, TEXT, platform="facebook")
    with pytest.raises(GraphError):
        client.send_private_reply(IG, IG_COMMENT, TEXT, platform="instagram")
    client.get_comment(PAGE, COMMENT, platform="facebook")
    dry = make_client(dry_run=True)
    dry.send_message(PAGE, PSID, TEXT, platform="facebook")
    logged = "\n".join(f"{r.getMessage()} {r.args!r}" for r in caplog.records)
    assert "kind=outside_window" in logged and "dry-run" in logged  # logging did happen
    forbidden = ["SAFE-7731", "please don", "food drive", SECRET, *TOKENS.values()]
    assert not [word for word in forbidden if word in logged]
    assert not [r for r in caplog.records if r.levelno >= logging.INFO and "Jo" in r.getMessage()]


# -- find_sent_message -----------------------------------------------------------------------


def test_find_facebook_comment_reply_found(rsps, client: GraphClient) -> None:
    add(rsps, "GET", f"{FB}/{COMMENT}/comments", RESPONSES["fb_comment_replies"])
    check = client.find_sent_message(
        PAGE,
        kind="comment_reply",
        target_id=COMMENT,
        text="Thanks Jo,  it's on Saturday 10-2.\n",  # Meta may re-wrap whitespace
        platform="facebook",
    )
    assert check.found is True and check.id == "900000000000001_700000000000012"
    params = query(rsps.calls[0])
    assert params["fields"] == "id,message,from,created_time"
    assert params["order"] == "reverse_chronological"


def test_find_comment_reply_absent_with_more_pages_is_unknown(rsps, client) -> None:
    page = json.loads(json.dumps(RESPONSES["fb_comment_replies"]))
    page["body"]["paging"]["next"] = f"{FB}/{COMMENT}/comments?after=QVFIUl9"
    add(rsps, "GET", f"{FB}/{COMMENT}/comments", page)
    check = client.find_sent_message(
        PAGE, kind="comment_reply", target_id=COMMENT, text=TEXT, platform="facebook"
    )
    assert check.found is None


def test_find_comment_reply_absent(rsps, client: GraphClient) -> None:
    add(rsps, "GET", f"{FB}/{COMMENT}/comments", RESPONSES["fb_comment_replies"])
    check = client.find_sent_message(
        PAGE, kind="comment_reply", target_id=COMMENT, text=TEXT, platform="facebook"
    )
    assert check.found is False


def test_find_instagram_reply_ignores_matches_older_than_since(rsps, client) -> None:
    add(rsps, "GET", f"{FB}/{IG_COMMENT}/replies", RESPONSES["ig_comment_replies"])
    add(rsps, "GET", f"{FB}/{IG_COMMENT}/replies", RESPONSES["ig_comment_replies"])
    text = "Thanks! Drop-offs are at the hall, 9-5."
    kwargs: dict[str, Any] = {"kind": "comment_reply", "target_id": IG_COMMENT, "text": text}
    recent = datetime(2026, 11, 21, 7, 9, tzinfo=UTC)
    later = datetime(2026, 11, 22, 7, 9, tzinfo=UTC)
    assert client.find_sent_message(IG, platform="instagram", since=recent, **kwargs).found
    assert client.find_sent_message(IG, platform="instagram", since=later, **kwargs).found is False
    assert query(rsps.calls[0])["fields"] == "id,text,from,timestamp"


def test_find_direct_message(rsps, client: GraphClient) -> None:
    add(rsps, "GET", f"{FB}/{PAGE}/conversations", RESPONSES["conversations"])
    add(rsps, "GET", f"{FB}/{PAGE}/conversations", RESPONSES["conversations"])
    found = client.find_sent_message(
        PAGE, kind="message", target_id=PSID, text="Yes, 9-5.", platform="facebook"
    )
    assert found == SentCheck(True, id="m_ZyX9", detail="same text found")
    params = query(rsps.calls[0])
    assert (params["platform"], params["user_id"]) == ("messenger", PSID)
    assert params["fields"].startswith("messages.limit(20)")
    # The user's own message with the same text is not our send.
    users = client.find_sent_message(
        PAGE,
        kind="message",
        target_id=PSID,
        text="Hi, is the shelter open today?",
        platform="facebook",
    )
    assert users.found is False


def test_find_instagram_direct_message_uses_me(rsps, client: GraphClient) -> None:
    add(rsps, "GET", f"{FB}/me/conversations", {"status": 200, "body": {"data": []}})
    check = client.find_sent_message(
        IG, kind="message", target_id="6841100000000000", text=TEXT, platform="instagram"
    )
    assert check.found is False
    assert query(rsps.calls[0])["platform"] == "instagram"


@pytest.mark.parametrize(("can", "found"), [(True, False), (False, None)])
def test_find_facebook_private_reply(rsps, client, can: bool, found: bool | None) -> None:
    body = {"id": COMMENT, "can_reply_privately": can}
    add(rsps, "GET", f"{FB}/{COMMENT}", {"status": 200, "body": body})
    check = client.find_sent_message(
        PAGE, kind="private_reply", target_id=COMMENT, text=TEXT, platform="facebook"
    )
    assert check.found is found
    assert query(rsps.calls[0])["fields"] == "can_reply_privately"


def test_instagram_private_reply_cannot_be_checked(rsps, client: GraphClient) -> None:
    check = client.find_sent_message(
        IG, kind="private_reply", target_id=IG_COMMENT, text=TEXT, platform="instagram"
    )
    assert check.found is None and "10900" in check.detail
    assert len(rsps.calls) == 0


def test_find_sent_message_refuses_unknown_kind(client: GraphClient) -> None:
    with pytest.raises(ValueError, match="kind"):
        client.find_sent_message(PAGE, kind="dm", target_id=PSID, text=TEXT, platform="facebook")


def test_find_sent_message_errors_are_graph_errors(rsps, client: GraphClient) -> None:
    add(rsps, "GET", f"{FB}/{COMMENT}/comments", ERRORS["code100_object_gone"])
    with pytest.raises(GraphError) as info:
        client.find_sent_message(
            PAGE, kind="comment_reply", target_id=COMMENT, text=TEXT, platform="facebook"
        )
    assert info.value.kind == "parameter"
