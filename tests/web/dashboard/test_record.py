"""The safeguarding record on the case page: who sees it, what it refuses, the printable copy."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from sqlmodel import Session, select

from bot.models import AuditEntry
from bot.models.record import RecordEntry
from tests.web.dashboard.support import RISK, case_of, comment


def _risk_case(app: Flask) -> int:
    return case_of(app, comment(app, app.test_client(), RISK)).id  # type: ignore[return-value]


def _audit(app: Flask, action: str) -> list[AuditEntry]:
    with Session(app.extensions["haven"].engine) as db:
        return list(db.exec(select(AuditEntry).where(AuditEntry.action == action)).all())


def _entries(app: Flask) -> list[RecordEntry]:
    with Session(app.extensions["haven"].engine) as db:
        return list(db.exec(select(RecordEntry)).all())


ACTION = {"kind": "action", "basis": "fact", "text": "Rang her back; she is with her sister",
          "by_whom": "lead", "told_whom": "", "happened_at": "2026-03-11T11:20"}  # fmt: skip


def test_the_case_page_opens_with_the_record_and_the_concern_in_her_own_words(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    case_id = _risk_case(app)
    page = as_role("safeguarding_lead").get(f"/cases/{case_id}").get_data(as_text=True)
    record, concern = page.index('id="record-title"'), page.index("The concern")
    assert record < concern < page.index("<dt>About</dt>") < page.index("Chronology")
    assert str(escape(RISK)) in page[concern : page.index("Actions")]
    assert "Haven, which read it as risk of suicide" in page
    # Support and introductions stay closed until the lead opens them.
    assert "Closed on a safeguarding case" in page and "Proposed matches" not in page


def test_nobody_but_the_lead_and_deputy_reaches_the_record_and_each_refusal_is_audited(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    case_id = _risk_case(app)
    for role in ("moderator", "admin"):
        client = as_role(role)
        assert "Safeguarding record" not in client.get(f"/cases/{case_id}").get_data(as_text=True)
        assert client.post(f"/cases/{case_id}/record/entries", data=ACTION).status_code == 403
        assert client.get(f"/cases/{case_id}/record/print?for=police").status_code == 403
        assert client.post(f"/cases/{case_id}/record/support").status_code == 403
    assert _entries(app) == []
    assert [a.actor for a in _audit(app, "record.refused")] == ["user:2"] * 3 + ["user:1"] * 3
    assert _audit(app, "record.exported") == []


def test_bad_entries_are_refused_with_the_reason_and_leave_nothing_behind(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    case_id = _risk_case(app)
    lead = as_role("safeguarding_lead")
    bad = [
        ({**ACTION, "basis": ""}, 400, "fact or an opinion"),
        ({**ACTION, "happened_at": "yesterday"}, 400, "day, month, year and hour"),
        ({**ACTION, "kind": "decision", "decision": "refer"}, 400, "reason for the decision"),
    ]
    for form, status, why in bad:
        response = lead.post(f"/cases/{case_id}/record/entries", data=form)
        assert response.status_code == status and why in response.get_data(as_text=True)
    signing = lead.post(f"/cases/{case_id}/record/sign-off", data={"complete": "yes"})
    assert signing.status_code == 409
    assert "needs a decision on referring on, with its reason; the outcome" in (
        signing.get_data(as_text=True)
    )
    assert _entries(app) == [] and _audit(app, "record.signed_off") == []
    assert lead.post(f"/cases/{case_id}/record/entries", data=ACTION).status_code == 302
    (entry,) = _entries(app)
    assert (entry.kind, entry.basis, entry.text) == ("action", "fact", ACTION["text"])


def test_the_deputy_keeps_the_record_but_only_the_lead_signs_it_off(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    case_id = _risk_case(app)
    deputy = as_role("safeguarding_deputy")
    assert deputy.post(f"/cases/{case_id}/record/entries", data=ACTION).status_code == 302
    page = deputy.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "Only the safeguarding lead signs off the record." in page
    refused = deputy.post(f"/cases/{case_id}/record/sign-off", data={"complete": "yes"})
    assert refused.status_code == 400
    assert "Only the safeguarding lead signs off" in refused.get_data(as_text=True)


def test_a_printable_copy_says_who_it_is_for_and_is_audited(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    case_id = _risk_case(app)
    lead = as_role("safeguarding_lead")
    lead.post(f"/cases/{case_id}/record/entries", data=ACTION)
    assert lead.get(f"/cases/{case_id}/record/print").status_code == 400
    assert _audit(app, "record.exported") == []
    copy = lead.get(f"/cases/{case_id}/record/print?for=social_care").get_data(as_text=True)
    assert "Prepared for</dt><dd>children&#39;s or adults&#39; social care" in copy
    assert str(escape(RISK)) in copy and ACTION["text"] in copy and 'href="/queue"' not in copy
    (exported,) = _audit(app, "record.exported")
    assert exported.detail == {"for": "social_care"} and exported.subject_id == str(case_id)
    page = lead.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "by safeguarding_lead for children&#39;s or adults&#39; social care" in page


def test_support_and_introductions_open_only_when_the_lead_opens_them(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    case_id = _risk_case(app)
    lead = as_role("safeguarding_lead")
    topics = {"topics": ["parenting"]}
    assert lead.post(f"/cases/{case_id}/topics", data=topics).status_code == 403
    assert lead.post(f"/cases/{case_id}/record/support").status_code == 302
    assert "Closed on a safeguarding case" not in lead.get(f"/cases/{case_id}").get_data(
        as_text=True
    )
    assert lead.post(f"/cases/{case_id}/topics", data=topics).status_code == 302
    assert len(_audit(app, "record.support_opened")) == 1
