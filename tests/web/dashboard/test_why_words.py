"""Which words weighed most, weighed when staff ask from "why?" (issue 20), on SQLite and
PostgreSQL: the worker stores a learned finding without them, the lead weighs them on a
safeguarding case, a moderator may not, and asking twice changes nothing."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from bot.config import Settings
from bot.models import AuditEntry, Finding, Item
from bot.semantic import availability
from rules.semantic import SemanticConfig
from tests.helpers import make_settings
from tests.web.dashboard.support import HELP, RISK, case_of, comment

STAGE = availability(SemanticConfig())
pytestmark = pytest.mark.skipif(not STAGE.on, reason=f"the learned stage: {STAGE.reason}")
BUTTON = "Which words weighed most?"
# No word list catches this; the learned stage does, and a few of its words weigh most.
GIVING_AWAY = "Been giving my stuff away, won't need it where I'm going"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    if request.param == "sqlite":
        return make_settings(tmp_path)  # the default: no words weighed while judging
    url = request.getfixturevalue("migrated_postgres_url")
    return make_settings(tmp_path, DATABASE_URL=url)


@pytest.fixture(autouse=True)
def _dispose(app: Flask) -> Iterator[None]:
    yield
    app.extensions["haven"].engine.dispose()


def _learned(app: Flask, item: Item) -> Finding:
    """The item's first finding the learned stage explained."""
    return _all_learned(app, item)[0]


def _all_learned(app: Flask, item: Item) -> list[Finding]:
    """The item's findings the learned stage explained (its own, or rules' it confirmed)."""
    with Session(app.extensions["haven"].engine) as db:
        rows = db.exec(select(Finding).where(Finding.item_id == item.id)).all()
    explained = [f for f in rows if f.explanation is not None]
    assert explained, [f.rule for f in rows]
    return explained


def _explanation(app: Flask, finding_id: int) -> dict[str, Any]:
    with Session(app.extensions["haven"].engine) as db:
        return db.get(Finding, finding_id).explanation  # type: ignore[union-attr, return-value]


def _audit(app: Flask, action: str) -> list[AuditEntry]:
    with Session(app.extensions["haven"].engine) as db:
        return list(db.exec(select(AuditEntry).where(AuditEntry.action == action)).all())


