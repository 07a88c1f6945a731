"""What an introduction may pass on about the person, and the exact words it uses.

Only basic, non-identifying details (the matching procedure, Step 5), checked before they are
stored: one word for a name, no numbers in an area, and nothing the rules engine reads as contact
details, an address, a school or a child's name.
"""

from __future__ import annotations

import re

from bot.cases.wording import phrases
from bot.directory.vocabulary import TOPICS, topic_label
from bot.models.directory import Introduction
from rules import TAXONOMY, Message, RuleSet

# The only details an introduction can carry; never a full name, address, school or
# children's names (the CATCH forum rules and the matching procedure).
SHARE_LABELS = {
    "name": "first name or initials",
    "topic": "topic",
    "area": "general area",
    "availability": "availability",
}
SHARE_LIMITS = {"name": 30, "area": 60, "availability": 100}
# One word: "Sam", "S.E.", "Mary-Jo". A space would let a full name through.
ONE_NAME = re.compile(r"^[^\W\d_][\w.'’-]{0,29}$")
# What the rules engine finds that must never be passed on: every kind of personal detail but
# person_name and location (a first name and a general area are what the person agreed to
# share). A kind added to the taxonomy later is withheld until someone decides otherwise.
AGREED_TO_SHARE = frozenset({"person_name", "location"})
IDENTIFYING = frozenset(f"pii.{sub}" for sub in TAXONOMY["pii"] if sub not in AGREED_TO_SHARE)


def validate_shares(shares: dict[str, str], ruleset: RuleSet | None = None) -> list[str]:
    """Why these details cannot be shared (empty when they can)."""
    errors = [f"Unknown detail: {k}." for k in shares if k not in SHARE_LABELS]
    if not shares:
        errors.append("Tick at least one detail the person agreed to share.")
    for key, value in shares.items():
        if key not in SHARE_LABELS:
            continue
        if not value.strip():
            errors.append(f"Write the {SHARE_LABELS[key]} to share, or untick it.")
        elif len(value) > SHARE_LIMITS.get(key, 40):
            errors.append(f"The {SHARE_LABELS[key]} is too long.")
    name, area, topic = shares.get("name"), shares.get("area"), shares.get("topic")
    if name and not ONE_NAME.match(name.strip()):
        errors.append("Share a first name or initials only (one word, like Sam or S.E.).")
    if area and any(ch.isdigit() for ch in area):
        errors.append("The general area takes no numbers: a town or region, not an address.")
    if topic is not None and topic not in TOPICS:
        errors.append("Choose the topic from the list.")
    if ruleset is not None:
        for key in ("name", "area", "availability"):
            if shares.get(key):
                found = ruleset.evaluate(Message(text=shares[key], channel="fb_dm"))
                personal = [f.category for f in found if f.category in IDENTIFYING]
                if personal:
                    # In words ("it gives a postcode"), never the codes the rules use.
                    said = "; ".join(phrases(personal)).lower()
                    errors.append(
                        f"The {SHARE_LABELS[key]} looks like personal details ({said}): "
                        "share something more general."
                    )
    return errors


def shared_details(intro: Introduction) -> dict[str, str]:
    """What both sides agreed to: the person's details the supporter accepted, in order."""
    accepted = set(intro.supporter_accepts or ())
    shares = intro.person_shares or {}
    return {k: shares[k] for k in SHARE_LABELS if k in shares and k in accepted}


def introduction_text(details: dict[str, str]) -> str:
    """The exact words staff pass on to the supporter: the agreed details and nothing else."""
    lines = ["We would like to introduce someone who would welcome your support."]
    if "name" in details:
        lines.append(f"Name: {details['name']}")
    if "topic" in details:
        lines.append(f"Topic: {topic_label(details['topic'])}")
    if "area" in details:
        lines.append(f"General area: {details['area']}")
    if "availability" in details:
        lines.append(f"Availability: {details['availability']}")
    lines.append("Please reply to us and we will arrange a private first contact.")
    return "\n".join(lines)
