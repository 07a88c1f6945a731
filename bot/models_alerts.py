"""Tables for alerts and escalations."""

from __future__ import annotations