def test_the_lead_weighs_a_safeguarding_findings_words_once_and_they_stay(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    risky = comment(app, app.test_client(), GIVING_AWAY)
    case = case_of(app, risky)
    assert case.case_type == "safeguarding"
    finding = _learned(app, risky)
    stored = finding.explanation or {}
    # The worker judged it in full, but left the words to whoever asks.
    assert stored["words"] == [] and stored["nearest"] and stored["score"] >= stored["threshold"]
    assert "weighed most" not in stored["reason"]

    lead = as_role("safeguarding_lead")
    page = f"/cases/{case.id}"
    before = lead.get(page).get_data(as_text=True)
    assert BUTTON in before and f'action="/findings/{finding.id}/words"' in before
    back = f"{page}#item-{risky.id}"
    answer = lead.post(f"/findings/{finding.id}/words", data={"back": back})
    assert answer.status_code == 302 and answer.headers["Location"] == back

    weighed = _explanation(app, finding.id)  # type: ignore[arg-type]
    words = weighed["words"]
    assert words and all(word in GIVING_AWAY.lower() for word in words)
    assert weighed["words_weighed"] is True
    # The rest of the judgement is as the worker stored it; the sentence now names the words.
    assert {k: v for k, v in weighed.items() if k not in ("words", "reason", "words_weighed")} == {
        k: v for k, v in stored.items() if k not in ("words", "reason")
    }
    assert weighed["reason"].startswith("the words “" + words[0] + "”")
    after = lead.get(page).get_data(as_text=True)
    assert BUTTON not in after and "weighed most" in after
    assert html.escape(f"“{words[0]}”", quote=False) in after
    # Weighing shows the case's content: a look, on the record (once within the look).
    again = lead.post(f"/findings/{finding.id}/words", data={"back": back})
    assert again.status_code == 302 and again.headers["Location"] == back
    assert _explanation(app, finding.id) == weighed  # type: ignore[arg-type]
    looks = [e for e in _audit(app, "case.viewed") if e.detail.get("via") == "“why?” words"]
    assert [e.subject_id for e in looks] == [str(case.id)]


def test_where_no_word_stands_out_the_page_says_so_and_offers_nothing_more(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    # So plainly a risk that leaving out any one word changes nothing.
    risky = comment(app, app.test_client(), RISK)
    lead = as_role("safeguarding_lead")
    for finding in _all_learned(app, risky):  # two rules match it, and the heads agree
        assert lead.post(f"/findings/{finding.id}/words", data={"back": "/"}).status_code == 302
        weighed = _explanation(app, finding.id)  # type: ignore[arg-type]
        assert weighed["words"] == [] and weighed["words_weighed"] is True
    page = lead.get(f"/cases/{case_of(app, risky).id}").get_data(as_text=True)
    assert "No single word weighed much more than the rest" in page and BUTTON not in page


def test_a_moderator_may_not_weigh_behind_the_wall_and_the_attempt_is_recorded(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    risky = comment(app, app.test_client(), RISK)
    finding = _learned(app, risky)
    moderator = as_role("moderator")
    assert BUTTON not in moderator.get(f"/cases/{case_of(app, risky).id}").get_data(as_text=True)
    refused = moderator.post(f"/findings/{finding.id}/words", data={"back": "/"})
    assert refused.status_code == 403
    assert "not open to your account" in refused.get_data(as_text=True)
    assert _explanation(app, finding.id)["words"] == []  # type: ignore[arg-type]
    refusals = [
        e for e in _audit(app, "case.view_refused") if e.detail.get("via") == "“why?” words"
    ]
    assert [e.subject_id for e in refusals] == [str(case_of(app, risky).id)]


def test_a_moderator_weighs_what_they_may_see_from_the_queue(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    helped = comment(app, app.test_client(), HELP)
    finding = _learned(app, helped)
    moderator = as_role("moderator")
    queue = moderator.get("/").get_data(as_text=True)
    assert f'action="/findings/{finding.id}/words"' in queue
    # The form comes back to the item it was pressed on.
    assert f'name="back" value="/#item-{helped.id}"' in queue
    answer = moderator.post(f"/findings/{finding.id}/words", data={"back": f"/#item-{helped.id}"})
    assert answer.headers["Location"] == f"/#item-{helped.id}"
    assert _explanation(app, finding.id)["words_weighed"] is True  # type: ignore[arg-type]
    assert "are under “why?”" in moderator.get("/").get_data(as_text=True)


def test_no_such_finding_is_404_and_a_rules_finding_is_refused_in_words(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    helped = comment(app, app.test_client(), HELP)
    lead = as_role("safeguarding_lead")
    assert lead.post("/findings/987654/words", data={"back": "/"}).status_code == 404
    with Session(app.extensions["haven"].engine) as db:
        rule = Finding(item_id=helped.id, rule="pii-phone-uk", category="pii.phone", severity="low")  # type: ignore[arg-type]
        db.add(rule)
        db.commit()
        db.refresh(rule)
    answer = lead.post(f"/findings/{rule.id}/words", data={"back": "/"})
    assert answer.status_code == 302
    assert "findings have words to weigh" in lead.get("/").get_data(as_text=True)
    assert _explanation(app, rule.id) is None  # type: ignore[arg-type]


def test_weighing_needs_the_forms_csrf_token(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    helped = comment(app, app.test_client(), HELP)
    finding = _learned(app, helped)
    lead = as_role("safeguarding_lead")
    app.config["WTF_CSRF_ENABLED"] = True
    assert lead.post(f"/findings/{finding.id}/words", data={"back": "/"}).status_code == 400
    assert _explanation(app, finding.id)["words"] == []  # type: ignore[arg-type]
    queue = lead.get("/").get_data(as_text=True)
    token = queue.split('name="csrf_token" value="')[1].split('"')[0]
    answer = lead.post(f"/findings/{finding.id}/words", data={"back": "/", "csrf_token": token})
    assert answer.status_code == 302
    assert _explanation(app, finding.id)["words_weighed"] is True  # type: ignore[arg-type]


def test_a_removed_messages_words_leave_why_and_cannot_be_weighed_again(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    from bot.db import session_scope
    from bot.privacy.core_data import erase_items

    risky = comment(app, app.test_client(), GIVING_AWAY)
    finding = _learned(app, risky)
    lead = as_role("safeguarding_lead")
    assert lead.post(f"/findings/{finding.id}/words", data={"back": "/"}).status_code == 302
    words = _explanation(app, finding.id)["words"]  # type: ignore[arg-type]
    assert words
    # The person asks for their data to be erased: their words go from "why?" with the text.
    with session_scope(app.extensions["haven"].engine) as db:
        assert erase_items(db, risky.platform, risky.author_id, held=set()) == 1  # type: ignore[arg-type]
    forgotten = _explanation(app, finding.id)  # type: ignore[arg-type]
    assert forgotten["words"] == [] and forgotten["words_gone"] is True
    assert not any(word in forgotten["reason"] for word in words)
    assert forgotten["nearest"] and forgotten["score"] >= forgotten["threshold"]
    page = lead.get(f"/cases/{case_of(app, risky).id}").get_data(as_text=True)
    assert BUTTON not in page and "No single word weighed" not in page
    again = lead.post(f"/findings/{finding.id}/words", data={"back": "/"}, follow_redirects=True)
    assert "no words to weigh" in again.get_data(as_text=True)
    assert _explanation(app, finding.id) == forgotten  # type: ignore[arg-type]
