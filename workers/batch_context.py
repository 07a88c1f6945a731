"""What judging an item reads that is the same for a whole batch: read once, before its loop.

A batch of 32 items used to ask the database the same kinds of question 32 times (the versions
of each object, each person's open case, each sender's private conversation) and resolve the
page's voice three to five times per item. `prepare` asks each once for the batch, under the
versions' locks; `handle_item` then finds the answers here. What the batch itself changes is
kept up to date as it goes (a case opened by one message is the next message's case), so
each item still sees what the items before it wrote, as one by one would.

One item alone (a job, a retry, a test) gets a context of its own: the versions are read
under the same lock, and a case or conversation not read ahead is asked for when needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlmodel import Session

from bot.cases.consent import cases_for_senders
from bot.cases.keys import open_key
from bot.config import HavenConfig
from bot.config.voices import Voice, voice_for
from bot.models import Case, Item
from workers.cases import open_cases
from workers.consent import inbound_message
from workers.versions import ObjectKey, Version, lock_versions, object_of


@dataclass
class BatchContext:
    config: HavenConfig  # the organisation's; each item speaks in its page's voice
    versions: dict[ObjectKey, list[Version]]  # every stored version of each item's object
    open_cases: dict[str, Case | None] = field(default_factory=dict)  # by open key
    conversations: dict[tuple[str, str], Case | None] = field(default_factory=dict)  # by sender
    _voices: dict[str | None, Voice] = field(default_factory=dict)

    def voice(self, account_id: str | None) -> Voice:
        """The page's voice, resolved once per page for the batch."""
        if account_id not in self._voices:
            self._voices[account_id] = voice_for(self.config, account_id)
        return self._voices[account_id]

    def versions_of(self, item: Item) -> list[Version]:
        return self.versions[object_of(item)]


def prepare(
    session: Session, items: Sequence[Item], config: HavenConfig, *, read_ahead: bool = True
) -> BatchContext:
    """Lock every version of the items' objects and read what judging them will ask for.

    `read_ahead=False` (one item alone) reads only the versions: its case is looked up only
    if its findings call for one, as before batching.
    """
    context = BatchContext(config, lock_versions(session, items))
    if read_ahead:
        context.open_cases = open_cases(session, {open_key(item) for item in items})
        senders = {(i.account_id, i.author_id) for i in items if inbound_message(i) and i.author_id}
        found = cases_for_senders(session, senders)
        context.conversations = {sender: found.get(sender) for sender in senders}
    return context
