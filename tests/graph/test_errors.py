"""Error classification: every Meta error class, transport failures, ambiguity, redaction."""

from __future__ import annotations

import json
import pickle
import socket
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
from urllib3.exceptions import MaxRetryError, NameResolutionError, NewConnectionError, ProtocolError

from bot.graph.client import GraphClient
from bot.graph.errors import KINDS, GraphError, classify, match_sent, redact

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "meta"
ERRORS = json.loads((FIXTURES / "graph_errors.json").read_text())["cases"]

PAGE = "111222333444555"
IG = "17841400000000000"
PSID = "7392015648120394"
TOKEN = "EAAPageTokenAAA111"
SECRET = "app-secret-0123456789"
SEND_URL = f"https://graph.facebook.com/v24.0/{PAGE}/messages"
IG_SEND_URL = "https://graph.facebook.com/v24.0/me/messages"


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def client() -> GraphClient:
    return GraphClient(
        session=requests.Session(), app_secret=SECRET, tokens={PAGE: TOKEN, IG: "EAAForIg"}
    )


def add(rsps: responses.RequestsMock, url: str, recorded: dict[str, Any]) -> None:
    headers = dict(recorded["headers"])
    content_type = headers.pop("Content-Type")
    body = recorded["body"]
    payload = {"json": body} if not isinstance(body, str) else {"body": body}
    rsps.add(
        "POST",
        url,
        status=recorded["status"],
        headers=headers,
        content_type=content_type,
        **payload,
    )


def send(client: GraphClient, account: str = PAGE) -> GraphError:
    platform = "facebook" if account == PAGE else "instagram"
    with pytest.raises(GraphError) as info:
        client.send_message(account, PSID, "hello", platform=platform)
    return info.value


# case -> (kind, permanent, ambiguous, retry_after)
TABLE = {
    "code1_unknown": ("transient", False, True, None),
    "code2_service": ("transient", False, True, None),
    "code4_app_rate": ("rate_limited", False, False, None),
    "code17_user_rate": ("rate_limited", False, False, None),
    "code32_page_rate": ("rate_limited", False, False, None),
    "code613_custom": ("rate_limited", False, False, None),
    "code80001_buc_pages": ("rate_limited", False, False, 720.0),
    "code80002_buc_instagram": ("rate_limited", False, False, 180.0),
    "code80006_buc_messenger_no_header": ("rate_limited", False, False, None),
    "code190_expired": ("token", True, False, None),
    "code190_password_changed": ("token", True, False, None),
    "code190_no_subcode": ("token", True, False, None),
    "code10_permission": ("permission", True, False, None),
    "code200_permission": ("permission", True, False, None),
    "code10_outside_window": ("outside_window", True, False, None),
    "code100_object_gone": ("parameter", True, False, None),
    "code100_private_reply_blocked": ("private_reply_blocked", True, False, None),
    "code10900_already_replied": ("already_replied", True, False, None),
    "code551_unavailable": ("unavailable", True, False, None),
    "code368_policy": ("policy_block", True, False, None),
    "code3_unlisted": ("unknown", True, False, None),
    "http502_html": ("transient", False, True, None),
    "http503_retry_after": ("transient", False, True, 30.0),
    "http429_no_body": ("rate_limited", False, False, None),
    "http200_with_error": ("parameter", True, False, None),
}


def test_table_covers_every_fixture() -> None:
    assert set(TABLE) == set(ERRORS)


@pytest.mark.parametrize("case", sorted(TABLE))
def test_error_responses_are_classified(rsps, client: GraphClient, case: str) -> None:
    recorded = ERRORS[case]
    account = IG if "instagram" in case else PAGE
    add(rsps, IG_SEND_URL if account == IG else SEND_URL, recorded)
    err = send(client, account)
    kind, permanent, ambiguous, retry_after = TABLE[case]
    assert (err.kind, err.permanent, err.ambiguous, err.retry_after) == (
        kind,
        permanent,
        ambiguous,
        retry_after,
    )
    assert err.status == recorded["status"] and err.account_id == account
    body = recorded["body"]
    if isinstance(body, dict):
        meta = body["error"]
        assert (err.code, err.subcode) == (meta["code"], meta.get("error_subcode"))
        assert (err.type, err.fbtrace_id, err.message) == (
            meta["type"],
            meta["fbtrace_id"],
            meta["message"],
        )
    else:
        assert err.code is None and str(recorded["status"]) in err.message
    assert err.kind in str(err) and str(err.code) in str(err)


