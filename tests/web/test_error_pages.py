"""What staff see when a page cannot be shown: a page of Haven's in plain words, with the same
status code as before; Meta's endpoints keep plain answers."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_login import login_required

from tests.helpers import signed_post
from tests.web.dashboard.support import sign_in

PERSON = "6000000000000042"

FLASK_WORDS = ("requested URL was not found", "permission to access", "The browser (or proxy)")


def _shows_haven_words(page: str, title: str) -> None:
    assert title in page and "Back to the queue" in page
    assert not any(words in page for words in FLASK_WORDS), page


def test_a_missing_page_says_so_in_words(as_role: Callable[[str], FlaskClient]) -> None:
    response = as_role("moderator").get("/cases/987654")
    assert response.status_code == 404
    _shows_haven_words(response.get_data(as_text=True), "Nothing here")


def test_a_refusal_explains_itself_and_keeps_its_code(
    as_role: Callable[[str], FlaskClient],
) -> None:
    response = as_role("moderator").get("/holds")  # the lead's and deputy's page
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    _shows_haven_words(page, "This is not open to your account")
    assert "safeguarding lead and deputy" in page


def test_a_query_that_does_not_parse_is_explained(as_role: Callable[[str], FlaskClient]) -> None:
    response = as_role("moderator").get("/?page=%C2%B2")
    assert response.status_code == 400
    _shows_haven_words(response.get_data(as_text=True), "That could not be read")


def test_a_form_page_fetched_directly_is_explained(as_role: Callable[[str], FlaskClient]) -> None:
    response = as_role("moderator").get("/logout")
    assert response.status_code == 405
    _shows_haven_words(response.get_data(as_text=True), "That cannot be done this way")


def test_meta_still_gets_plain_answers(client: FlaskClient) -> None:
    response = signed_post(client, b"{not json")
    assert response.status_code == 400
    assert "Back to the queue" not in response.get_data(as_text=True)
    assert client.get("/webhooks/nowhere").status_code == 404
    assert "Back to the queue" not in client.get("/webhooks/nowhere").get_data(as_text=True)


SECRET_WORDS = "my daughter Amy at St Mary's"


def test_a_fault_gets_a_page_with_the_navigation_and_a_log_line_without_content(
    app: Flask, staff: dict[str, str | None], caplog: pytest.LogCaptureFixture
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as served: tests otherwise re-raise

    @app.get("/test-only/people/<author_id>/fault")
    @login_required
    def fault(author_id: str) -> str:  # a view that fails with content in its message
        raise RuntimeError(f"could not store {SECRET_WORDS!r} for {author_id}")

    client = app.test_client()
    sign_in(client, app, "moderator", staff["moderator"])
    caplog.set_level(logging.INFO)
    response = client.get(f"/test-only/people/{PERSON}/fault")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    _shows_haven_words(page, "Something went wrong on Haven&#39;s side")
    assert 'aria-label="Main"' in page and "Sign out" in page  # the navigation is there
    assert "Traceback" not in page and "RuntimeError" not in page
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    reference = page.split("Reference: <code>")[1].split("</code>")[0]
    assert f"fault {reference}: RuntimeError on GET /test-only/people/<author_id>/fault" in logged
    assert "def fault" in logged or "raise RuntimeError" in logged  # where it happened
    assert SECRET_WORDS not in logged and PERSON not in logged
