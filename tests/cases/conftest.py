"""Fixtures for the consent tests: one user per role, each signed in on its own client."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.web.dashboard.support import ROLES, add_user, sign_in


@pytest.fixture
def staff(app: Flask) -> dict[str, str | None]:
    return {role: add_user(app, role, role) for role in ROLES}


@pytest.fixture
def as_role(app: Flask, staff: dict[str, str | None]) -> Callable[[str], FlaskClient]:
    def signed_in(role: str) -> FlaskClient:
        client = app.test_client()
        sign_in(client, app, role, staff[role])
        return client

    return signed_in
