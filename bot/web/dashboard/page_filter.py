"""Which page a list shows, and each item's and case's page by name (issue 18, page voices).

The queue and the case list take `account=<page id>` (`page` is already the list's page
number); the id is read as ASCII digits and must be one of `meta.accounts`
(bot/web/inputs.py). A page is shown by the name staff gave it in `meta.accounts`.
"""

from __future__ import annotations

from bot.web.dashboard.base import haven
from bot.web.inputs import query_meta_id

ACCOUNT_ARG = "account"


def page_names() -> dict[str, str]:
    """The pages Haven looks after, by id: the names staff know them by."""
    return {a.id: a.name for a in haven().settings.config.meta.accounts}


def chosen_page() -> str | None:
    """The page the list is filtered to, or None for every page; a bad id is a 400."""
    return query_meta_id(ACCOUNT_ARG, set(page_names()))


def page_name(account_id: str | None) -> str:
    """A page's name for an item or case; the bare id for a page no longer configured."""
    return page_names().get(account_id or "", account_id or "")
