"""Reading a person's written answer to "may we help, and may we share what is needed?" (pure).

The matching procedure asks for written consent in private before any referral or
introduction. This module only reads the answer: given, declined, withdrawn, or unclear.
Anything it cannot read with confidence is "unclear" and goes to a person; it never guesses.
A tap on one of the buttons Haven sends (a quick reply or postback) carries one of the
payload constants below and is read from the payload, whatever its title says.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

Intent = Literal["given", "declined", "withdrawn", "unclear"]

# Payloads on the buttons Haven sends with the consent question (Messenger and Instagram
# quick replies, and postback buttons). Kept short and stable: old messages keep their buttons.
# Every payload Haven puts on a button starts so; the webhook keeps only taps on these.
HAVEN_PAYLOAD_PREFIX = "HAVEN_"
CONSENT_YES = "HAVEN_CONSENT_YES"
CONSENT_NO = "HAVEN_CONSENT_NO"
CONSENT_STOP = "HAVEN_CONSENT_STOP"
PAYLOAD_INTENTS: dict[str, Intent] = {
    CONSENT_YES: "given",
    CONSENT_NO: "declined",
    CONSENT_STOP: "withdrawn",
}
# (title, payload) of the quick replies offered with the question; titles are at most 20
# characters, Meta's limit for a quick reply.
CONSENT_QUICK_REPLIES: tuple[tuple[str, str], ...] = (
    ("Yes, please", CONSENT_YES),
    ("Not right now", CONSENT_NO),
    ("Stop messages", CONSENT_STOP),
)


@dataclass(frozen=True)
class ConsentReading:
    intent: Intent
    via: Literal["payload", "text", "none"]
    # Why, in a few words, for the audit log and for staff (never the person's text).
    reason: str


# Emoji people answer with. Skin tones and variation selectors are removed first.
_EMOJI = {
    "\U0001f44d": " yes ",  # thumbs up
    "\U0001f44c": " yes ",  # OK hand
    "\u2705": " yes ",  # check mark button
    "\u2714": " yes ",  # heavy check mark
    "\u2611": " yes ",  # ballot box with check
    "\U0001f646": " yes ",  # person gesturing OK
    "\U0001f44e": " no ",  # thumbs down
    "\u274c": " no ",  # cross mark
    "\u2716": " no ",  # heavy multiplication x
    "\U0001f645": " no ",  # person gesturing no
    "\U0001f6d1": " stop ",  # stop sign
    "\u26d4": " stop ",  # no entry
    "\U0001f6ab": " stop ",  # prohibited
}
# Letters from other scripts that look like Latin ones ("уes" typed on a Cyrillic keyboard).
_CONFUSABLES = str.maketrans(
    {
        "а": "a",
        "е": "e",
        "о": "o",
        "р": "p",
        "с": "c",
        "у": "y",
        "х": "x",
        "ѕ": "s",
        "і": "i",
        "ο": "o",
        "ν": "v",
        "κ": "k",
        "α": "a",
        "ε": "e",
        "ʏ": "y",
        "ɴ": "n",
        "\u2018": "'",
        "\u2019": "'",
        "\u02bc": "'",
        "`": "'",
        "\u00b4": "'",
    }  # fmt: skip
)
_STRETCH = re.compile(r"([a-z])\1{2,}")
_CLAUSE_SPLIT = re.compile(r"[,.;:!?\n]+|\s-\s|\bbut\b")
_TOKEN = re.compile(r"[a-z0-9']+")

_NEGATORS = frozenset({"not", "never", "dont", "don't", "do not", "cant", "can't", "wont",
    "won't", "didnt", "didn't", "doesnt", "doesn't", "havent", "haven't", "hasnt", "hasn't",
    "isnt", "isn't", "wouldnt", "wouldn't", "shouldnt", "shouldn't", "aint", "ain't"})  # fmt: skip

# Said anywhere, these take consent back or ask Haven to stop writing.
_WITHDRAW = ("stop", "stop it", "please stop", "stop messaging", "stop messaging me",
    "stop texting", "stop contacting", "stop writing", "stop sending", "unsubscribe", "opt out",
    "leave me alone", "don't contact me", "do not contact me", "dont contact me",
    "don't message me", "do not message me", "dont message me", "no more messages",
    "changed my mind", "change my mind", "withdraw", "withdraw my consent", "take back",
    "cancel", "cancel that", "remove me", "forget me", "delete my", "don't share",
    "do not share", "dont share", "i no longer want", "no longer want", "not anymore",
    "not any more")  # fmt: skip
# Said anywhere (and not negated), these decline.
_DECLINE = ("no thanks", "no thank you", "no thankyou", "no ta", "not right now", "not now",
    "not at the moment", "not at the minute", "not yet", "not today", "not for now",
    "maybe later", "another time", "some other time", "rather not", "i'd rather not",
    "not interested", "don't want", "do not want", "dont want", "no need", "not for me",
    "i'll pass", "ill pass", "i'm ok thanks", "i'm okay thanks", "i'm fine thanks",
    "i'm alright thanks", "i'm good thanks", "im ok thanks", "im fine thanks",
    "i'm ok thank you", "i'm fine thank you", "i'm alright thank you", "i'll be ok",
    "i'll be fine", "i don't consent", "i do not consent", "i dont consent",
    "no i don't", "no i do not", "i'm not comfortable", "not comfortable",
    "i'd prefer not", "prefer not", "not keen", "no way", "of course not", "absolutely not",
    "definitely not", "certainly not")  # fmt: skip
# Said anywhere (and not negated), these consent.
_GIVE = ("yes please", "yes pls", "yes plz", "please do", "go on then", "go on", "go ahead",
    "please go ahead", "go for it", "sounds good", "sounds great", "sounds lovely",
    "sounds helpful", "that would be great", "that would be lovely", "that would be good",
    "that would be helpful", "that would be nice", "that'd be great", "that'd be lovely",
    "that'd be good", "that'd be helpful", "that'd be nice", "would be great",
    "would be lovely", "would be helpful", "i'd like that", "i would like that",
    "i'd love that", "i would love that", "i'd really like that", "i'd appreciate that",
    "i would appreciate that", "i'd appreciate it", "i don't mind", "i dont mind",
    "don't mind", "dont mind", "i do not mind", "i consent", "i give consent",
    "i give my consent", "i give permission", "you have my permission", "you have my consent",
    "i agree", "i'm happy for", "i am happy for", "happy for you to", "happy to go ahead",
    "happy with that", "ok with that", "okay with that", "fine with that", "fine by me",
    "ok by me", "that's fine", "that is fine", "that's ok", "that's okay", "that works",
    "let's do it", "lets do it", "count me in", "why not", "of course")  # fmt: skip
# Words that answer on their own at the start of a clause ("Yeah ok", "Thanks, yes").
_YES_WORDS = frozenset({"yes", "yess", "yeah", "yeh", "yea", "yah", "ya", "yep", "yup", "yas",
    "aye", "sure", "absolutely", "definitely", "certainly", "deffo", "defo", "please"})  # fmt: skip
# A bare "ok" may only acknowledge the message ("ok thanks"): consent only when it is
# the whole answer, or with a real yes beside it.
_WEAK_YES = frozenset({"ok", "okay", "okey", "okie", "k", "kk", "alright", "allright"})
_NO_WORDS = frozenset({"no", "nope", "nah", "naw", "nay", "noo", "nae"})
# Openers skipped before the first word of a clause.
_OPENERS = frozenset({"hi", "hiya", "hello", "hey", "um", "umm", "erm", "er", "uh", "well",
    "thanks", "thank", "you", "cheers", "ta", "so", "and", "oh", "ah"})  # fmt: skip
_THANKS = frozenset({"thanks", "thank", "cheers", "ta", "thx"})
# Doubt turns any reading into "unclear": a person has to ask.
_HEDGES = ("not sure", "unsure", "don't know", "dont know", "do not know", "dunno", "maybe",
    "perhaps", "might", "i think so", "possibly", "what do you mean", "what does that mean",
    "depends", "it depends", "not certain", "i guess", "suppose", "hmm",
    "not saying", "but")  # fmt: skip
# "No problem" / "no worries" are not a "no": said to a question, they can mean yes or
# nothing at all, so they count for neither side.
_NEUTRAL = ("no problem", "no probs", "no worries", "no bother", "no rush", "no hurry")
_NEUTRAL_RE = re.compile(r"\b(?:" + "|".join(_NEUTRAL) + r")\b")
# A soft "not now" said with "maybe" is still a no for now, not doubt.
_REWRITES = {"maybe later": "not now", "maybe another time": "not now",
    "maybe next time": "not now", "maybe some other time": "not now"}  # fmt: skip


def read_consent(text: str | None, payload: str | None = None) -> ConsentReading:
    """The person's answer, from a button payload if there is one, else from their words."""
    if payload:
        intent = PAYLOAD_INTENTS.get(payload.strip())
        if intent is not None:
            return ConsentReading(intent, "payload", f"button {payload.strip()}")
    words = normalise_answer(text or "")
    if not words:
        return ConsentReading("unclear", "none", "no words to read")
    return _classify(words)


