"""rules.semantic in config.yaml: validated, with safeguarding kept recall-first."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.config import ConfigError
from rules import RulesConfig
from rules.semantic import SemanticConfig
from tests.helpers import make_settings


def test_defaults() -> None:
    config = SemanticConfig()
    assert config.enabled == "auto"
    assert config.mode_of("risk.suicide") == "raise"
    assert config.mode_of("out_of_remit.legal") == "raise"
    assert config.mode_of("abusive.hate") == "strengthen"
    assert config.mode_of("spam") == "strengthen"
    assert config.mode_of("pii.phone") is None


def test_an_exact_category_wins_over_its_top() -> None:
    config = SemanticConfig(raise_on_own=["risk", "abusive.hate"], strengthen_only=["abusive"])
    assert config.mode_of("abusive.hate") == "raise"
    assert config.mode_of("abusive.offensive") == "strengthen"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"strengthen_only": ["risk.suicide"]}, "safeguarding categories always raise"),
        ({"raise_on_own": ["help_request"]}, "risk.suicide missing"),
        ({"raise_on_own": ["risk", "spam"], "strengthen_only": ["spam"]}, "in both"),
        ({"thresholds": {"risk.suicide": 1.5}}, "between 0.01 and 0.99"),
        ({"thresholds": {"risk.sucide": 0.5}}, "unknown category 'risk.sucide'"),
        ({"raise_on_own": ["risk", "scam"]}, "unknown category 'scam'"),
        ({"enabled": "sometimes"}, "enabled"),
        ({"treshold": {}}, "treshold"),
        ({"max_chunks": 0}, "max_chunks"),
    ],
)
def test_bad_values_are_refused(values: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValidationError) as caught:
        SemanticConfig.model_validate(values)
    assert message in str(caught.value)


def test_it_is_read_from_config_yaml(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        config={"rules": {"semantic": {"enabled": False, "thresholds": {"risk": 0.5}}}},
    )
    assert settings.config.rules.semantic.enabled is False
    assert settings.config.rules.semantic.thresholds == {"risk": 0.5}
    assert isinstance(settings.config.rules, RulesConfig)
    with pytest.raises(ConfigError, match="strengthen_only"):
        make_settings(tmp_path, config={"rules": {"semantic": {"strengthen_only": ["risk"]}}})
