"""Smoke checks on the labelled sets in ../shared/eval (skipped when they are not there)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from rules import Message, load_ruleset

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / ".." / "shared" / "eval" / "data"
needs_shared = pytest.mark.skipif(
    not DATA.is_dir(), reason=f"{DATA} not found: ../shared/eval is not checked out beside the repo"
)


def load_bench():
    spec = importlib.util.spec_from_file_location(
        "bench_detection", ROOT / "bench" / "detection.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


def test_detection_bench_skips_cleanly_without_data(tmp_path: Path, capsys) -> None:
    bench = load_bench()
    assert bench.main(["--data", str(tmp_path / "absent")]) == 0
    assert "skipped" in capsys.readouterr().out


@pytest.mark.shared
@needs_shared
def test_every_eval_file_maps_to_a_family() -> None:
    bench = load_bench()
    for path in DATA.glob("*.jsonl"):
        assert bench.family_for(path.stem) is not None, path.name


@pytest.mark.shared
@needs_shared
def test_pii_synthetic_stays_above_floor() -> None:
    # A regression guard, well under the measured figure in docs/detection.md.
    ruleset = load_ruleset()
    rows = [
        json.loads(line)
        for line in (DATA / "pii_presidio_synth.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    tp = fp = fn = 0
    for row in rows:
        pred = any(f.category.startswith("pii.") for f in ruleset.evaluate(Message(row["text"])))
        tp += pred and row["label"] == 1
        fp += pred and row["label"] == 0
        fn += not pred and row["label"] == 1
    f1 = 2 * tp / (2 * tp + fp + fn)
    assert f1 >= 0.85


@pytest.mark.shared
@needs_shared
def test_every_eval_row_evaluates_with_valid_spans() -> None:
    ruleset = load_ruleset()
    for path in sorted(DATA.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines()[:150]:
            text = json.loads(line)["text"]
            for finding in ruleset.evaluate(Message(text)):
                for start, end in finding.spans:
                    assert 0 <= start < end <= len(text)
