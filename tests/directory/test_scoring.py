"""The pure scoring of matches: need, topic and remaining capacity, each explained."""

from __future__ import annotations

from bot.directory.matching import Candidate, need_for, rank, score


def _candidate(
    id: int,
    kind: str,
    topics: tuple[str, ...],
    capacity: int | None = 3,
    load: int = 0,
    name: str | None = None,
) -> Candidate:
    return Candidate(
        id=id,
        kind=kind,
        name=name or f"entry {id}",
        topics=frozenset(topics),
        capacity=capacity,
        load=load,
    )


def test_peer_connection_asks_for_peer_supporters_and_groups() -> None:
    need = need_for("support", ["help_request.peer_connection"], [])
    assert need.kinds == {"peer_supporter": 3, "group": 3}
    assert need.kind_reasons["group"] == "peer connection"


def test_professional_help_and_legal_questions_ask_for_services() -> None:
    need = need_for("boundary", ["help_request.professional_help", "out_of_remit.legal"], [])
    assert need.kinds == {"service": 3}
    assert need.topics == {"legal"}  # a legal question is a topic services list


def test_without_specific_findings_the_case_type_decides() -> None:
    assert need_for("support", ["pii.phone"], []).kinds == {
        "peer_supporter": 2,
        "group": 2,
        "service": 1,
    }
    assert need_for("complaint", [], []).kinds == {}


def test_the_explanation_names_the_need_the_topic_and_the_places_left() -> None:
    need = need_for("support", ["help_request.peer_connection"], ["kinship_care"])
    proposal = score(need, _candidate(1, "peer_supporter", ("kinship_care", "fostering"), 3, 1))
    assert proposal is not None and proposal.offered
    assert proposal.explanation == (
        "need: peer connection → peer supporter; topic: kinship care; 2 places left"
    )
    assert proposal.score == 3 + 2 + 0.5


def test_a_full_entry_is_shown_but_not_offered_and_ranks_last() -> None:
    need = need_for("support", ["help_request.peer_connection"], ["kinship_care"])
    full = _candidate(1, "peer_supporter", ("kinship_care",), capacity=2, load=2)
    room = _candidate(2, "group", (), capacity=10, load=0)
    ranked = rank(need, [full, room])
    assert [p.candidate.id for p in ranked] == [2, 1]
    assert ranked[1].offered is False and "full (2 of 2)" in ranked[1].explanation
    assert ranked[1].score > ranked[0].score  # the better fit, still behind: it has no room


def test_unrelated_entries_are_not_proposed_and_topics_raise_the_rank() -> None:
    need = need_for("support", ["help_request.peer_connection"], ["bereavement"])
    service = _candidate(1, "service", ("legal",))
    assert score(need, service) is None
    plain = _candidate(2, "peer_supporter", ("adoption",), name="a")
    topical = _candidate(3, "peer_supporter", ("bereavement",), name="b")
    assert [p.candidate.id for p in rank(need, [plain, topical])] == [3, 2]


def test_a_topic_match_alone_is_proposed_and_no_limit_is_said() -> None:
    need = need_for("support", ["help_request.professional_help"], ["domestic_abuse"])
    group = _candidate(1, "group", ("domestic_abuse",), capacity=None)
    proposal = score(need, group)
    assert proposal is not None and proposal.offered
    assert proposal.explanation == "topic: domestic abuse; no set limit"


def test_more_room_breaks_a_tie_but_never_outweighs_a_topic() -> None:
    need = need_for("support", ["help_request.peer_connection"], ["send"])
    roomy = _candidate(1, "peer_supporter", (), capacity=50, load=0)
    tight = _candidate(2, "peer_supporter", ("send",), capacity=1, load=0)
    same_but_tighter = _candidate(3, "peer_supporter", (), capacity=1, load=0)
    assert [p.candidate.id for p in rank(need, [same_but_tighter, roomy, tight])] == [2, 1, 3]
