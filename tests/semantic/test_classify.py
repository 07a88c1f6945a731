"""`haven classify` with the stage: DESIGN's keys unchanged, plus an explanation key."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from bot.cli.rules import classify

pytestmark = pytest.mark.usefixtures("embedder")  # skips with the reason when not installed
KEYS = {"category", "rule", "severity", "score", "span"}


def run(lines: list[str], *args: str) -> list[dict]:  # type: ignore[type-arg]
    result = CliRunner().invoke(classify, list(args), input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


def test_a_semantic_finding_carries_its_explanation() -> None:
    lines = [
        json.dumps({"id": 1, "text": "Sorted out who gets my things. Letters are written."}),
        json.dumps({"id": 2, "text": "What time is the coffee morning?"}),
    ]
    first, second = run(lines)
    assert first["id"] == 1 and "risk.suicide" in first["categories"]
    semantic = [f for f in first["findings"] if f["rule"] == "semantic-risk-suicide"]
    assert semantic and set(semantic[0]) == KEYS | {"explanation"}
    why = semantic[0]["explanation"]
    assert why["method"] == "classifier" and why["score"] >= why["threshold"]
    assert why["nearest"] and why["reason"]
    assert second == {"id": 2, "categories": [], "findings": []}


def test_rule_findings_keep_the_design_keys_and_gain_the_reason_the_heads_agreed() -> None:
    (out,) = run([json.dumps({"id": "a", "text": "I want to kill myself"})])
    rules = [f for f in out["findings"] if not f["rule"].startswith("semantic-")]
    assert rules and all(set(f) - {"explanation"} == KEYS for f in rules)
    (suicide,) = [f for f in rules if f["category"] == "risk.suicide"]
    assert suicide["explanation"]["rule"] == suicide["rule"]


def test_batches_keep_order_and_errors_in_place() -> None:
    texts = [f"message number {n}" for n in range(5)]
    lines = [json.dumps({"id": n, "text": t}) for n, t in enumerate(texts)]
    lines.insert(2, "{not json")
    lines.insert(4, json.dumps({"id": "bad", "text": 3}))
    for size in ("1", "2", "32"):
        out = run(lines, "--batch", size)
        assert [o["id"] for o in out] == [0, 1, None, 2, "bad", 3, 4]
        assert out[2]["error"].startswith("invalid JSON") and "text" in out[4]["error"]


def test_rules_test_reports_the_stage_like_a_rule(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from bot.cli.rules import rules

    path = tmp_path / "export.csv"
    path.write_text("id,message\n1,Been giving my stuff away to mates\n2,Lovely day\n")
    result = CliRunner().invoke(rules, ["test", str(path)])
    assert result.exit_code == 0, result.output
    assert "semantic-risk-suicide (risk.suicide, critical): 1 hits" in result.output


def test_check_config_says_the_stage_is_on(check_config) -> None:  # type: ignore[no-untyped-def]
    result = check_config()
    assert result.exit_code == 0, result.output
    assert "semantic stage on (all-MiniLM-L6-v2 int8, trained heads)" in result.output


def test_hostility_aimed_at_someone_else_is_not_read_as_their_own_risk() -> None:
    # "Nobody wants you" is about the reader; "nobody would notice if I was gone" is about the
    # writer. Paging the safeguarding lead for the first trains them to ignore the pager.
    lines = [
        json.dumps({"id": 1, "text": "Nobody wants you here, shut up and go away"}),
        json.dumps({"id": 2, "text": "Nobody would even miss me if I was gone"}),
    ]
    hostile, despair = run(lines)
    assert "risk.suicide" not in hostile["categories"]
    assert "abusive.harassment" in hostile["categories"]
    assert "risk.suicide" in despair["categories"]
