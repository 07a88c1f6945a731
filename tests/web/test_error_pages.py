"""What staff see when a page cannot be shown: a page of Haven's in plain words, with the same
status code as before; Meta's endpoints keep plain answers."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient

from tests.helpers import signed_post

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
