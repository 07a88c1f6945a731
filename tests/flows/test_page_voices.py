"""One Haven, two pages (issue 18): each signs, refers and pages its own way.

Through the signed webhook, the queue and the worker, on the embedded default (SQLite, the
in-process queue) and in production (PostgreSQL, Redis, a real `haven worker`): a help request
on each page is drafted with that page's name and referral line, and a risk on each page goes
to that page's lead.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.models import Case, Item, User, utcnow
from bot.models.alerts import Alert
from tests.helpers import PAGE_ID, TEST_ACCOUNTS, page_comment, write_config
from tests.support.stack import MODES, HavenStack, production_services, running_stack

PAGE_B = "222333444555666"
TWINLINE = "You can also call Twinline, free, on 0800 138 0509."
FAMILIES_LINE = "Our family support line is 0300 123 4567, weekdays 9am to 5pm."
ASKING = "I'm a kinship carer for my grandson and would love to talk to other carers who get it"
RISK = "I can't do this anymore, everyone would be better off without me"
WRITTEN = (ASKING, RISK)


def _config(tmp_path: Path) -> Path:
    path = write_config(tmp_path)
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    page_b = {"id": PAGE_B, "name": "Families Together", "platform": "facebook",
              "token_env": "TEST_PAGE_B_TOKEN"}  # fmt: skip
    config["meta"]["accounts"] = [*TEST_ACCOUNTS, page_b]
    config["voices"] = {
        "fcs": {"accounts": [PAGE_ID], "name": "Twins Trust FCS", "referral": TWINLINE,
                "lead": "lead_a", "deputy": "deputy_a"},
        "families": {"accounts": [PAGE_B], "name": "Families Together",
                     "referral": FAMILIES_LINE, "lead": "lead_b", "deputy": "deputy_b"},
    }  # fmt: skip
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@pytest.fixture(params=MODES)
def stack(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HavenStack]:
    with running_stack(
        request.param,
        tmp_path,
        _config(tmp_path),
        services=production_services(request),
        secrets_in_log=WRITTEN,
    ) as running:
        yield running


def _comment(stack: HavenStack, page: str, number: int, text: str, author: str) -> Item:
    """A comment on `page`'s post, through the signed webhook, once the worker judged it."""
    payload: dict[str, Any] = copy.deepcopy(
        page_comment(text, comment=str(number), author=author,
                     created_time=int(utcnow().timestamp()))
    )  # fmt: skip
    entry = payload["entry"][0]
    entry["id"] = page
    value = entry["changes"][0]["value"]
    value["post_id"] = value["parent_id"] = f"{page}_900000000000001"
    stack.post(payload)
    return stack.judged(value["comment_id"])


def test_each_page_drafts_with_its_own_name_and_referral_line(stack: HavenStack) -> None:
    on_a = _comment(stack, PAGE_ID, 501, ASKING, "6000000000000501")
    on_b = _comment(stack, PAGE_B, 502, ASKING, "6000000000000502")
    private_a, private_b = stack.drafts(on_a)["private"], stack.drafts(on_b)["private"]
    assert private_a.template == private_b.template == "help_request"
    assert "Twins Trust FCS" in private_a.text and TWINLINE in private_a.text
    assert "Families Together" in private_b.text and FAMILIES_LINE in private_b.text
    assert "Families Together" not in private_a.text and "Twinline" not in private_b.text
    # A public acknowledgement refers nobody anywhere: that is for the private reply.
    assert "0800 138 0509" not in stack.drafts(on_a)["public"].text


def test_a_risk_on_each_page_goes_to_that_pages_lead(stack: HavenStack) -> None:
    for name, role in (
        ("lead_a", "safeguarding_lead"),
        ("lead_b", "safeguarding_lead"),
        ("deputy_a", "safeguarding_deputy"),
        ("deputy_b", "safeguarding_deputy"),
    ):
        stack.staff(name, role)  # fmt: skip
    on_a = _comment(stack, PAGE_ID, 601, RISK, "6000000000000601")
    on_b = _comment(stack, PAGE_B, 602, RISK, "6000000000000602")
    for item, lead in ((on_a, "lead_a"), (on_b, "lead_b")):
        [case] = stack.rows(Case, Case.id == item.case_id)
        [holder] = stack.rows(User, User.id == case.assignee_id)
        assert (case.case_type, holder.username) == ("safeguarding", lead)
        [page] = stack.rows(Alert, Alert.case_id == case.id, Alert.kind == "escalation")
        # Routing (bot/notify/delivery.py) reaches the person the page's rota names.
        assert page.facts["on_duty"]["safeguarding_lead"] == lead
