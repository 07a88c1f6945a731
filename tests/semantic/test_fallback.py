"""Without the `semantic` extra Haven runs with the rules alone, and says so once at start."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import Result

import bot.semantic
from bot.semantic import announce, availability, detection_ruleset
from rules import Message, RulesConfig, RuleSet
from rules.semantic import SemanticConfig
from tests.helpers import REPO

RISKY = "I've started giving away my things to people"  # no rule catches this


@pytest.fixture
def without_extra(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """As if onnxruntime were not installed: importing it fails."""
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    monkeypatch.setattr(bot.semantic, "_announced", False)
    detection_ruleset.cache_clear()
    yield
    detection_ruleset.cache_clear()


def test_absent_extra_means_rules_alone(without_extra: None) -> None:
    state = availability(SemanticConfig())
    assert not state.on
    assert "onnxruntime is not installed" in state.reason and "haven[semantic]" in state.reason
    ruleset = detection_ruleset(RulesConfig())
    assert type(ruleset) is RuleSet
    assert ruleset.evaluate(Message(RISKY)) == []
    assert ruleset.evaluate(Message("I want to kill myself"))[0].category == "risk.suicide"


def test_it_is_said_once_in_the_log(without_extra: None, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="bot.semantic"):
        announce(SemanticConfig())
        announce(SemanticConfig())
        detection_ruleset(RulesConfig())
    lines = [r for r in caplog.records if r.name == "bot.semantic"]
    assert len(lines) == 1
    assert lines[0].levelno == logging.WARNING
    assert "rules alone" in lines[0].getMessage()


def test_check_config_says_so(without_extra: None, check_config: Callable[..., Result]) -> None:
    result = check_config()
    assert result.exit_code == 0, result.output
    assert "semantic stage off (onnxruntime is not installed" in result.output
    assert "rules alone" in result.output


def test_enabled_true_without_the_extra_is_an_error(
    without_extra: None, tmp_path: Path, check_config: Callable[..., Result]
) -> None:
    config = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    config["rules"] = {"semantic": {"enabled": True}}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    result = check_config(path)
    assert result.exit_code == 1
    assert "enabled is true but onnxruntime is not installed" in result.output


def test_disabled_in_config_means_rules_alone_even_when_installed() -> None:
    ruleset = detection_ruleset(RulesConfig(semantic=SemanticConfig(enabled=False)))
    assert type(ruleset) is RuleSet
    assert "enabled is false" in availability(SemanticConfig(enabled=False)).reason


def test_a_missing_override_path_is_reported(tmp_path: Path) -> None:
    state = availability(SemanticConfig(model_path=str(tmp_path / "nowhere.onnx")))
    assert not state.on and "no model file" in state.reason
