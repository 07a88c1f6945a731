"""Detectors for a family named in a post: "the Patel family", "Sarah and Tom Jones", "her twins
Leo and Max", "their daughter Amy".

Policy 002 forbids naming supported families on social media even with their permission, and
policy 004 asks that no family is identifiable. The page's own posts are where staff slip, in
the warm voice of a thank-you or a day out, so these detectors read the shapes people use to
name a family rather than a list of names: a capitalised word (rules/names.py's notion of a
name, not a register of names, so any culture's names count) in a family shape. What rules a
shape out is what else that capitalised word could be: a street, a school, an event, an
organisation ("Twins Trust", "Jones Street", "the Family Fun Day").
"""

from __future__ import annotations

import re

from .context import DetectorContext, Hit
from .names import _NOT_NAMES, _UPPER

# Words that, capitalised, are a place, an institution, an event or a thing, not a person: the
# tail of "Jones Street", "Twins Trust", "Family Fun Day", "Marks and Spencer Foodhall".
_NOT_PEOPLE = frozenset(
    """street road lane avenue close drive way crescent terrace place square court grove park
    gardens garden green hill row walk mews rise view estate quay wharf parade bridge field
    fields common heath wood woods farm centre center hall house library museum market
    school academy college nursery primary infants juniors university hospital surgery clinic
    church chapel mosque temple synagogue cathedral station airport
    trust charity foundation society group groups network team club association alliance
    partnership project service services support council authority company limited ltd plc
    together crisis care aid appeal fund campaign
    day days night nights week weekend morning evening afternoon month year fair festival
    fete party picnic walk run show gala ball dinner lunch breakfast brunch tea cafe café
    coffee bake sale raffle quiz disco concert panto session sessions meeting meetup
    fun family families twin twins parent parents carer carers kids children baby babies
    friends friend mums dads volunteers volunteer staff everyone all
    pram prams buggy buggies cot cots bundle pack packs kit kits shop store
    north south east west central upper lower great little saint st""".split()
)

_NAME = rf"[{_UPPER}][^\W\d_]*(?:['’-][{_UPPER}]?[^\W\d_]+)*"
_FAMILY_WORD = r"(?:family|families|household|clan)"
# "the Patel family", "the Patel-Smiths family", "the Patel and Jones families"
_THE_FAMILY = re.compile(
    rf"\b(?i:the)\s+(?P<names>{_NAME}(?:\s+{_NAME})?(?:\s*(?:,|&|(?i:and))\s*{_NAME})*)"
    rf"\s+(?P<word>(?i:{_FAMILY_WORD}))\b"
)
# "Sarah and Tom Jones", "Tom & Sarah Jones", "Mr and Mrs Jones"
_COUPLE = re.compile(
    rf"(?<![\w'’-])(?P<first>{_NAME})\s+(?:(?i:and)|&)\s+(?P<second>{_NAME})\s+(?P<surname>{_NAME})"
    r"(?![\w'’-])"
)
_TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr"})
# Family words that introduce children (and the odd parent) by name.
_KIN = (
    r"(?:twins?|triplets|quads|son|sons|daughter|daughters|boy|boys|girl|girls|kids|children|"
    r"child|little ones?|baby|babies|toddler|grandson|granddaughter|grandchildren|grandkids|"
    r"stepson|stepdaughter|foster (?:son|daughter|child)|niece|nephew|eldest|youngest|"
    r"brother|sister|siblings)"
)
_OWNER = r"(?:my|our|her|his|their|the|your|new|baby|twin|little|two|three|lovely|gorgeous)"
# "her twins Leo and Max", "their daughter Amy", "twin boys Leo and Max", "the twins, Leo
# and Max", "her son, called Jack"
_KIN_NAMED = re.compile(
    rf"\b(?i:(?:{_OWNER}\s+){{0,3}}{_KIN})\s*,?\s+(?i:(?:(?:who\s+)?(?:are|is)\s+)?"
    rf"(?:called|named)\s+)?(?P<names>{_NAME}(?:\s*(?:,|&|(?i:and))\s*{_NAME})*)"
    r"(?![\w'’-])"
)
# "Leo and Max, her twins", "Amy, their daughter": the comma of an apposition is what tells
# it from a verb before "the twins" ("Visit the twins' page").
_NAMED_KIN = re.compile(
    rf"(?<![\w'’-])(?P<names>{_NAME}(?:\s*(?:,|&|(?i:and))\s*{_NAME})*),\s+"
    rf"(?i:(?:my|our|her|his|their|the)\s+(?:(?:twin|little|baby|new|eldest|youngest)\s+)?{_KIN})\b"
)
# "the Jones Family Centre", "the Patel Family Trust": a capitalised word after "Family" makes
# the whole a place's or an organisation's name.
_NAMED_THING = re.compile(rf"\s+{_NAME}")
_SPLIT = re.compile(r"\s*(?:,|&|\band\b)\s*|\s+", re.IGNORECASE)


def _person_words(names: str) -> list[str]:
    return [w for w in _SPLIT.split(names) if w]


def _is_person(word: str) -> bool:
    """A capitalised word that can be a first name or surname (not a place, event, thing)."""
    low = word.lower().strip("'’")
    if low in _NOT_NAMES or low in _NOT_PEOPLE:
        return False
    return not (len(word) >= 2 and word.isupper())  # acronyms: FCS, NHS


def families_named(text: str, ctx: DetectorContext) -> list[Hit]:
    """A family named by its surname, or a couple by first names and a shared surname."""
    if not any(c.islower() for c in text):
        return []  # no capitalisation signal in ALL CAPS text
    hits: list[Hit] = []
    for m in _THE_FAMILY.finditer(text):
        words = _person_words(m.group("names"))
        if m.group("word")[0].isupper() and _NAMED_THING.match(text, m.end()):
            continue
        if words and all(_is_person(w) for w in words):
            hits.append((m.start("names"), m.end(), 0.9))
    for m in _COUPLE.finditer(text):
        first, second, surname = m.group("first"), m.group("second"), m.group("surname")
        if first.lower() in _TITLES and second.lower() in _TITLES and _is_person(surname):
            hits.append((m.start(), m.end(), 0.9))  # "Mr and Mrs Jones"
        elif all(_is_person(w) for w in (first, second, surname)):
            hits.append((m.start(), m.end(), 0.85))
    return hits


def children_named(text: str, ctx: DetectorContext) -> list[Hit]:
    """Children (or siblings) named with a family word: "her twins Leo and Max"."""
    if not any(c.islower() for c in text):
        return []
    hits: list[Hit] = []
    for pattern in (_KIN_NAMED, _NAMED_KIN):
        for m in pattern.finditer(text):
            words = _person_words(m.group("names"))
            kept = [w for w in words if _is_person(w)]
            # "her son Jack and ..." stops at the first word that is not a name.
            if kept and words[0] == kept[0]:
                hits.append((m.start(), m.end(), 0.9))
    return hits
