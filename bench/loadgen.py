"""Open-loop HTTP load for the webhook endpoint: unique signed Meta deliveries at a fixed rate.

Stdlib only (http.client, threads), so it runs anywhere the bench does. Open loop means the
send times are fixed by the wall clock before the step starts: request k is due at
t0 + k / rate whatever the server does. Latency is measured from that due time, not from
the moment a thread got round to sending, so a slow server cannot quietly lower the offered
load or hide its queueing (coordinated omission). How late the sends started is reported
too (`lag`), which tells a saturated server from a load generator that could not keep up.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import math
import random
import threading
import time
from dataclasses import dataclass, field

# Texts a charity page really gets: thanks, questions, help requests, details that should not
# be public, and the odd risk phrase, so the worker exercises its rules as in real life.
TEXTS = (
    "Thank you so much for the coffee morning, the kids loved it",
    "Is the Tuesday group still on this week?",
    "Does anyone else find the evenings hardest? Some days I can't cope",
    "Can someone message me about the carers support group please",
    "We're new to the area, what support is there for single dads?",
    "Call me on 07700 900123 if you have spare school uniform",
    "Lovely photos from the picnic!",
    "My son's social worker hasn't called back in three weeks, what do I do",
    "I feel like giving up, nobody listens",
    "Where do I find the food bank vouchers?",
    "Is there a solicitor who can help with a custody hearing?",
    "Brilliant work everyone, so proud to volunteer here",
    "Our email is jo.visitor@example.org for the raffle tickets",
    "Any advice on getting an EHCP assessment started?",
    "Free followers!!! click here www.example.com/win",
    "Thinking of you all today x",
)


@dataclass(frozen=True)
class Delivery:
    """One webhook POST: exact body bytes, their signature, and the id the item is stored as."""

    body: bytes
    signature: str
    external_id: str
    kind: str  # "comment" or "dm"


def _sign(body: bytes, secret: str) -> str:
    # Same construction as webhooks.signature.sign, kept local so the client needs no Haven.
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def page_comment(page_id: str, comment_id: str, author: str, text: str, now: int) -> dict:
    """A Page feed comment, the shape of tests/helpers.py page_comment."""
    post_id = f"{page_id}_900000000000001"
    value = {
        "item": "comment",
        "verb": "add",
        "post_id": post_id,
        "comment_id": comment_id,
        "parent_id": post_id,
        "from": {"id": author, "name": "Jo Visitor"},
        "message": text,
        "created_time": now,
    }
    change = {"field": "feed", "value": value}
    return {"object": "page", "entry": [{"id": page_id, "time": now, "changes": [change]}]}


def page_dm(page_id: str, mid: str, sender: str, text: str, now_ms: int) -> dict:
    """A Messenger text message to the Page (tests/fixtures/meta/fb_dm_text_image.json)."""
    event = {
        "sender": {"id": sender},
        "recipient": {"id": page_id},
        "timestamp": now_ms,
        "message": {"mid": mid, "text": text},
    }
    return {"object": "page", "entry": [{"id": page_id, "time": now_ms, "messaging": [event]}]}


def make_deliveries(
    count: int, *, page_id: str, secret: str, tag: str, dm_share: float = 0.2, seed: int = 3
) -> list[Delivery]:
    """count unique deliveries; tag goes into every id so steps and runs never collide.

    Bodies are built and signed up front: the generator's own CPU should go on sending.
    """
    rng = random.Random(f"{seed}-{tag}")
    now = int(time.time())
    out: list[Delivery] = []
    for n in range(count):
        text = f"{rng.choice(TEXTS)} ({rng.randrange(10_000)})"
        author = f"60000000000{rng.randrange(100):05d}"  # ~100 regulars, as on a small page
        dm = rng.random() < dm_share
        out.append(
            signed_delivery(page_id, secret, f"bench{tag}", tag, n, author, text, now, dm=dm)
        )
    return out


def signed_delivery(
    page_id: str,
    secret: str,
    dm_prefix: str,
    tag: str,
    n: int,
    author: str,
    text: str,
    now: int,
    *,
    dm: bool,
) -> Delivery:
    """One signed delivery, a Messenger DM or a Page comment, its ids unique by tag and n."""
    if dm:
        external_id = f"m_{dm_prefix}n{n:06d}"
        payload = page_dm(page_id, external_id, author, text, now * 1000 + n)
    else:
        external_id = f"900000000000001_{tag}{n:06d}"
        payload = page_comment(page_id, external_id, author, text, now)
    # Compact, ASCII-escaped JSON like Meta's own serialisation.
    body = json.dumps(payload, separators=(",", ":")).encode()
    return Delivery(body, _sign(body, secret), external_id, "dm" if dm else "comment")


@dataclass
class StepResult:
    rate: float
    duration: float
    sent: int = 0
    ok: int = 0
    statuses: dict[str, int] = field(default_factory=dict)  # non-200 status or error name
    latencies_ms: list[float] = field(default_factory=list)  # of 200s, from the due time
    lags_ms: list[float] = field(default_factory=list)  # send start minus due time
    ok_ids: set[str] = field(default_factory=set)
    odd_bodies: int = 0  # a 200 whose body did not say one new item was stored
    reconnects: int = 0
    not_sent: int = 0  # still due when the step's time bound ran out
    elapsed: float = 0.0  # first due time to last answer
    t0_wall: float = 0.0  # request k was due at t0_wall + k / rate (time.time() seconds)

    @property
    def errors(self) -> int:
        return sum(self.statuses.values()) + self.not_sent

    @property
    def throughput(self) -> float:
        return self.ok / self.elapsed if self.elapsed > 0 else 0.0


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


def run_step(
    host: str,
    port: int,
    path: str,
    deliveries: list[Delivery],
    rate: float,
    *,
    connections: int = 32,
    timeout: float = 10.0,
    max_backlog: float = 20.0,
) -> StepResult:
    """Send every delivery at `rate` per second from `connections` keep-alive connections.

    A thread takes the next due request, sleeps until its due time, sends it and waits for
    the answer. Nothing is sent more than `max_backlog` seconds after it was due, so a step
    ends at most duration + max_backlog + timeout after it starts.
    """
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError("the load generator only targets this machine")
    result = StepResult(rate=rate, duration=len(deliveries) / rate)
    lock = threading.Lock()
    cursor = iter(range(len(deliveries)))
    t0 = time.perf_counter() + 0.2  # time for every thread to be waiting before the first send
    # The same instant on the wall clock, which other processes' row timestamps share.
    result.t0_wall = time.time() + (t0 - time.perf_counter())
    last_answer = [t0]

    def worker() -> None:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
        used = False
        try:
            while True:
                with lock:
                    k = next(cursor, None)
                if k is None:
                    return
                due = t0 + k / rate
                delay = due - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                elif -delay > max_backlog:
                    with lock:
                        result.not_sent += 1
                    continue
                started = time.perf_counter()
                outcome, body, reconnected = _post(conn, path, deliveries[k], used)
                done = time.perf_counter()
                used = True
                with lock:
                    result.sent += 1
                    result.reconnects += reconnected
                    result.lags_ms.append((started - due) * 1000)
                    last_answer[0] = max(last_answer[0], done)
                    if outcome == "200":
                        result.ok += 1
                        result.latencies_ms.append((done - due) * 1000)
                        result.ok_ids.add(deliveries[k].external_id)
                        if not _one_new_item(body):
                            result.odd_bodies += 1
                    else:
                        result.statuses[outcome] = result.statuses.get(outcome, 0) + 1
                if outcome != "200":
                    conn.close()  # start the next request on a clean connection
                    used = False
        finally:
            conn.close()

    threads = [
        threading.Thread(target=worker, name=f"loadgen-{i}", daemon=True)
        for i in range(max(1, connections))
    ]
    for thread in threads:
        thread.start()
    bound = result.duration + max_backlog + timeout + 5
    for thread in threads:
        thread.join(max(0.0, t0 + bound - time.perf_counter()))
    with lock:  # a thread still stuck past the bound is reported, never waited for forever
        stuck = sum(thread.is_alive() for thread in threads)
        if stuck:
            result.statuses["stuck"] = result.statuses.get("stuck", 0) + stuck
        result.elapsed = last_answer[0] - t0
    return result


def _post(
    conn: http.client.HTTPConnection, path: str, delivery: Delivery, used: bool
) -> tuple[str, bytes, int]:
    """POST once; on a kept-alive connection the server closed meanwhile, reconnect once.

    The retry is safe even if the first attempt did reach the server: deliveries are
    idempotent by design, and the database check would show any duplicate.
    """
    headers = {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": delivery.signature,
        "User-Agent": "facebookexternalua",
    }
    for attempt in (0, 1):
        try:
            conn.request("POST", path, body=delivery.body, headers=headers)
            response = conn.getresponse()
            body = response.read()
            return str(response.status), body, attempt
        except _STALE as exc:
            conn.close()
            if attempt or not used:
                return type(exc).__name__, b"", attempt
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            return type(exc).__name__, b"", attempt
    return "unreachable", b"", 1


def _one_new_item(body: bytes) -> bool:
    try:
        answer = json.loads(body)
    except ValueError:
        return False
    return isinstance(answer, dict) and answer.get("stored") == 1 and answer.get("duplicates") == 0