def normalise_answer(text: str) -> str:
    """Lower-case ASCII-ish words: NFKC, emoji as words, look-alike letters, no stretching."""
    text = unicodedata.normalize("NFKC", text)
    for emoji, word in _EMOJI.items():
        text = text.replace(emoji, word)
    kept = []
    for ch in text:
        category = unicodedata.category(ch)
        if category == "Cf" or 0x1F3FB <= ord(ch) <= 0x1F3FF or 0xFE00 <= ord(ch) <= 0xFE0F:
            continue  # zero-width characters, skin tones, variation selectors
        kept.append(" " if category.startswith("S") else ch)
    lowered = "".join(kept).casefold().translate(_CONFUSABLES)
    lowered = _STRETCH.sub(r"\1", lowered)
    return " ".join(lowered.split())


def _classify(words: str) -> ConsentReading:
    words = _NEUTRAL_RE.sub(" ", words)
    padded = f" {_words_only(words)} "
    for phrase, meaning in _REWRITES.items():
        padded = padded.replace(f" {phrase} ", f" {meaning} ")
    withdrawn = _found(padded, _WITHDRAW)
    declined = _found(padded, _DECLINE)
    given = _found(padded, _GIVE)
    starts = _clause_starts(words)
    if "no" in starts:
        declined = True
    if "yes" in starts:
        given = True
    if withdrawn and not given:
        return ConsentReading("withdrawn", "text", "asked to stop or changed their mind")
    hedged = _found(padded, _HEDGES, negatable=False)
    if hedged or (given and (declined or withdrawn)):
        return ConsentReading("unclear", "text", "mixed or hesitant answer")
    if declined:
        return ConsentReading("declined", "text", "said no or not now")
    if given:
        return ConsentReading("given", "text", "said yes")
    if "weak" in starts and len(_TOKEN.findall(words)) <= 2 and not _THANKS & set(words.split()):
        return ConsentReading("given", "text", "said ok")
    return ConsentReading("unclear", "text", "no clear yes or no")


