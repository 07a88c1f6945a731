"""Built-in detectors for structured personal details, named from rule YAML (`detector:`).

Each detector takes the plain normalised text and returns (start, end, score) hits in that
view. Cheap regex gates run first because most comments contain no digits at all.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable

import phonenumbers

from .context import DetectorContext, Hit
from .families import children_named, families_named
from .names import name_like


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
            if taken and not _free_digit(window, lo, taken):
                break  # every digit here is in a number already found: nothing could be kept
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


def _free_digit(window: str, lo: int, taken: list[tuple[int, int]]) -> bool:
    """Whether a digit of ``window`` (at ``lo`` in the text) lies outside every taken span.

    Every libphonenumber match contains a digit, so when none is free, each match it could
    return overlaps a number already taken and would be dropped: the call can be skipped.
    """
    return any(
        c.isdigit() and not any(s <= lo + k < e for s, e in taken) for k, c in enumerate(window)
    )


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


# Hints: a substring every match must contain, searched first. They begin with a digit class,
# so the re engine jumps from digit to digit in C; the full patterns begin with a look-behind
# that is tried at every position of the text.
_POSTCODE_HINT = re.compile(r"\d[a-z\d]? ?\d|gir ?0aa")


def uk_postcode(text: str, ctx: DetectorContext) -> list[Hit]:
    if not _POSTCODE_HINT.search(text):
        return []
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


# Every meeting link or id contains one of these words: one C-level search rules most text out.
_MEETING_WORDS = ("zoom", "teams", "meet", "webex", "whereby", "jit.si", "webinar")
_MEETING_HINT = re.compile("|".join(map(re.escape, _MEETING_WORDS)))


def meeting_link(text: str, ctx: DetectorContext) -> list[Hit]:
    if not _MEETING_HINT.search(text):
        return []
    hits = [(m.start(), m.end(), 0.95) for m in _MEETING.finditer(text)]
    hits += [(m.start(), m.end(), 0.85) for m in _MEETING_ID.finditer(text)]
    return hits


_URL = re.compile(
    r"(?:https?://|www\.)[^\s<>\"']+|(?<![@\w.-])[a-z0-9-]{2,}\.(?:com|co\.uk|net|org|info|biz|ly|io"
    r"|xyz|top|club|online|site|me|tk|ru|cn)(?:/[^\s<>\"']*)?(?![\w.])"
)
_HOST = re.compile(r"(?:https?://)?(?:www\.)?([^/\s?#:]+)")
# Every _URL match contains a scheme, "www." or a dot and one of its endings. This search
# starts with a literal, so it runs at C speed, where _URL tries every word of the text.
_URL_ENDS = "com co.uk net org info biz ly io xyz top club online site me tk ru cn".split()
_URL_PARTS = ("http://", "https://", "www.", *(f".{end}" for end in _URL_ENDS))
_URL_HINT = re.compile("|".join(map(re.escape, _URL_PARTS)))


def url(text: str, ctx: DetectorContext) -> list[Hit]:
    if "." not in text or not _URL_HINT.search(text):
        return []  # (no dot, no URL: even "http://localhost" has never counted as one)
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


_CARD_HINT = re.compile(r"\d[ -]?(?:\d[ -]?){11}\d")  # thirteen digits, single separators


def payment_card(text: str, ctx: DetectorContext) -> list[Hit]:
    if not _CARD_HINT.search(text):
        return []
    hits = []
    for m in _CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group(0))
        if 13 <= len(digits) <= 19 and luhn_ok(digits):
            hits.append((m.start(), m.end(), 0.9))
    return hits


_IBAN = re.compile(
    r"(?<![a-z0-9])([a-z]{2}\d{2}(?: ?[a-z0-9]{4}){2,7}(?: ?[a-z0-9]{1,3})?)(?![a-z0-9])"
)


_IBAN_HINT = re.compile(r"\d\d(?: ?[a-z0-9]{4}){2}")  # check digits, then two groups


def iban(text: str, ctx: DetectorContext) -> list[Hit]:
    if not _IBAN_HINT.search(text):
        return []
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


_IPV4_HINT = re.compile(r"\d\.\d")
_IPV6_HINT = re.compile(r"[0-9a-f]:[0-9a-f]")


def ip_address(text: str, ctx: DetectorContext) -> list[Hit]:
    if text.count(".") < 3 and text.count(":") < 2:
        return []
    hits = []
    v4 = _IPV4.finditer(text) if _IPV4_HINT.search(text) else ()
    v6 = _IPV6.finditer(text) if _IPV6_HINT.search(text) else ()
    for m in [*v4, *v6]:
        try:
            addr = ipaddress.ip_address(m.group(0))
        except ValueError:
            continue
        if not addr.is_loopback and not addr.is_unspecified:
            hits.append((m.start(), m.end(), 0.8))
    return hits


_SSN = re.compile(r"(?<![\d-])(\d{3})[- ](\d{2})[- ](\d{4})(?![\d-])")


_SSN_HINT = re.compile(r"\d\d\d[- ]\d\d[- ]\d")


def us_ssn(text: str, ctx: DetectorContext) -> list[Hit]:
    if not _SSN_HINT.search(text):
        return []
    hits = []
    for m in _SSN.finditer(text):
        area, group, serial = m.groups()
        if area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000":
            hits.append((m.start(), m.end(), 0.6))
    return hits


DETECTORS: dict[str, Callable[[str, DetectorContext], list[Hit]]] = {
    "name_like": name_like,
    "families_named": families_named,
    "children_named": children_named,
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

# Detectors that can only find something when the text has a digit.
DIGIT_DETECTORS = frozenset(
    {"phone", "uk_postcode", "nhs_number", "payment_card", "iban", "ip_address", "us_ssn"}
)
# Literals one of which every hit of these detectors contains (their own first checks above),
# so a rule made of one of them can be skipped by the prefilter like a phrase rule.
DETECTOR_ATOMS: dict[str, frozenset[str]] = {
    "email": frozenset(["@"]),
    "meeting_link": frozenset(_MEETING_WORDS),
    "url": frozenset(_URL_PARTS),
}
