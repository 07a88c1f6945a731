"""The support directory's vocabulary: kinds of support, topics, and what each need calls for.

Topics are a controlled list so that a case's topics and a supporter's topics can be compared;
they come from the families the charities' policies describe (adopters, special guardians,
foster and kinship carers, twins, families in crisis) and the help people ask for.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.models.directory import RESOURCE_KINDS
from bot.untrusted import ascii_int

KIND_LABELS = {"peer_supporter": "peer supporter", "group": "group", "service": "external service"}

TOPICS: dict[str, str] = {
    "adoption": "adoption",
    "special_guardianship": "special guardianship",
    "kinship_care": "kinship care",
    "fostering": "fostering",
    "twins_multiples": "twins and multiples",
    "parenting": "parenting",
    "family_crisis": "family crisis",
    "bereavement": "bereavement",
    "mental_health": "mental health",
    "send": "SEND",
    "domestic_abuse": "domestic abuse",
    "legal": "legal questions",
    "medical": "health and medical questions",
}

# What each finding asks for, as weights per kind of support. A request for peer connection
# is best met by a peer supporter or a group; a request for professional help, or a legal or
# medical question outside the community's remit, by an external service.
NEED_KINDS: dict[str, dict[str, int]] = {
    "help_request.peer_connection": {"peer_supporter": 3, "group": 3},
    "help_request.emotional_support": {"peer_supporter": 3, "group": 2, "service": 1},
    "help_request.resources": {"service": 3, "group": 1},
    "help_request.professional_help": {"service": 3},
    "out_of_remit.legal": {"service": 3},
    "out_of_remit.medical": {"service": 3},
}
# When the findings say nothing more specific, the kind of case does.
CASE_TYPE_KINDS: dict[str, dict[str, int]] = {
    "support": {"peer_supporter": 2, "group": 2, "service": 1},
    "boundary": {"service": 3},
    "safeguarding": {"service": 2},
}
# A legal or medical question is itself a topic: services list it among theirs.
NEED_TOPICS = {"out_of_remit.legal": "legal", "out_of_remit.medical": "medical"}


def topic_label(topic: str) -> str:
    return TOPICS.get(topic, topic.replace("_", " "))


def need_label(category: str) -> str:
    return category.split(".", 1)[-1].replace("_", " ")


@dataclass(frozen=True)
class ResourceForm:
    """A directory entry as an admin typed it, checked; `errors` is empty when it is usable."""

    kind: str
    name: str
    description: str | None
    topics: list[str]
    area: str | None
    capacity: int | None
    load: int
    contact_route: str
    availability: str | None
    errors: tuple[str, ...]


def read_resource_form(form: dict[str, str], topics: list[str]) -> ResourceForm:
    """Validate the directory form's fields (plain strings, as a browser sends them)."""
    errors: list[str] = []

    def text(name: str, limit: int, *, required: bool = False) -> str | None:
        value = (form.get(name) or "").strip()
        if required and not value:
            errors.append(f"The {name.replace('_', ' ')} is needed.")
        if len(value) > limit:
            errors.append(f"The {name.replace('_', ' ')} is longer than {limit} characters.")
        return value or None

    def number(name: str, *, blank_is_none: bool) -> int | None:
        raw = (form.get(name) or "").strip()
        if not raw:
            return None if blank_is_none else 0
        number = ascii_int(raw, high=1000)
        if number is None:
            errors.append(f"The {name} must be a whole number from 0 to 1000.")
            return 0
        return number

    kind = form.get("kind", "")
    if kind not in RESOURCE_KINDS:
        errors.append("Choose a peer supporter, group or external service.")
    chosen = [t for t in dict.fromkeys(topics) if t in TOPICS]
    if not chosen or len(chosen) != len(set(topics)):
        errors.append("Choose one or more topics from the list.")
    capacity = number("capacity", blank_is_none=True)
    if capacity == 0:
        errors.append("A capacity of 0 offers nobody: leave it blank for no limit, or deactivate.")
    return ResourceForm(
        kind=kind,
        name=text("name", 120, required=True) or "",
        description=text("description", 500),
        topics=chosen,
        area=text("area", 80),
        capacity=capacity,
        load=number("load", blank_is_none=False) or 0,
        contact_route=text("contact_route", 300, required=True) or "",
        availability=text("availability", 200),
        errors=tuple(errors),
    )
