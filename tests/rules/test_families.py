"""A family named in the page's own post (policies 002 and 004): a small labelled set of our own.

Positives are the ways people name a family in a warm post: by surname with "family", as a
couple with a shared surname, or children with a family word. Negatives are the near misses:
family events, streets, organisations, prams. The set is scored as a whole (precision and
recall printed with `-s`), and every line must come out as labelled except the few listed as
known misses, so a change that gains or loses one shows here.
"""

from __future__ import annotations

import pytest

from rules import Message, RulesConfig, RuleSet, load_ruleset

FAMILY_RULES = frozenset({"pii-family-named", "pii-family-children-named"})

POSITIVE = [
    "A lovely afternoon with the Patel family at the park",
    "Thank you to the Okonkwo family for the cakes!",
    "The Nguyen family came along to the coffee morning",
    "Huge thanks to the Smith-Baker family for their support",
    "We were so happy to welcome the Kowalski and Brennan families this week",
    "Lovely to visit Sarah and Tom Jones and their twins",
    "Tom and Sarah Jones have been amazing this year",
    "Congratulations to Priya & Dev Sharma on the new arrival",
    "Mr and Mrs Adeyemi brought the whole crew to the picnic",
    "Mum of the year award goes to Aisha Khan and Omar Khan's little ones",
    "her twins Leo and Max loved the soft play",
    "their daughter Amy started school today",
    "So proud of his son, Callum, who ran the 5k",
    "Here are the twins, Leo and Max, enjoying the sunshine",
    "Our volunteer met twin boys Oscar and Finley today",
    "Mia and Ruby, their twin girls, were the stars of the show",
    "Grace, her youngest, drew us a picture",
    "We spent the day with her triplets Noah, Isla and Theo",
    "Baby Zainab is now three months old!",
    "Their little ones Kacper and Zofia helped bake",
    "my niece Lily came too",
    "Celebrating with our family Jack and Harry today",
    "Such a fun trip to the zoo with the O'Brien family!",
    "Well done to Daniel and Chloe Evans for completing the challenge",
    "Their son Mohammed and daughter Fatima joined us",
    "We visited the Hughes household today",
    "Little Harrison and his sister Ella had a great time",
    "Meet the Garcia twins, Mateo and Lucas!",
]

NEGATIVE = [
    "Join us at the family fun day on Saturday!",
    "The Family Fun Day raised £300",
    "Our new office is on Jones Street",
    "We have two twin prams to give away",
    "Thank you to everyone at Twins Trust",
    "Twin Prams and Buggies swap shop this Sunday",
    "Families Together Suffolk is recruiting volunteers",
    "Every family deserves support",
    "Our twins group meets on Tuesdays at the Patel Centre",
    "The Family Support Team will be at the library",
    "Parents of twins: our Facebook group is open",
    "Fish and Chips Friday at the hall",
    "Thank you Sarah for organising the raffle",
    "The children loved the Christmas party",
    "Support for families with twins, triplets and more",
    "The Jones Family Centre opens at 9",
    "The Smith Street families association meets monthly",
    "Come to our baby bank on Friday",
    "Our families are at the heart of everything we do",
    "Mums and Dads Group is back next week",
    "Visit the Twins Trust website or call Twinline",
    "Many twins and triplets attended the picnic",
    "Family Day at Christchurch Park was a hit",
    "The twins group is at Ipswich Library",
    "Thank you to Marks and Spencer for the donation",
    "Our Family Crisis Support volunteers are amazing",
    "Annual Twins Trust family picnic",
    "Tom and Jerry Night at the cinema",
]

# Phrasings the detectors do not catch yet, said plainly rather than hidden in a threshold.
KNOWN_MISSES = {
    "Celebrating with our family Jack and Harry today",
}
KNOWN_FALSE_ALARMS: set[str] = set()


@pytest.fixture(scope="module")
def ruleset() -> RuleSet:
    return load_ruleset(RulesConfig())


def _names_a_family(ruleset: RuleSet, text: str) -> bool:
    post = Message(text=text, channel="fb_post", from_page=True)
    return any(f.rule in FAMILY_RULES for f in ruleset.evaluate(post))


@pytest.mark.parametrize("text", POSITIVE)
def test_a_family_named_in_the_pages_post_is_found(ruleset: RuleSet, text: str) -> None:
    assert _names_a_family(ruleset, text) is (text not in KNOWN_MISSES)


@pytest.mark.parametrize("text", NEGATIVE)
def test_family_words_that_name_no_family_are_left_alone(ruleset: RuleSet, text: str) -> None:
    assert _names_a_family(ruleset, text) is (text in KNOWN_FALSE_ALARMS)


def test_the_labelled_set_scores_as_reported(ruleset: RuleSet) -> None:
    found = [t for t in POSITIVE if _names_a_family(ruleset, t)]
    alarms = [t for t in NEGATIVE if _names_a_family(ruleset, t)]
    precision = len(found) / (len(found) + len(alarms))
    recall = len(found) / len(POSITIVE)
    print(
        f"families: precision {precision:.2f}, recall {recall:.2f} on {len(POSITIVE)}+/"
        f"{len(NEGATIVE)}-"
    )
    assert recall >= 0.85 and precision >= 0.95


def test_the_family_rules_judge_only_the_pages_own_posts(ruleset: RuleSet) -> None:
    # A visitor naming a family is a personal-details matter judged by the other pii rules and
    # the learned stage; these strong rules are for what staff publish.
    visitor = Message(text="Lovely to see the Patel family there", channel="fb_comment")
    assert not any(f.rule in FAMILY_RULES for f in ruleset.evaluate(visitor))


def test_a_family_in_the_pages_post_is_a_strong_finding_that_is_not_hidden(
    ruleset: RuleSet,
) -> None:
    post = Message(text="Lovely to visit Sarah and Tom Jones", channel="fb_post", from_page=True)
    found = [f for f in ruleset.evaluate(post) if f.rule in FAMILY_RULES]
    assert [f.severity for f in found] == ["high"]
    assert found[0].actions.hide is False and found[0].actions.alert == ("moderator",)
    start, end = found[0].span or (0, 0)
    assert post.text[start:end] == "Sarah and Tom Jones"
