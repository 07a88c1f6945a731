"""The receiver's answers: verified before parsed, stored before acknowledged, nothing partial."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, func, select

from bot.models import InboundEvent, Item
from bot.untrusted import MAX_JSON_DEPTH, UntrustedInput, json_loads
from tests.helpers import APP_SECRET, PAGE_ID, VERIFY_TOKEN, page_comment, signed_post
from webhooks.signature import sign


def _counts(app: Flask) -> tuple[int, int]:
    with Session(app.extensions["haven"].engine) as session:
        events = session.exec(select(func.count()).select_from(InboundEvent)).one()
        items = session.exec(select(func.count()).select_from(Item)).one()
    return events, items


def test_the_handshake_echoes_the_challenge_for_our_token(client: FlaskClient) -> None:
    response = client.get(
        "/webhooks/meta",
        query_string={
            "hub.mode": "subscribe",
            "hub.verify_token": VERIFY_TOKEN,
            "hub.challenge": "1158201444",
        },
    )
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "1158201444"
    assert response.mimetype == "text/plain"


@pytest.mark.parametrize(
    "query",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.challenge": "1"},
        # A challenge that could be markup is never echoed (a reflected-XSS seen elsewhere).
        {
            "hub.mode": "subscribe",
            "hub.verify_token": VERIFY_TOKEN,
            "hub.challenge": "<script>alert(1)</script>",
        },
    ],
)
def test_the_handshake_refuses_anything_else(client: FlaskClient, query: dict) -> None:
    response = client.get("/webhooks/meta", query_string=query)
    assert response.status_code == 403
    assert "script" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "signature",
    [None, "", "sha256=" + "0" * 64, "sha1=abc", "garbage", sign(b"other body", APP_SECRET)],
)
def test_a_forged_or_missing_signature_is_refused_and_stores_nothing(
    app: Flask, client: FlaskClient, signature: str | None
) -> None:
    body = json.dumps(page_comment("hello")).encode()
    headers = {} if signature is None else {"X-Hub-Signature-256": signature}
    response = client.post(
        "/webhooks/meta", data=body, headers=headers, content_type="application/json"
    )
    assert response.status_code == 403
    assert _counts(app) == (0, 0)


def test_malformed_json_is_a_400_with_a_reason(app: Flask, client: FlaskClient) -> None:
    response = signed_post(client, b'{"object": "page", "entry": [')
    assert response.status_code == 400
    assert "malformed JSON" in response.get_json()["status"]
    assert _counts(app) == (0, 0)


def test_a_body_over_the_limit_is_a_413(app: Flask, client: FlaskClient) -> None:
    limit = app.config["MAX_CONTENT_LENGTH"]
    payload = page_comment("x" * (limit + 10))
    response = signed_post(client, payload)
    assert response.status_code == 413
    assert _counts(app) == (0, 0)


def test_the_wrong_content_type_is_a_415(app: Flask, client: FlaskClient) -> None:
    body = json.dumps(page_comment("hello")).encode()
    response = client.post(
        "/webhooks/meta",
        data=body,
        headers={"X-Hub-Signature-256": sign(body, APP_SECRET)},
        content_type="text/plain",
    )
    assert response.status_code == 415
    assert _counts(app) == (0, 0)


def test_a_stored_item_is_enqueued_once_by_id(app: Flask, client: FlaskClient) -> None:
    enqueued: list[tuple[str, tuple, str]] = []

    class Recorder:
        def enqueue(self, func: str, *args: object, job_id: str, retry: bool = True) -> None:
            enqueued.append((func, args, job_id))

    app.extensions["haven"].enqueuer = Recorder()
    payload = page_comment("Is the Tuesday group on this week?")
    assert signed_post(client, payload).status_code == 200
    assert signed_post(client, payload).status_code == 200
    assert [(f, a) for f, a, _ in enqueued] == [("workers.jobs.process_item", (1,))]
    assert _counts(app) == (1, 1)


def test_the_page_is_known_or_the_item_is_kept_but_not_acted_on(
    app: Flask, client: FlaskClient
) -> None:
    payload = page_comment("hello")
    payload["entry"][0]["id"] = "999999999"
    assert signed_post(client, payload).status_code == 200
    app.extensions["haven"].enqueuer.wait_idle()
    with Session(app.extensions["haven"].engine) as session:
        item = session.exec(select(Item)).one()
    assert item.known_account is False and item.status == "skipped"
    assert PAGE_ID != item.account_id


def test_the_instagram_login_app_secret_is_accepted_too(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from bot.app import create_app
    from bot.tasks import LocalEnqueuer
    from tests.helpers import make_settings

    settings = make_settings(tmp_path, META_IG_APP_SECRET="instagram-login-secret-77")
    queue = LocalEnqueuer([0])
    app = create_app(settings, enqueuer=queue)
    try:
        client = app.test_client()
        payload = page_comment("hello from the other app")
        assert signed_post(client, payload, secret="instagram-login-secret-77").status_code == 200
        assert signed_post(client, payload, secret="some-other-secret").status_code == 403
    finally:
        queue.stop()
        app.extensions["haven"].engine.dispose()


def _nested(depth: int, inner: str = "1") -> str:
    return "[" * depth + inner + "]" * depth


@pytest.mark.parametrize(
    "body",
    [
        # Beyond Python's int-to-text limit (4,300 digits): ValueError, not JSONDecodeError.
        b'{"object": "page", "entry": [{"id": ' + b"9" * 5000 + b"}]}",
        # Deeper than the decoder's recursion limit: RecursionError.
        ('{"object": "page", "entry": ' + _nested(100_000) + "}").encode(),
        # Decodable, but deeper than any Meta payload: later code would recurse through it.
        json.dumps(page_comment("hi")).replace('"hi"', _nested(900, '"hi"')).encode(),
        json.dumps(page_comment("hi"))
        .replace('"Jo Visitor"', '{"a": ' * 900 + '"Jo"' + "}" * 900)
        .encode(),
    ],
    ids=["int-over-4300-digits", "100k-deep", "900-deep-message", "900-deep-name"],
)
def test_any_json_error_in_a_signed_delivery_is_a_400_and_stores_nothing(
    app: Flask, client: FlaskClient, body: bytes
) -> None:
    response = signed_post(client, body)
    assert response.status_code == 400
    assert "malformed JSON" in response.get_json()["status"]
    assert _counts(app) == (0, 0)


def test_the_depth_limit_is_exact_and_far_above_what_meta_sends() -> None:
    assert json_loads(_nested(MAX_JSON_DEPTH)) is not None
    with pytest.raises(UntrustedInput):
        json_loads(_nested(MAX_JSON_DEPTH + 1))
    assert json_loads('"text"') == "text" and json_loads("7") == 7
