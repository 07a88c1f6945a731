"""The name_like detector: runs of Title-case words that may be a person, place or body."""

from __future__ import annotations

import re

from .context import DetectorContext, Hit

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
# The look-behind ("not right after a letter, digit, slash...") sits after the capital it
# guards, so the regex starts with a character class and the re engine skips ahead in C to
# the next capital instead of trying the look-behind at every position. Same matches.
_WORD = rf"[{_UPPER}](?<![\w/@.#'’-].)[^\W\d_]*(?:['’-][^\W\d_]+)*(?![\w/@'’]|\.[^\W\d_])"
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
