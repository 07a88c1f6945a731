"""Fixtures for the directory tests: staff per role (from the dashboard tests) and helpers."""

from __future__ import annotations

from tests.web.dashboard.conftest import as_role, staff

__all__ = ["as_role", "staff"]
