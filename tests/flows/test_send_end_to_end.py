"""Webhook in, draft, a person approves, and a local stand-in for Meta receives exactly the
expected calls: on the embedded default and on PostgreSQL + Redis + real rq worker processes,
including a worker killed with SIGKILL in the middle of a send."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.db import session_scope
from bot.models import OutboundAction, ReplyDraft, utcnow
from tests.helpers import write_config
from tests.support.meta_standin import MetaStandIn
from tests.support.stack import MODES, HavenStack, production_services, running_stack
from workers.timers import sweep_actions

HELP = "Does anyone else feel like they're failing? I really need someone to talk to."
REPLY = "Thank you for reaching out. We've sent you a private message."


@pytest.fixture(params=MODES)
def stack(
    request: pytest.FixtureRequest, tmp_path: Path, meta: MetaStandIn
) -> Iterator[HavenStack]:
    config = write_config(tmp_path, dry_run=False)
    services = production_services(request)
    with running_stack(
        request.param, tmp_path, config, services=services, META_GRAPH_URL=meta.url
    ) as running:
        yield running


def _approve_public_reply(stack: HavenStack) -> tuple[int, str]:
    """A help request comes in; an admin approves its public reply. Its id and comment's."""
    item = stack.comment(HELP, author="6000000000000042")
    draft = stack.wait_for(
        lambda s: s.exec(
            select(ReplyDraft).where(ReplyDraft.item_id == item.id, ReplyDraft.kind == "public")
        ).first()
    )
    stack.approve(stack.staff("admin", "admin"), draft, REPLY, wait=False)
    return draft.id, item.external_id


def test_an_approved_reply_reaches_meta_exactly_once(stack: HavenStack, meta: MetaStandIn) -> None:
    draft_id, comment = _approve_public_reply(stack)
    sent = (ReplyDraft.id == draft_id, ReplyDraft.status == "sent")
    stack.wait_for(lambda s: s.exec(select(ReplyDraft).where(*sent)).first())
    posts = meta.posts()
    assert [(p.path, p.body) for p in posts] == [(f"/v24.0/{comment}/comments", {"message": REPLY})]
    assert posts[0].query["appsecret_proof"] and posts[0].query["access_token"]


@pytest.mark.parametrize("stack", ["production"], indirect=True)
@pytest.mark.stack
def test_a_worker_killed_mid_send_does_not_post_twice(stack: HavenStack, meta: MetaStandIn) -> None:
    meta.delay_seconds = 30  # Meta has the reply and is slow to answer: the worker waits
    _, comment = _approve_public_reply(stack)
    deadline = time.monotonic() + 30
    while not meta.posts() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(meta.posts()) == 1
    stack.workers[0].send_signal(signal.SIGKILL)
    stack.workers[0].wait(timeout=10)
    with session_scope(stack.engine) as session:
        action = session.exec(select(OutboundAction)).one()
        assert action.status == "sending"  # the record written before the call
        # Stand in for the two minutes after which a 'sending' row is known to be orphaned.
        action.started_at = utcnow() - timedelta(minutes=5)
        session.add(action)
    meta.delay_seconds = 0
    stack.start_worker()
    assert sweep_actions(stack.engine, stack.enqueuer) == 1
    done = stack.wait_for(
        lambda s: s.exec(select(OutboundAction).where(OutboundAction.status == "done")).first()
    )
    assert len(meta.posts()) == 1  # found under the comment, so not posted again
    assert done.external_id == meta.replies[comment][0]["id"]
