"""The `dashboard:` section of config.yaml."""

from __future__ import annotations

from pydantic import Field

from bot.config_section import Section


class Dashboard(Section):
    page_size: int = Field(default=50, ge=1, le=500)
    # Cookies only over HTTPS. Turn off only for a dashboard on http://127.0.0.1 (the demo).
    secure_cookies: bool = True
