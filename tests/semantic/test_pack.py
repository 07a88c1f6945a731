"""The prototype pack: validated like rule packs, and written by us (not copied from eval data)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from rules import RuleError
from rules.model import TAXONOMY
from rules.semantic import PACK_PATH, load_pack
from tests.helpers import SHARED

REQUIRED = [
    "risk.suicide",
    "risk.self_harm",
    "risk.abuse",
    "risk.domestic_violence",
    "risk.child_at_risk",
    "risk.harm_to_others",
    *(f"help_request.{s}" for s in TAXONOMY["help_request"]),
    "out_of_remit.legal",
    "out_of_remit.medical",
    *(f"abusive.{s}" for s in TAXONOMY["abusive"]),
    "spam",
]


def test_the_shipped_pack_covers_every_category_the_stage_judges() -> None:
    pack = load_pack()
    assert sorted(pack.categories) == sorted(REQUIRED)
    for category, doc in pack.categories.items():
        assert len(doc.prototypes) >= 5, category
        assert 0.2 <= pack.threshold(category) <= 0.95


def _write(tmp_path: Path, change) -> Path:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(PACK_PATH.read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "semantic.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["categories"]["spam"].update(proto=["x"]), "unknown key 'proto'"),
        (lambda d: d["categories"].update({"risk.sucide": d["categories"]["spam"]}), "risk.sucide"),
        (lambda d: d["thresholds"].pop("spam"), "missing for spam"),
        (
            lambda d: d["categories"]["spam"]["prototypes"].append(
                "Check out my channel and subscribe"
            ),
            "twice",
        ),
        (lambda d: d["categories"]["spam"].update(prototypes=["one", "two"]), "at least 3"),
        (lambda d: d["neutral"].append("   "), "empty sentence"),
    ],
)
def test_a_broken_pack_is_refused_naming_file_and_key(tmp_path: Path, change, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RuleError) as caught:
        load_pack(_write(tmp_path, change))
    assert "semantic.yaml" in str(caught.value)
    assert message in str(caught.value)


@pytest.mark.shared
def test_no_prototype_is_a_row_of_the_evaluation_sets() -> None:
    data = SHARED / "eval" / "data"
    if not data.is_dir():
        pytest.skip("../shared/eval is not available here")
    pack = load_pack()
    ours = {
        t.strip().lower() for doc in pack.categories.values() for t in doc.prototypes + doc.unlike
    }
    ours |= {t.strip().lower() for t in pack.neutral}
    rows = {
        json.loads(line)["text"].strip().lower()
        for path in data.glob("*.jsonl")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line
    }
    assert ours & rows == set()


def test_charity_cases_are_not_prototypes() -> None:
    cases = Path(__file__).resolve().parents[2] / "bench" / "data" / "charity_cases.jsonl"
    texts = {json.loads(line)["text"].lower() for line in cases.read_text().splitlines() if line}
    pack = load_pack()
    ours = {t.lower() for doc in pack.categories.values() for t in doc.prototypes + doc.unlike}
    assert len(texts) >= 140
    assert texts & (ours | {t.lower() for t in pack.neutral}) == set()
