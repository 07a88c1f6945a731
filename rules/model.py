"""Value types that cross the rules boundary: messages in, findings out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Channels where the public can read what is written; everything else is a private conversation.
PUBLIC_CHANNELS = frozenset({"fb_comment", "fb_post", "ig_comment", "ig_mention"})
PRIVATE_CHANNELS = frozenset({"fb_dm", "ig_dm"})
CHANNELS = PUBLIC_CHANNELS | PRIVATE_CHANNELS

SEVERITIES = ("low", "medium", "high", "critical")
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}
PRIORITIES = ("low", "normal", "high", "urgent")

# DESIGN.md "Detection taxonomy"; spam and complaint have no subcategory.
TAXONOMY: dict[str, tuple[str, ...]] = {
    "help_request": ("emotional_support", "peer_connection", "resources", "professional_help"),
    "risk": (
        "suicide",
        "self_harm",
        "abuse",
        "child_at_risk",
        "domestic_violence",
        "harm_to_others",
    ),
    "pii": (
        "phone",
        "email",
        "postcode",
        "address",
        "school",
        "council",
        "person_name",
        "child_name",
        "location",
        "meeting_link",
        "id_number",
    ),
    # screenshot: a chat or video call (policy 003); document: a letter, report or form.
    "photo": ("family", "child", "screenshot", "document"),
    "out_of_remit": ("legal", "medical"),
    "abusive": ("offensive", "hate", "harassment"),
    "unsafe_practice": ("unproven_treatment", "illegal_substance"),
    "spam": (),
    "complaint": (),
}
CATEGORIES: frozenset[str] = frozenset(
    [f"{top}.{sub}" for top, subs in TAXONOMY.items() for sub in subs]
    + [top for top, subs in TAXONOMY.items() if not subs]
)
# Safeguarding categories: always a case and an escalation, whatever the config says.
SAFEGUARDING_TOPS = frozenset({"risk"})


def channel_kind(channel: str) -> str:
    """Return "public" or "private" for a channel name (or a kind passed through)."""
    if channel in ("public", "private"):
        return channel
    return "private" if channel in PRIVATE_CHANNELS else "public"


def top_of(category: str) -> str:
    return category.split(".", 1)[0]


@dataclass(frozen=True)
class Attachment:
    type: str  # "image", "video", "file", "share", "sticker", "story_mention", ...
    url: str | None = None


@dataclass(frozen=True)
class Message:
    text: str
    channel: str = "fb_comment"  # fb_comment, fb_post, fb_dm, ig_comment, ig_mention, ig_dm
    platform: str = "facebook"  # facebook | instagram
    attachments: tuple[Attachment, ...] = ()
    from_page: bool = False  # written by the page itself (its own posts/replies)
    author_id: str | None = None
    # The page this was written to does not let staff post about supported families at all
    # (policy 002, a page voice's `family_posts: false`): the page-post checks may be stricter.
    no_family_posts: bool = False


@dataclass(frozen=True)
class CaseSpec:
    type: str  # "support", "safeguarding", "privacy", "moderation", "complaint", "boundary"
    priority: str  # "low" | "normal" | "high" | "urgent"


@dataclass(frozen=True)
class Actions:
    hide: bool = False
    draft_public_reply: str | None = None  # template name
    draft_private_reply: str | None = None  # template name
    open_case: CaseSpec | None = None
    alert: tuple[str, ...] = ()  # roles: "admin", "moderator", "safeguarding_lead", ...
    escalate: bool = False


@dataclass(frozen=True)
class Explanation:
    """Why the learned stage judged a message as it did, for the moderator who reads it."""

    method: str  # "classifier" (the trained heads)
    score: float  # the heads' probability, 0..1
    threshold: float
    mode: str  # "raise" (may flag on its own) | "strengthen" (only alongside a rule finding)
    nearest: tuple[tuple[str, float], ...] = ()  # (corpus example, cosine similarity)
    words: tuple[str, ...] = ()  # the message's words that weighed most, in order
    rule: str | None = None  # the rule that matched too, if one did

    def as_json(self) -> dict[str, object]:
        return {
            "method": self.method,
            "score": self.score,
            "threshold": self.threshold,
            "mode": self.mode,
            "nearest": [{"text": t, "similarity": s} for t, s in self.nearest],
            "words": list(self.words),
            "rule": self.rule,
            "reason": self.reason(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Explanation:
        """An explanation as `as_json` stored it (a stored finding's reason is rebuilt from it)."""
        return cls(
            method=str(data.get("method", "classifier")),
            score=float(data.get("score") or 0.0),
            threshold=float(data.get("threshold") or 0.0),
            mode=str(data.get("mode", "raise")),
            nearest=tuple(
                (str(n.get("text", "")), float(n.get("similarity", 0.0)))
                for n in data.get("nearest") or ()
                if isinstance(n, Mapping)
            ),
            words=tuple(str(w) for w in data.get("words") or ()),
            rule=str(data["rule"]) if data.get("rule") else None,
        )

    def reason(self) -> str:
        """One sentence a volunteer can read."""
        parts = []
        if self.words:
            parts.append("the words " + ", ".join(f"“{w}”" for w in self.words) + " weighed most")
        if self.nearest:
            parts.append(f"it reads like “{self.nearest[0][0]}”")
        if self.rule:
            parts.append("a rule matched too")
        return ("; ".join(parts) or "the trained check") + f" (confidence {self.score:.0%})"


@dataclass(frozen=True)
class Finding:
    category: str  # "top.sub" from the taxonomy, or "spam" / "complaint"
    rule: str  # rule id, unique across all packs
    severity: str  # "low" | "medium" | "high" | "critical"
    score: float  # 0..1
    span: tuple[int, int] | None  # offsets into the ORIGINAL Message.text
    actions: Actions
    # Every matched span of this rule (the first is `span`); one finding per rule keeps
    # (message, rule) idempotency keys simple while the dashboard can still highlight all.
    spans: tuple[tuple[int, int], ...] = field(default=())
    explanation: Explanation | None = None  # set by the semantic stage (rules/semantic/)
    # Set by the picture check (rules/vision/): where in the image (x, y, width, height in the
    # original's pixels) the finding is, and why, in a volunteer's words.
    regions: tuple[tuple[int, int, int, int], ...] = field(default=())
    reason: str | None = None


@dataclass(frozen=True)
class CategoryDefaults:
    """What a finding of a category does when no rule of its own says otherwise: the packs'
    category defaults with config.yaml's `rules.actions` over them (the picture check's
    findings have no YAML rule behind them)."""

    severity: str
    priority: int
    actions: Actions
    private_actions: Actions


def categories_of(findings: Iterable[Finding]) -> list[str]:
    """Return the sorted unique categories of some findings."""
    return sorted({f.category for f in findings})