def test_user_facing_fields_are_kept(rsps, client: GraphClient) -> None:
    add(rsps, SEND_URL, ERRORS["code10_outside_window"])
    err = send(client)
    assert err.user_title == "Message Not Sent"
    assert err.user_msg is not None and "receiving messages" in err.user_msg


def test_is_transient_is_only_a_hint(rsps, client: GraphClient) -> None:
    recorded = json.loads(json.dumps(ERRORS["code100_object_gone"]))
    recorded["body"]["error"]["is_transient"] = True
    add(rsps, SEND_URL, recorded)
    err = send(client)
    assert err.kind == "parameter" and err.permanent and err.is_transient is True


def test_rate_limit_wait_comes_from_this_accounts_entry(rsps, client: GraphClient) -> None:
    usage = {
        "999": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 60}],
        PAGE: [{"type": "messenger", "call_count": 100, "estimated_time_to_regain_access": 5}],
    }
    recorded = dict(ERRORS["code80006_buc_messenger_no_header"])
    recorded["headers"] = {**recorded["headers"], "X-Business-Use-Case-Usage": json.dumps(usage)}
    add(rsps, SEND_URL, recorded)
    assert send(client).retry_after == 300.0


def test_rate_limit_with_zero_regain_time_leaves_backoff_to_caller(rsps, client) -> None:
    usage = {PAGE: [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 0}]}
    recorded = dict(ERRORS["code4_app_rate"])
    recorded["headers"] = {**recorded["headers"], "X-Business-Use-Case-Usage": json.dumps(usage)}
    add(rsps, SEND_URL, recorded)
    assert send(client).retry_after is None


@pytest.mark.parametrize(
    ("status", "code", "subcode", "text", "kind"),
    [
        (500, None, None, "", "transient"),
        (504, None, None, "", "transient"),
        (429, None, None, "", "rate_limited"),
        (404, None, None, "", "unknown"),
        (None, None, None, "", "unknown"),
        (400, 1, None, "", "transient"),
        (400, 2, None, "", "transient"),
        *[(400, c, None, "", "rate_limited") for c in (4, 17, 32, 613, *range(80001, 80007))],
        (400, 80000, None, "", "unknown"),
        (400, 80007, None, "", "unknown"),
        *[(400, 190, s, "", "token") for s in (None, 458, 459, 460, 463, 464, 467, 492)],
        (400, 10, 2018278, "", "outside_window"),
        # Instagram's window error carries another subcode: the wording still identifies it.
        (
            400,
            10,
            2534022,
            "(#10) This message is sent outside of allowed window.",
            "outside_window",
        ),
        (400, 10, None, "", "permission"),
        (400, 200, None, "", "permission"),
        (400, 299, None, "", "permission"),
        (400, 300, None, "", "unknown"),
        (400, 100, 33, "", "parameter"),
        (
            400,
            100,
            None,
            "The user\u2019s settings don\u2019t allow you to respond in private",
            "private_reply_blocked",
        ),
        (400, 10900, None, "", "already_replied"),
        (400, 551, 1545041, "", "unavailable"),
        (400, 368, None, "", "policy_block"),
        (500, 3, None, "", "transient"),
        (400, 3, None, "", "unknown"),
    ],
)
def test_classify(status, code, subcode, text, kind) -> None:
    assert classify(status=status, code=code, subcode=subcode, text=text) == kind


def test_private_reply_wording_in_user_msg_counts(rsps, client: GraphClient) -> None:
    recorded = json.loads(json.dumps(ERRORS["code100_object_gone"]))
    recorded["body"]["error"]["message"] = "(#100) Invalid parameter"
    recorded["body"]["error"]["error_user_msg"] = (
        "Their settings don't allow you to respond in private."
    )
    add(rsps, SEND_URL, recorded)
    assert send(client).kind == "private_reply_blocked"


def test_codes_given_as_strings_are_read(rsps, client: GraphClient) -> None:
    body = {
        "error": {
            "message": "(#190) x",
            "type": "OAuthException",
            "code": "190",
            "error_subcode": "463",
        }
    }
    rsps.add("POST", SEND_URL, status=400, json=body)
    err = send(client)
    assert (err.kind, err.code, err.subcode) == ("token", 190, 463)


