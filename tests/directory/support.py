"""Helpers for the directory tests: directory entries, cases with findings, consent."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.config import Settings
from bot.crypto import install_from_settings
from bot.db import session_scope
from bot.models import Case, Finding, InboundEvent, Item
from bot.models.directory import SupportResource
from tests.helpers import make_settings

_counter = iter(range(1, 1_000_000))


def storage_settings(tmp_path: Path, **env: str) -> Settings:
    """Test settings, with this process holding their data key (message texts are encrypted
    at rest), for tests that use the storage functions without an app."""
    settings = make_settings(tmp_path, **env)
    install_from_settings(settings)
    return settings


def add_resource(engine: Engine, **fields: Any) -> int:
    values: dict[str, Any] = {
        "kind": "peer_supporter",
        "name": f"Example supporter {next(_counter)}",
        "topics": ["kinship_care"],
        "capacity": 2,
        "contact_route": "email via the coordinator",
        "availability": "weekday evenings",
        **fields,
    }
    with session_scope(engine) as db:
        resource = SupportResource(**values)
        db.add(resource)
        db.flush()
        return resource.id  # type: ignore[return-value]


def add_case(
    engine: Engine,
    *,
    categories: tuple[str, ...] = ("help_request.peer_connection",),
    case_type: str = "support",
    consent: str = "given",
    author_id: str = "6000000000000042",
    author_name: str = "Sam Ellis",
) -> int:
    """A case with one item carrying findings of these categories (as the worker leaves it)."""
    n = next(_counter)
    now = datetime.now(UTC)
    with session_scope(engine) as db:
        event = InboundEvent(body_sha256=f"{n:064d}", body="{}")
        db.add(event)
        case = Case(
            case_type=case_type,
            platform="facebook",
            account_id="111",
            author_id=author_id,
            open_key=f"k{n}",
            consent=consent,
        )
        db.add(case)
        db.flush()
        item = Item(
            event_id=event.id,
            delivery_key=f"d{n}",
            platform="facebook",  # type: ignore[arg-type]
            channel="fb_comment",
            verb="add",
            account_id="111",
            external_id=f"x{n}",
            author_id=author_id,
            author_name=author_name,
            text="help please",
            created_at=now,
            case_id=case.id,
        )
        db.add(item)
        db.flush()
        for rule_number, category in enumerate(categories):
            db.add(
                Finding(
                    item_id=item.id,
                    rule=f"r{rule_number}",
                    category=category,  # type: ignore[arg-type]
                    severity="low",
                )
            )
        return case.id  # type: ignore[return-value]


def set_consent(engine: Engine, case_id: int, consent: str) -> None:
    with session_scope(engine) as db:
        case = db.get(Case, case_id)
        assert case is not None
        case.consent = consent
        db.add(case)


def load(engine: Engine, model: type, row_id: int) -> Any:
    with Session(engine) as db:
        return db.get(model, row_id)
