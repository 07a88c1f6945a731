"""Fixtures for the semantic stage: the real model once per session, and a fake embedder."""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from bot.semantic import availability
from rules.semantic import SemanticConfig
from tests.helpers import REPO, environ_for_tests


@pytest.fixture(scope="session")
def embedder():  # type: ignore[no-untyped-def]
    """The installed all-MiniLM-L6-v2 int8 model, loaded once for the whole session."""
    state = availability(SemanticConfig())
    if not state.on:
        pytest.skip(f"the `semantic` extra is not installed: {state.reason}")
    from bot.semantic import _embedder

    return _embedder(str(state.model_path), str(state.tokenizer_path))


@pytest.fixture
def check_config(tmp_path: Path) -> Callable[..., Result]:
    """`haven check-config` as an operator runs it, on the repository's config.yaml or another."""

    def run(config: Path = REPO / "config.yaml") -> Result:
        from bot.cli import main

        args = ["check-config", "--config", str(config)]
        return CliRunner().invoke(main, args, env=environ_for_tests(tmp_path))

    return run


def word_dimension(word: str) -> int:
    return zlib.crc32(word.encode()) % 64


def fake_embed(texts: Sequence[str]) -> Any:
    """Bag of words hashed into 64 dimensions, unit length: same words, similarity 1.0."""
    import numpy as np

    out = np.zeros((len(texts), 64), dtype=np.float32)
    for row, text in enumerate(texts):
        for word in re.findall(r"[a-z']+", text.lower()):
            out[row, word_dimension(word)] += 1.0
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.clip(norms, 1e-9, None)
