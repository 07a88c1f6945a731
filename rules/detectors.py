"""Built-in detectors for structured personal details, named from rule YAML (`detector:`).

Each detector takes the plain normalised text and returns (start, end, score) hits in that
view. Cheap regex gates run first because most comments contain no digits at all.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass

import phonenumbers

Hit = tuple[int, int, float]


@dataclass(frozen=True)
class DetectorContext:
    region: str
    allowed_phones: frozenset[str]  # E.164
    allowed_emails: frozenset[str]
    allowed_domains: frozenset[str]


def _domain_allowed(domain: str, ctx: DetectorContext) -> bool:
    domain = domain.lower().removeprefix("www.")
    return any(domain == d or domain.endswith("." + d) for d in ctx.allowed_domains)


_PHONE_GATE = re.compile(r"\+?\(?\d[\d ()./-]{5,}\d")
_FALLBACK_REGIONS = ("US",)
_SEVEN_DIGITS = re.compile(r"\d(?:\D{0,3}\d){6}")


def phone(text: str, ctx: DetectorContext) -> list[Hit]:
    """UK and international phone numbers, validated by libphonenumber metadata."""
    if not _SEVEN_DIGITS.search(text):
        return []  # no run of seven digits close together: no phone number of any country
    hits: list[Hit] = []
    taken: list[tuple[int, int]] = []
    for cand in _PHONE_GATE.finditer(text):
        if sum(c.isdigit() for c in cand.group(0)) < 7:
            continue  # dates, times, prices: too few digits for any phone number
        # libphonenumber is thorough but slow; run it only on a window around the digits.
        lo, hi = max(0, cand.start() - 6), min(len(text), cand.end() + 12)
        window = text[lo:hi]
        for region in (ctx.region, *_FALLBACK_REGIONS):
            for m in phonenumbers.PhoneNumberMatcher(window, region, phonenumbers.Leniency.VALID):
                start, end = lo + m.start, lo + m.end
                if any(start < e and s < end for s, e in taken):
                    continue
                taken.append((start, end))
                e164 = phonenumbers.format_number(m.number, phonenumbers.PhoneNumberFormat.E164)
                if e164 in ctx.allowed_phones:
                    continue
                # A number valid in the home region is surer than one from the fallback.
                hits.append((start, end, 0.9 if region == ctx.region else 0.75))
    # Numbers libphonenumber cannot validate (fake exchanges, odd groupings) but that are
    # written like phone numbers; the rule's context words decide whether they count.
    for m in _LOOSE_PHONE.finditer(text):
        if not any(m.start() < e and s < m.end() for s, e in taken):
            digits = sum(c.isdigit() for c in m.group(0))
            if 9 <= digits <= 15:
                hits.append((m.start(), m.end(), 0.45))
    return hits


_LOOSE_PHONE = re.compile(
    r"(?<![\w.])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,5}\)[ .-]?|\d{2,5}[ .-])\d{3,4}[ .-]?\d{3,4}"
    r"(?:\s?(?:x|ext\.?)\s?\d{1,5})?(?![\w])"
)

_EMAIL = re.compile(r"[a-z0-9][a-z0-9._%+-]*@([a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,})")


def email(text: str, ctx: DetectorContext) -> list[Hit]:
    if "@" not in text:
        return []
    hits = []
    for m in _EMAIL.finditer(text):
        if m.group(0) in ctx.allowed_emails or _domain_allowed(m.group(1), ctx):
            continue
        hits.append((m.start(), m.end(), 0.95))
    return hits


# Full UK postcodes (outward + inward); the outward part alone ("IP4") is too ambiguous.
_POSTCODE = re.compile(
    r"(?<![a-z0-9])(gir ?0aa|[a-pr-uwyz][a-hk-y]?\d[a-hjkps-uw\d]? ?\d[abd-hjlnp-uw-z]{2})"
    r"(?![a-z0-9])"
)


def uk_postcode(text: str, ctx: DetectorContext) -> list[Hit]:
    return [(m.start(), m.end(), 0.9) for m in _POSTCODE.finditer(text)]


_TEN_DIGITS = re.compile(r"(?<![\d])(\d{3})[ -]?(\d{3})[ -]?(\d{4})(?![\d])")


def nhs_checksum_ok(digits: str) -> bool:
    """NHS number modulus 11: weights 10..2 over the first nine digits."""
    if len(digits) != 10 or not digits.isdigit() or len(set(digits)) == 1:
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def nhs_number(text: str, ctx: DetectorContext) -> list[Hit]:
    hits = []
    for m in _TEN_DIGITS.finditer(text):
        if nhs_checksum_ok("".join(m.groups())):
            hits.append((m.start(), m.end(), 0.8))
    return hits


_MEETING = re.compile(
    r"(?:https?://)?(?:[\w-]+\.)?(?:zoom\.us/(?:j|my|s|w)/[\w?=.&-]+|teams\.microsoft\.com/l/meetup-join/\S+"
    r"|teams\.live\.com/meet/\S+|meet\.google\.com/[a-z]{3}-[a-z]{4}-[a-z]{3}|whereby\.com/[\w-]+"
    r"|[\w-]+\.webex\.com/\S+|meet\.jit\.si/\S+)"
)
_MEETING_ID = re.compile(r"(?:meeting|zoom|webinar) ?(?:id|code)[: ]+\d{3} ?\d{3,4} ?\d{3,4}")


def meeting_link(text: str, ctx: DetectorContext) -> list[Hit]:
    if not any(
        k in text for k in ("zoom", "teams", "meet", "webex", "whereby", "jit.si", "webinar")
    ):
        return []
    hits = [(m.start(), m.end(), 0.95) for m in _MEETING.finditer(text)]
    hits += [(m.start(), m.end(), 0.85) for m in _MEETING_ID.finditer(text)]
    return hits


_URL = re.compile(
    r"(?:https?://|www\.)[^\s<>\"']+|(?<![@\w.-])[a-z0-9-]{2,}\.(?:com|co\.uk|net|org|info|biz|ly|io"
    r"|xyz|top|club|online|site|me|tk|ru|cn)(?:/[^\s<>\"']*)?(?![\w.])"
)
_HOST = re.compile(r"(?:https?://)?(?:www\.)?([^/\s?#:]+)")


def url(text: str, ctx: DetectorContext) -> list[Hit]:
    if "." not in text:
        return []
    hits = []
    for m in _URL.finditer(text):
        host = _HOST.match(m.group(0))
        if host and _domain_allowed(host.group(1), ctx):
            continue
        hits.append((m.start(), m.end(), 0.8))
    return hits


_CARD = re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])")


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def payment_card(text: str, ctx: DetectorContext) -> list[Hit]:
    hits = []
    for m in _CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group(0))
        if 13 <= len(digits) <= 19 and luhn_ok(digits):
            hits.append((m.start(), m.end(), 0.9))
    return hits


_IBAN = re.compile(
    r"(?<![a-z0-9])([a-z]{2}\d{2}(?: ?[a-z0-9]{4}){2,7}(?: ?[a-z0-9]{1,3})?)(?![a-z0-9])"
)


def iban(text: str, ctx: DetectorContext) -> list[Hit]:
    hits = []
    for m in _IBAN.finditer(text):
        raw = m.group(1).replace(" ", "").upper()
        moved = raw[4:] + raw[:4]
        numeric = "".join(str(int(c, 36)) for c in moved)
        if 15 <= len(raw) <= 34 and int(numeric) % 97 == 1:
            hits.append((m.start(), m.end(), 0.95))
    return hits


_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9a-f]{1,4}:){2,7}[0-9a-f]{1,4}(?![\w:])")


def ip_address(text: str, ctx: DetectorContext) -> list[Hit]:
    if text.count(".") < 3 and text.count(":") < 2:
        return []
    hits = []
    for m in [*_IPV4.finditer(text), *_IPV6.finditer(text)]:
        try:
            addr = ipaddress.ip_address(m.group(0))
        except ValueError:
            continue
        if not addr.is_loopback and not addr.is_unspecified:
            hits.append((m.start(), m.end(), 0.8))
    return hits


_SSN = re.compile(r"(?<![\d-])(\d{3})[- ](\d{2})[- ](\d{4})(?![\d-])")


def us_ssn(text: str, ctx: DetectorContext) -> list[Hit]:
    hits = []
    for m in _SSN.finditer(text):
        area, group, serial = m.groups()
        if area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000":
            hits.append((m.start(), m.end(), 0.6))
    return hits


# Capitalised words that are not names when they start a word run mid-sentence. English has
# few of these, so a run of Title-case words in the middle of a sentence is most often a
# person, a place or an organisation: the weak "possible name" signal used for highlighting.
_NOT_NAMES = frozenset(
    """i i'm i've i'll i'd im a an the this that these those my our your his her their its we
    you he she they it me us them mum mom dad mummy daddy nan nanny grandad grandma grandpa
    god jesus christ lord allah christmas easter halloween ramadan eid diwali hanukkah xmas
    monday tuesday wednesday thursday friday saturday sunday today tomorrow yesterday
    january february march april may june july august september october november december
    mr mrs ms miss dr sir madam dear hi hello hey thanks thank yes no not ok okay oh lol omg
    please sorry and or but if so as at on in of for to from with by about after before
    is are was were be been am do does did have has had can could will would should might
    must shall what when where why who how which there here all any some every each no one
    just also very really still even never always sometimes maybe well now then again
    english british welsh scottish irish french german spanish italian european american
    nhs gp uk usa us eu bbc itv tv dvd cd pc id ok rt via new old big little happy merry
    great good best love lovely nice first last next other another same such most more
    street road lane avenue school college university council hospital church station
    facebook instagram twitter youtube google whatsapp tiktok snapchat zoom teams
    covid coronavirus autism adhd asd ptsd ocd bpd camhs sen ehcp send""".split()
)
_UPPER = "".join(
    re.escape(chr(c)) for c in range(0x41, 0x530) if chr(c).isupper() and chr(c).isalpha()
)
_WORD = rf"(?<![\w/@.#'’-])[{_UPPER}][^\W\d_]*(?:['’-][^\W\d_]+)*(?![\w/@'’]|\.[^\W\d_])"
_TITLE_RUN = re.compile(rf"{_WORD}(?:\.?[ \t]+{_WORD})*")
_TITLE_WORD = re.compile(_WORD)
_SENTENCE_END = re.compile(r"(?:^|[.!?:;\n\"“”()\[\]]|\s[-–—]\s)\s*$")


def _is_title(word: str) -> bool:
    if word in ("I", "A") or (len(word) >= 2 and word.isupper()):
        return False  # the pronoun, SHOUTED words and acronyms (SGO, CAMHS, NHS)
    return True


def name_like(text: str, ctx: DetectorContext) -> list[Hit]:
    """Runs of Title-case words that are not sentence openers or common capitalised words."""
    if not any(c.islower() for c in text):
        return []  # ALL CAPS or caseless text carries no capitalisation signal
    hits: list[Hit] = []
    for run_match in _TITLE_RUN.finditer(text):
        whole = run_match.group(0)
        if " " not in whole and "\t" not in whole:
            # One word (the common case): skip openers and common words before any work.
            if whole.lower() in _NOT_NAMES or not _is_title(whole):
                continue
            start = run_match.start()
            before = text[max(0, start - 4) : start]
            if start == 0 or _SENTENCE_END.search(before):
                continue
            hits.append((start, run_match.end(), 0.6))
            continue
        run: list[re.Match[str]] = []
        for m in [*_TITLE_WORD.finditer(text, run_match.start(), run_match.end()), None]:
            if m is not None and _is_title(m.group(0)):
                run.append(m)
                continue
            if run:
                first = run[0]
                before = text[max(0, first.start() - 4) : first.start()]
                opener = first.start() == 0 or bool(_SENTENCE_END.search(before))
                words = [w for w in run if w.group(0).lower() not in _NOT_NAMES]
                if words and not (opener and len(run) == 1):
                    # Two or more name-like words ("Satsita Umkhayev") are a stronger signal.
                    score = 0.75 if len(words) >= 2 else 0.6
                    hits.append((words[0].start(), run[-1].end(), score))
            run = []
    return hits


DETECTORS: dict[str, Callable[[str, DetectorContext], list[Hit]]] = {
    "name_like": name_like,
    "phone": phone,
    "email": email,
    "uk_postcode": uk_postcode,
    "nhs_number": nhs_number,
    "meeting_link": meeting_link,
    "url": url,
    "payment_card": payment_card,
    "iban": iban,
    "ip_address": ip_address,
    "us_ssn": us_ssn,
}
