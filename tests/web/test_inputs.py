"""Numbers from URLs, query strings and forms: ASCII digits within bounds, or a 4xx, never a 500.

Python's `str.isdigit()` and `int()` take "²", "٣" and "１２３", and `int()` refuses text past
4,300 digits; a row id past 2**31 overflows both databases. Each case here gave a 500 before.
"""

from __future__ import annotations

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, func, select
from werkzeug.routing.converters import NumberConverter

from bot.models import AuditEntry
from bot.untrusted import MAX_ROW_ID, ascii_int
from bot.web.inputs import AsciiIdConverter
from tests.web.dashboard.support import PASSWORD, RISK, add_user, case_of, comment, sign_in

HUGE = "99999999999999999999999"
OVER_INT_TEXT_LIMIT = "9" * 5000
# Superscript two, Arabic-Indic three, fullwidth one: digits to Python, not to a database.
ODD_DIGITS = ("²", "٣", "１")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        ("42", 42),
        ("0042", 42),
        (str(MAX_ROW_ID), MAX_ROW_ID),
        (str(MAX_ROW_ID + 1), None),
        (HUGE, None),
        (OVER_INT_TEXT_LIMIT, None),
        ("", None),
        (None, None),
        ("-1", None),
        ("+1", None),
        (" 1", None),
        ("1\n", None),
        ("1.0", None),
        *((digit, None) for digit in ODD_DIGITS),
        ("1" + "٣", None),
    ],
)
def test_ascii_int_takes_ascii_digits_within_bounds_only(text: str | None, expected: int) -> None:
    assert ascii_int(text) == expected


def test_every_int_in_a_route_is_read_by_the_ascii_converter(app: Flask) -> None:
    checked = 0
    for rule in app.url_map.iter_rules():
        for converter in rule._converters.values():  # the parsed <name:...> parts
            if isinstance(converter, NumberConverter):
                assert isinstance(converter, AsciiIdConverter), rule.rule
                checked += 1
    assert checked >= 20  # cases, items, drafts, alerts, directory entries, introductions


@pytest.fixture
def lead(app: Flask, client: FlaskClient) -> FlaskClient:
    sign_in(client, app, "lead", add_user(app, "lead", "safeguarding_lead"))
    return client


@pytest.mark.parametrize(
    "path",
    [
        f"/cases/{HUGE}",
        f"/cases/{OVER_INT_TEXT_LIMIT}",
        f"/directory/{HUGE}/edit",
        "/cases/٣",
        "/cases/１",
    ],
)
def test_an_id_in_a_path_that_is_not_an_ascii_row_id_is_not_found(
    lead: FlaskClient, path: str
) -> None:
    assert lead.get(path).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        f"/alerts/{HUGE}/acknowledge",
        f"/alerts/escalations/{HUGE}/acknowledge",
        f"/drafts/{HUGE}/approve",
        f"/items/{HUGE}/hide",
        f"/cases/{HUGE}/status",
        f"/introductions/{HUGE}/end",
    ],
)
def test_a_post_to_an_id_beyond_any_row_is_not_found(lead: FlaskClient, path: str) -> None:
    assert lead.post(path).status_code == 404


def test_an_existing_case_is_not_reached_by_other_scripts_digits(
    app: Flask, lead: FlaskClient
) -> None:
    case = case_of(app, comment(app, lead, RISK))
    assert lead.get(f"/cases/{case.id}").status_code == 200
    arabic = str(case.id).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert lead.get(f"/cases/{arabic}").status_code == 404
    assert lead.get("/people/facebook/6000000000000042?page=²").status_code == 400


@pytest.mark.parametrize(
    "path",
    [
        "/?page=²",
        "/cases?page=²",
        f"/cases?page={OVER_INT_TEXT_LIMIT}",
        "/cases?assignee=²",
        f"/cases?assignee={HUGE}",
        "/response-times?days=²",
        f"/response-times?days={OVER_INT_TEXT_LIMIT}",
        "/audit?page=٣",
    ],
)
def test_a_number_in_the_query_string_that_does_not_parse_is_a_400(
    lead: FlaskClient, path: str
) -> None:
    assert lead.get(path).status_code == 400


def test_numbers_in_the_query_string_that_parse_still_work(lead: FlaskClient) -> None:
    for path in ("/?page=1", "/cases?page=3&assignee=me", "/response-times?days=7", "/people"):
        assert lead.get(path).status_code == 200, path


@pytest.mark.parametrize("value", [*ODD_DIGITS, OVER_INT_TEXT_LIMIT])
def test_a_number_in_a_form_that_does_not_parse_is_refused_with_a_message(
    app: Flask, lead: FlaskClient, value: str
) -> None:
    case_id = case_of(app, comment(app, lead, RISK)).id
    # Introductions on a safeguarding case wait until the lead opens support (the record).
    assert lead.post(f"/cases/{case_id}/record/support").status_code == 302
    for path, field in (
        (f"/cases/{case_id}/follow-up", "days"),
        (f"/cases/{case_id}/assignee", "assignee"),
        (f"/cases/{case_id}/introductions", "resource_id"),
    ):
        response = lead.post(path, data={field: value})
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith(f"/cases/{case_id}")
    admin = app.test_client()
    sign_in(admin, app, "admin", add_user(app, "admin", "admin"))
    entry = {"kind": "group", "name": "Kinship carers", "topics": "kinship_care"}
    response = admin.post("/directory/new", data={**entry, "capacity": value})
    assert response.status_code == 400
    assert "must be a whole number" in response.get_data(as_text=True)


def _failed_codes(app: Flask) -> int:
    with Session(app.extensions["haven"].engine) as db:
        query = select(func.count()).where(AuditEntry.action == "user.code_failed")
        return db.exec(query).one()


@pytest.mark.parametrize("typed", ["１２３４５６", "12３456", "٠١٢٣٤٥"])
def test_a_code_in_other_digits_is_a_counted_failure_not_a_500(
    app: Flask, client: FlaskClient, typed: str
) -> None:
    key = add_user(app, "boss", "admin")
    assert key is not None
    client.post("/login", data={"username": "boss", "password": PASSWORD})
    response = client.post("/login/code", data={"code": typed})
    assert response.status_code == 200
    assert "That code is not right" in response.get_data(as_text=True)
    assert _failed_codes(app) == 1
    # The right code, written in fullwidth digits, is not accepted either.
    right = pyotp.TOTP(key).now().translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    client.post("/login/code", data={"code": right})
    assert _failed_codes(app) == 2 and client.get("/").status_code == 302
