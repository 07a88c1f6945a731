"""Reading rule YAML and turning validation errors into messages that name file, rule, key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

PACK_DIR = Path(__file__).resolve().parent / "packs"


class RuleError(ValueError):
    """A rule file or the rules config is invalid; the message names file, rule and key."""


def label_of(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(PACK_DIR.parent.parent))
    except ValueError:
        return str(path)


def describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden":
            where = ".".join(str(p) for p in err["loc"][:-1])
            parts.append(f"{where + ': ' if where else ''}unknown key '{err['loc'][-1]}'")
        else:
            msg = err["msg"].removeprefix("Value error, ")
            parts.append(f"{loc + ': ' if loc else ''}{msg}")
    return "; ".join(parts)


# libyaml's loader when PyYAML was built with it: the same safe types, parsed about ten times
# faster than the pure-Python loader (every app start reads config.yaml and the rule packs).
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """YAML text to data, with the safe loader (no Python objects from the file)."""
    return yaml.load(text, Loader=_SAFE_LOADER)  # noqa: S506 - a safe loader


def read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as fh:
            return load_yaml(fh.read())
    except OSError as exc:
        raise RuleError(f"{label_of(path)}: cannot read: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise RuleError(f"{label_of(path)}: invalid YAML: {exc}") from exc