@pytest.mark.parametrize("body", [{"error": "bad"}, {"error": None}, [], {"error": {"code": True}}])
def test_odd_error_bodies_do_not_crash(rsps, client: GraphClient, body: Any) -> None:
    rsps.add("POST", SEND_URL, status=400, json=body)
    err = send(client)
    assert err.kind == "unknown" and err.code is None


# -- transport failures ----------------------------------------------------------------------


def _refused() -> requests.ConnectionError:
    reason = NewConnectionError(None, "Failed to establish a new connection: [Errno 111]")  # type: ignore[arg-type]
    return requests.ConnectionError(MaxRetryError(None, SEND_URL, reason))  # type: ignore[arg-type]


def _dns() -> requests.ConnectionError:
    reason = NameResolutionError("graph.facebook.com", None, socket.gaierror(-2, "Name unknown"))  # type: ignore[arg-type]
    return requests.ConnectionError(MaxRetryError(None, SEND_URL, reason))  # type: ignore[arg-type]


def _reset() -> requests.ConnectionError:
    # What requests raises when the peer resets the connection while we read the answer.
    return requests.ConnectionError(
        ProtocolError("Connection aborted.", ConnectionResetError(104, "Connection reset by peer"))
    )


@pytest.mark.parametrize(
    ("exc", "kind", "ambiguous"),
    [
        (requests.exceptions.ConnectTimeout("connect timed out"), "transient", False),
        (requests.exceptions.ReadTimeout("read timed out"), "transient", True),
        (requests.exceptions.Timeout("timed out"), "transient", True),
        (_refused(), "transient", False),
        (_dns(), "transient", False),
        (_reset(), "transient", True),
        (requests.exceptions.ChunkedEncodingError("broken body"), "transient", True),
        (requests.exceptions.SSLError("tls failure"), "transient", True),
        (requests.ConnectionError("unexplained"), "transient", True),
        (requests.exceptions.InvalidURL("bad url"), "unknown", False),
    ],
)
def test_transport_failures(rsps, client, exc: Exception, kind: str, ambiguous: bool) -> None:
    rsps.add("POST", SEND_URL, body=exc)
    err = send(client)
    assert (err.kind, err.ambiguous, err.status, err.code) == (kind, ambiguous, None, None)
    assert err.permanent is (kind != "transient")
    assert type(exc).__name__ in err.message


def test_transport_error_text_is_redacted_and_not_chained(rsps, client: GraphClient) -> None:
    url = f"{SEND_URL}?access_token={TOKEN}&appsecret_proof=abcdef0123"
    rsps.add(
        "POST", SEND_URL, body=requests.ConnectionError(f"Max retries exceeded with url: {url}")
    )
    err = send(client)
    assert TOKEN not in str(err) and "abcdef0123" not in str(err)
    assert "access_token=[redacted]" in err.message
    assert err.__cause__ is None and err.__context__ is None


def test_redact() -> None:
    text = "x?access_token=EAAx&appsecret_proof=99&fields=id y EAAx"
    assert redact(text, ["EAAx", None, ""]) == (
        "x?access_token=[redacted]&appsecret_proof=[redacted]&fields=id y [redacted]"
    )


# -- GraphError itself -----------------------------------------------------------------------


def test_permanent_for_every_kind() -> None:
    for kind in KINDS:
        err = GraphError("x", kind=kind)
        assert err.permanent is (kind not in {"transient", "rate_limited"})


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="kind"):
        GraphError("x", kind="temporary")


def test_graph_error_pickles_with_all_fields() -> None:
    err = GraphError(
        "(#80001) too many calls",
        kind="rate_limited",
        status=400,
        code=80001,
        subcode=None,
        type="OAuthException",
        fbtrace_id="G7h8",
        retry_after=720.0,
        account_id=PAGE,
    )
    copy = pickle.loads(pickle.dumps(err))
    assert vars(copy) == vars(err) and str(copy) == str(err) and copy.args == err.args


def test_match_sent_tolerates_garbage() -> None:
    assert match_sent(None, "message", "x").found is False
    assert match_sent([None, 1, {"message": 5}, {"from": "me"}], "message", "x").found is False
    found = match_sent(
        [{"message": "x", "from": "weird", "created_time": "yesterday"}], "message", "x"
    )
    assert found.found is True and found.id is None