def _words_only(words: str) -> str:
    return " ".join(_TOKEN.findall(words))


def _found(padded: str, phrases: tuple[str, ...], *, negatable: bool = True) -> bool:
    """Is any phrase in the text, not negated just before it ("don't stop", "not yes")?"""
    for phrase in phrases:
        needle = f" {_words_only(phrase)} "
        start = padded.find(needle)
        while start != -1:
            before = padded[:start].split()[-3:]
            after = padded[start + len(needle) :].split()[:1]
            negated = negatable and (
                any(w in _NEGATORS for w in before)
                or " ".join(before[-2:]) in _NEGATORS
                or after == ["not"]  # "definitely not", "of course not"
            )
            if not negated:
                return True
            start = padded.find(needle, start + 1)
    return False


def _clause_starts(words: str) -> set[str]:
    """ "yes", "no" and "weak" for clauses opening with such a word, after any greeting."""
    found = set()
    for clause in _CLAUSE_SPLIT.split(words):
        tokens = _TOKEN.findall(clause)
        while tokens and tokens[0] in _OPENERS:
            tokens = tokens[1:]
        if not tokens:
            continue
        first = tokens[0]
        denied = len(tokens) > 1 and tokens[1] in ("not", "never")
        if first in _YES_WORDS and denied:
            found.add("no")  # "definitely not", "sure not"
        elif first in _YES_WORDS and not (first == "please" and len(tokens) > 1):
            found.add("yes")
        elif first in _NO_WORDS:
            found.add("no")
        elif first in _WEAK_YES:
            # "ok yes" / "alright then, go on" read from their other words; "ok" alone is weak.
            found.add("yes" if len(tokens) > 1 and tokens[1] in _YES_WORDS else "weak")
    return found
