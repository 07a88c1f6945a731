"""What the forms on a case page share: who may post them, and where they go back to.

A form's message is shown where the form was, not at the top of a long page: going back to
the case, the messages this request flashed are tagged with the form's section
(`category@section`), the case page renders them inside that section (`section_flashes` in
dashboard/_macros.html), and the address's anchor brings that section into view. Any page
that does not render that section shows the message at the top, as before (base.html).
"""

from __future__ import annotations

from flask import abort, redirect, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from bot.web.auth.login import MODERATORS

# The case page's sections that show their own forms' messages (their element ids).
SECTIONS = ("work", "consent", "matches", "record")
_FLASHES = "_flashes"  # where Flask keeps flashed messages until they are shown


def caseworker_only() -> None:
    """Cases are worked by moderators, admins and the safeguarding roles; others get 403."""
    if current_user.role not in MODERATORS:
        abort(403)


def place_messages(section: str) -> None:
    """Show the messages waiting to be shown inside this section of the case page."""
    if section not in SECTIONS:
        raise ValueError(f"the case page has no section {section!r}")
    waiting = session.get(_FLASHES)
    if waiting:
        session[_FLASHES] = [
            (category if "@" in category else f"{category}@{section}", message)
            for category, message in waiting
        ]


def back_to_case(
    case_id: int, section: str | None = None, *, anchor: str | None = None
) -> ResponseReturnValue:
    """The case page, at the section the form was in, with its messages shown there."""
    if section is not None:
        place_messages(section)
    target = anchor or section
    return redirect(url_for("dashboard.case_detail", case_id=case_id, _anchor=target))
