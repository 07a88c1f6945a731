"""What each of the learned stage's checks looks for, in words a volunteer uses, and how it is set.

The rules page lists these beside the rules: the trained heads judge the meaning of a message
rather than its words, so an admin cannot read a word list to know what they catch. Importable
without numpy: it reads a built ruleset's stage if it has one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# In the volunteers' words; the category key is shown only behind "why?".
LOOKS_FOR: dict[str, str] = {
    "risk.suicide": "Someone thinking of ending their life or not wanting to be here any more, "
    "however it is put: plainly, in a hint, or as feeling like a burden.",
    "risk.self_harm": "Someone hurting themselves, or the urge to, now or coming back.",
    "risk.abuse": "Someone being hurt, controlled or exploited by another person.",
    "risk.child_at_risk": "A child who may be unsafe: neglect, exploitation, being harmed or "
    "frightened at home, or a parent afraid they might hurt their child.",
    "risk.domestic_violence": "Violence, threats or control by a partner or family member at home.",
    "risk.harm_to_others": "Someone who might hurt another person.",
    "help_request.emotional_support": "Someone asking for a listening ear or saying they are "
    "struggling and do not know where to turn.",
    "help_request.peer_connection": "Someone asking to meet or talk to others in the same "
    "situation.",
    "help_request.resources": "Someone asking for information, a group, a service or practical "
    "help.",
    "help_request.professional_help": "Someone asking how to reach a professional: a therapist, "
    "a social worker, an assessment.",
    "out_of_remit.legal": "A question for a solicitor or legal adviser (courts, contact orders, "
    "tribunals), which the page should not answer itself.",
    "out_of_remit.medical": "A question for a doctor or pharmacist (medicines, symptoms, "
    "diagnoses), which the page should not answer itself.",
    "abusive.offensive": "Swearing or insults, often from someone who is struggling.",
    "abusive.hate": "Hatred aimed at people for who they are.",
    "abusive.harassment": "Attacks, threats or pile-ons aimed at a person.",
    "unsafe_practice.unproven_treatment": "Treatments that are not medically proven being "
    "recommended.",
    "unsafe_practice.illegal_substance": "Illegal drugs being offered or recommended.",
    "spam": "Adverts, scams and links that have nothing to do with the page.",
    "complaint": "A complaint about the organisation, its staff or its service.",
    "pii.person_name": "A person's name, told apart from a brand or a town by the sentence "
    "around it.",
    "pii.child_name": "A child's name, told apart from a brand or a town by the sentence around "
    "it.",
}

MODES = {
    "raise": "may flag a message on its own, and can overrule a shipped rule's match it reads "
    "as a figure of speech",
    "strengthen": "only adds its confidence to what a rule found",
}


@dataclass(frozen=True)
class ModelCheck:
    category: str
    rule: str  # the id its findings carry, e.g. semantic-risk-suicide
    looks_for: str
    mode: str  # "raise" | "strengthen"
    threshold: float  # the probability it needs
    precision: float | None  # on validation (out of fold), when training recorded it
    recall: float | None


def model_checks(ruleset: Any) -> tuple[ModelCheck, ...]:
    """The learned stage's checks as this ruleset runs them; none when it runs without one."""
    stage = getattr(ruleset, "stage", None)
    if stage is None:
        return ()
    validation = stage.heads.meta.get("validation", {}) if stage.heads.meta else {}
    checks = []
    for model in stage.categories:
        figures = validation.get(model.category, {}) if isinstance(validation, dict) else {}
        checks.append(
            ModelCheck(
                category=model.category,
                rule=model.rule,
                looks_for=LOOKS_FOR.get(model.category, ""),
                mode=model.mode,
                threshold=model.threshold,
                precision=figures.get("precision"),
                recall=figures.get("recall"),
            )
        )
    return tuple(checks)
