"""Every action the code writes to the audit log reads as a sentence on the audit page."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.audit.sentences import ACTION_KINDS, is_described, sentence
from bot.models.consent import CONSENT_RECORD_STATES
from bot.models.directory import INTRODUCTION_STATUSES
from rules import CATEGORIES

ROOT = Path(__file__).resolve().parents[2]
ACTION = re.compile(r"^[a-z_]+(?:\.[a-z_]+)+$")
# Each f-string action family and every value its last part takes in the code.
FAMILIES = {
    "action.requested.": tuple(ACTION_KINDS),
    "action.": ("done", "failed", "answer_in_inbox"),
    "consent.": CONSENT_RECORD_STATES,
    "introduction.": INTRODUCTION_STATUSES,
    # workers/processing.py `_finish`; workers/versions.py `item.{verb}`.
    "item.": ("processed", "skipped", "superseded", "add", "edited", "hide", "unhide", "remove"),
}
# Strings a module with a variable action also holds that are not actions (endpoints, jobs).
NOT_ACTIONS = {
    "directory.listing",
    "holds.holds",
    "workers.alerts.deliver_alert",
    "workers.alerts.dispatch_alerts",
}


def _recorded_actions() -> tuple[set[str], set[str]]:
    """Actions passed to `record(session, actor, ACTION, ...)` anywhere, and f-string prefixes.

    A variable action counts every action-like string in its module: the values it is
    assigned ("case.viewed" if ... else "case.view_refused") are written there.
    """
    actions: set[str] = set()
    prefixes: set[str] = set()
    for top in ("bot", "workers", "webhooks"):
        for path in (ROOT / top).rglob("*.py"):
            tree = ast.parse(path.read_text())
            module_strings = {
                n.value
                for n in ast.walk(tree)
                if isinstance(n, ast.Constant)
                and isinstance(n.value, str)
                and ACTION.match(n.value)
            }
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call) or len(node.args) < 3:
                    continue
                func = node.func
                name = getattr(func, "id", None) or getattr(func, "attr", None)
                if name not in ("record", "_record", "_note"):
                    continue
                arg = node.args[2]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    actions.add(arg.value)
                elif isinstance(arg, ast.JoinedStr):
                    first = arg.values[0]
                    prefixes.add(first.value if isinstance(first, ast.Constant) else "")
                else:
                    actions |= {s for s in module_strings if s not in CATEGORIES}
    return {a for a in actions if ACTION.match(a)}, prefixes


def test_the_scan_finds_the_log_s_actions() -> None:
    actions, prefixes = _recorded_actions()
    assert {"case.viewed", "case.view_refused", "follow_up.scheduled", "user.login"} <= actions
    assert {"retention.purged", "escalation.paged", "hiding.done"} <= actions
    assert set(FAMILIES) == prefixes, "a new f-string action family: list its values here"


def test_every_recorded_action_has_words() -> None:
    actions, _ = _recorded_actions()
    missing = sorted(a for a in actions - NOT_ACTIONS if not is_described(a))
    assert not missing, f"add these to bot/audit/sentences.py SENTENCES: {missing}"


@pytest.mark.parametrize(
    "action", [prefix + value for prefix, values in FAMILIES.items() for value in values]
)
def test_every_value_of_an_action_family_has_words(action: str) -> None:
    assert is_described(action), action
    assert "." not in sentence(action).split(" ")[0]


def test_sentences_carry_the_useful_fact_and_never_the_key() -> None:
    def day(at: datetime) -> str:
        return at.strftime("%a %-d %b")

    planned = sentence("follow_up.scheduled", {"due_at": "2026-12-09T10:00:00+00:00"}, day)
    assert planned == "planned a follow-up for Wed 9 Dec"
    looked = sentence("case.view_refused", {"event_id": 7, "via": "queue"})
    assert looked == "tried to open a safeguarding case and was refused (on the queue)"
    found = sentence("item.processed", {"categories": ["pii.phone", "risk.suicide"]})
    assert found == "checked a message: possible suicide risk; gives a phone number"
    assert sentence("action.requested.hide") == "asked Haven to hide a comment"
    assert "no words" in sentence("made.up_action")
    assert day(datetime(2026, 12, 9, tzinfo=UTC)) == "Wed 9 Dec"
