"""Findings in a volunteer's words: one line per concern, the technical detail kept for "why?".

A message often carries several findings about the same thing: a rule and the learned stage
both finding `risk.suicide`, two rules finding a postcode. Staff need one line per concern
("Possible suicide risk"), the strongest piece of evidence to highlight, and, on demand, what
Haven actually matched (category, rule, severity, score, nearest examples, threshold). Every
screen and alert that shows findings goes through here, so the words are the same everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from rules.model import SEVERITY_RANK, TAXONOMY, Explanation, top_of

# What a volunteer would say. Kept short: they are badges and alert subject lines.
PHRASES: dict[str, str] = {
    "help_request.emotional_support": "Asking for emotional support",
    "help_request.peer_connection": "Asking to meet other parents",
    "help_request.resources": "Looking for information or services",
    "help_request.professional_help": "Looking for professional help",
    "risk.suicide": "Possible suicide risk",
    "risk.self_harm": "Possible self-harm",
    "risk.abuse": "Possible abuse",
    "risk.child_at_risk": "A child may be at risk",
    "risk.domestic_violence": "Possible domestic abuse",
    "risk.harm_to_others": "May harm someone else",
    "pii.phone": "Gives a phone number",
    "pii.email": "Gives an email address",
    "pii.postcode": "Gives a postcode",
    "pii.address": "Gives a home address",
    "pii.school": "Names a child's school",
    "pii.council": "Names the council involved",
    "pii.person_name": "Names someone",
    "pii.child_name": "Names a child",
    "pii.location": "Says where someone is",
    "pii.meeting_link": "Shares a meeting link",
    "pii.id_number": "Gives an ID or reference number",
    "photo.family": "A photo of a family",
    "photo.child": "A photo of a child",
    "photo.screenshot": "A screenshot of a chat or call",
    "photo.document": "A photo of a letter or form",
    "out_of_remit.legal": "Asks for legal advice",
    "out_of_remit.medical": "Asks for medical advice",
    "abusive.offensive": "Offensive language",
    "abusive.hate": "Hateful language",
    "abusive.harassment": "Harassing someone",
    "unsafe_practice.unproven_treatment": "Promotes an unproven treatment",
    "unsafe_practice.illegal_substance": "Mentions illegal drugs",
    "spam": "Looks like spam",
    "complaint": "A complaint about us",
    # Not the rules' taxonomy, but stored as findings or alert categories by Haven itself.
    "consent.unclear": "An answer about consent to read",
    "safeguarding": "A safeguarding concern raised by staff",
    "follow_up": "A follow-up is due",
}
# A top category alone (config and alerts may name one): the family of concerns.
TOP_PHRASES: dict[str, str] = {
    "help_request": "Asking for help",
    "risk": "A safeguarding concern",
    "pii": "Personal details in public",
    "photo": "A photo to check",
    "out_of_remit": "Asks for advice we can't give",
    "abusive": "Abusive language",
    "unsafe_practice": "Unsafe advice",
    "spam": PHRASES["spam"],
    "complaint": PHRASES["complaint"],
}
SEVERITY_WORDS = {"critical": "Urgent", "high": "High", "medium": "Medium", "low": "Low"}
LEARNED_PREFIX = "semantic-"


def phrase(category: str | None) -> str:
    """The words for a category (or a top category); never the code itself."""
    if not category:
        return "Something to look at"
    return PHRASES.get(category) or TOP_PHRASES.get(top_of(category), "Something to look at")


def phrases(categories: Iterable[str]) -> list[str]:
    """Words for several categories, each concern once, most serious family first."""
    ordered = sorted(set(categories), key=_taxonomy_order)
    return list(dict.fromkeys(phrase(c) for c in ordered))


@dataclass(frozen=True)
class Evidence:
    """One finding behind a concern, as the "why?" disclosure shows it."""

    category: str
    rule: str
    severity: str
    score: float
    span: tuple[int, int] | None
    learned: bool  # found by the learned stage rather than a written rule
    reason: str | None = None
    nearest: tuple[tuple[str, float], ...] = ()
    threshold: float | None = None
    description: str | None = None  # what the rule is for, where the caller knows it
    # A stored finding's row, and whether its words can still be weighed on demand (the
    # learned stage explained it without them: bot/cases/weighing.py).
    finding_id: int | None = None
    weighable: bool = False
    weighed_none: bool = False  # weighed on demand, and no single word stood out


@dataclass(frozen=True)
class Concern:
    """One thing staff should notice about a message, however many findings say it."""

    category: str
    phrase: str
    severity: str
    span: tuple[int, int] | None  # the strongest evidence, to highlight
    evidence: tuple[Evidence, ...]

    @property
    def severity_word(self) -> str:
        return SEVERITY_WORDS.get(self.severity, self.severity.capitalize())


def concerns(
    findings: Iterable[Any], descriptions: Mapping[str, str] | None = None
) -> list[Concern]:
    """Group findings (stored rows or the engine's) into one concern per category.

    Most serious first; within a concern the strongest evidence (highest score, then the
    written rule over the learned stage, whose span is the whole message) comes first.
    `descriptions` (rule id to what the rule looks for) adds the rules' own words to "why?".
    """
    grouped: dict[str, list[Evidence]] = {}
    for finding in findings:
        evidence = evidence_of(finding, (descriptions or {}).get(finding.rule))
        grouped.setdefault(evidence.category, []).append(evidence)
    result = []
    for category, items in grouped.items():
        items.sort(key=lambda e: (-e.score, e.learned, e.rule))
        severity = max((e.severity for e in items), key=lambda s: SEVERITY_RANK.get(s, -1))
        span = next((e.span for e in items if e.span is not None), None)
        result.append(Concern(category, phrase(category), severity, span, tuple(items)))
    result.sort(key=lambda c: (-SEVERITY_RANK.get(c.severity, -1), _taxonomy_order(c.category)))
    return result


def evidence_of(finding: Any, description: str | None = None) -> Evidence:
    """Evidence from a stored `bot.models.Finding` or an engine `rules.Finding`."""
    finding_id = None
    if hasattr(finding, "span_start"):
        start, end = finding.span_start, finding.span_end
        span = (start, end) if start is not None and end is not None else None
        explained = finding.explanation or {}
        finding_id = finding.id
    else:
        span = finding.span
        explained = finding.explanation.as_json() if finding.explanation else {}
    return Evidence(
        category=finding.category,
        rule=finding.rule,
        severity=finding.severity,
        score=float(finding.score or 0.0),
        span=tuple(span) if span else None,  # type: ignore[arg-type]
        learned=finding.rule.startswith(LEARNED_PREFIX),
        reason=explained.get("reason"),
        nearest=Explanation.from_json(explained).nearest,
        threshold=explained.get("threshold"),
        description=description,
        finding_id=finding_id,
        weighable=finding_id is not None and words_to_weigh(explained),
        weighed_none=bool(explained.get(WEIGHED)) and not explained.get("words"),
    )


# Set in a finding's explanation once its words were weighed on demand, whatever they were.
WEIGHED = "words_weighed"
# Set when the message's text went (retention, erasure): its words are no longer quoted or weighed.
WORDS_GONE = "words_gone"


def words_to_weigh(explained: Mapping[str, Any] | None) -> bool:
    """Whether the learned stage explained a finding without naming its words (they are weighed
    when staff ask, bot/cases/weighing.py); False for a rule's finding, which has no
    explanation, and once they were weighed."""
    if not explained or explained.get("method") != "classifier":
        return False
    if explained.get(WORDS_GONE):
        return False
    return not explained.get("words") and not explained.get(WEIGHED)


def _taxonomy_order(category: str) -> tuple[int, str]:
    tops = list(TAXONOMY)
    # Risk first: the order a lead would read a list of concerns in.
    tops.remove("risk")
    tops.insert(0, "risk")
    top = top_of(category)
    return (tops.index(top) if top in tops else len(tops), category)
