"""Tables for the dashboard's case workflow, people and sign-in protection."""

from __future__ import annotations
