"""`haven classify` and `haven rules test` through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from bot.cli.rules import classify, rules


def run_classify(lines: list[str], *args: str) -> list[dict]:
    result = CliRunner().invoke(classify, list(args), input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


def test_classify_writes_one_line_per_input_in_order() -> None:
    out = run_classify(
        [
            json.dumps({"id": "a", "text": "I want to end it all"}),
            json.dumps({"id": "b", "text": "Lovely day at the fair"}),
            json.dumps({"id": 3, "text": "ring me 07700 900123", "channel": "fb_dm"}),
        ]
    )
    assert [o["id"] for o in out] == ["a", "b", 3]
    assert out[0]["categories"] == ["risk.suicide"]
    finding = out[0]["findings"][0]
    # DESIGN's keys; the learned stage adds why it agreed with the rule (an extra key).
    assert set(finding) - {"explanation"} == {"category", "rule", "severity", "score", "span"}
    assert finding["span"] == [0, 20]
    assert out[1] == {"id": "b", "categories": [], "findings": []}
    assert "pii.phone" in out[2]["categories"]


def test_classify_attachments_and_page_posts() -> None:
    out = run_classify(
        [
            json.dumps(
                {
                    "id": 1,
                    "text": "my son's first day!",
                    "attachments": [{"type": "image", "url": "x"}],
                }
            ),
            json.dumps(
                {
                    "id": 2,
                    "text": "Fun day",
                    "attachments": ["image"],
                    "from_page": True,
                    "channel": "fb_post",
                }
            ),
        ]
    )
    assert out[0]["categories"] == ["photo.child"] and out[0]["findings"][0]["span"] is None
    assert out[1]["categories"] == ["photo.family"]


def test_classify_bad_lines_report_errors_and_carry_on() -> None:
    out = run_classify(
        [
            "not json",
            json.dumps({"id": 2}),
            json.dumps({"id": 3, "text": "hi", "channel": "carrier_pigeon"}),
            json.dumps([1, 2]),
            json.dumps({"id": 5, "text": "hi", "from_page": "yes"}),
            "",
            json.dumps({"id": 6, "text": "still working"}),
        ]
    )
    assert [o.get("id") for o in out] == [None, 2, 3, None, 5, 6]
    assert all("error" in o for o in out[:5]) and "error" not in out[5]


def test_classify_reads_rules_section_of_a_config(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("rules:\n  word_lists:\n    spam: [cheap trainers]\n", encoding="utf-8")
    out = run_classify([json.dumps({"id": 1, "text": "cheap trainers!"})], "--config", str(config))
    assert "spam" in out[0]["categories"]


def test_classify_bad_config_is_a_clean_error(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("rules:\n  packs: [nope]\n", encoding="utf-8")
    result = CliRunner().invoke(classify, ["--config", str(config)], input="")
    assert result.exit_code != 0 and "nope" in result.output


def export(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def test_rules_test_on_csv(tmp_path: Path) -> None:
    path = export(
        tmp_path,
        "comments.csv",
        "id,message\n1,I want to end it all\n2,Great day thanks\n3,email me jo@example.com\n",
    )
    result = CliRunner().invoke(rules, ["test", str(path)])
    assert result.exit_code == 0, result.output
    assert "3 messages, 2 flagged" in result.output
    assert (
        "risk-suicide-first-person" in result.output and "[[I want to end it all]]" in result.output
    )


def test_rules_test_json_on_jsonl(tmp_path: Path) -> None:
    lines = [
        {"id": "x", "text": "call me on 07700 900123"},
        {"text": "Lovely day at the fun run, thank you all"},
        "junk",
    ]
    path = export(
        tmp_path, "comments.jsonl", "\n".join(json.dumps(x) for x in lines) + "\nnot json\n"
    )
    result = CliRunner().invoke(rules, ["test", str(path), "--json", "--examples", "1"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["messages"] == 2 and report["flagged"] == 1
    phone = next(r for r in report["rules"] if r["rule"] == "pii-phone")
    assert phone["hits"] == 1 and phone["examples"][0]["id"] == "x"
