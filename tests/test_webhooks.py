"""Webhooks against a real Redis and a real local HTTP receiver: delivery, signatures, retries, sharing."""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from redis import Redis

from moderation.authors.standing import StandingChange, Standings
from moderation.comments import NewComment, Origin, new_comment_id
from moderation.keys import Keys
from moderation.policy import Assessment, Decision, Reason
from moderation.redis_server import free_port
from moderation.store import CommentStore
from moderation.webhooks import (
    AUTHOR_PAYLOAD_FIELDS,
    GROUP,
    PAYLOAD_FIELDS,
    SIGNATURE_HEADER,
    WebhookKeys,
    WebhookWorker,
    WorkerSettings,
    add_cli,
    add_subscription,
    event_payload,
    list_subscriptions,
    recent_deliveries,
    remove_subscription,
    sign,
    verify_signature,
)
from tests.loopback import serving_posts

HELD = Decision("pending", (Reason("spam", 0.7), Reason("links")))
PUBLISHED = Decision("published")
REJECTED = Decision("rejected", (Reason("blocked_term"),))
FAST = WorkerSettings(timeout=2.0, max_attempts=3, backoff_base=0.05, backoff_factor=2.0, jitter=0.0,
                      lease_seconds=5.0, claim_idle_seconds=0.2, reclaim_interval=0.05, block_ms=20)


# -- a local receiver ----------------------------------------------------------------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        payload: dict[str, Any] = json.loads(self.body)
        return payload


@dataclass
class Receiver:
    """Records every POST; answers with the queued status codes first, then 200."""

    base: str
    requests: list[Received] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"{self.base}/hook"

    def next_status(self, received: Received) -> int:
        with self.lock:
            self.requests.append(received)
            return self.answers.pop(0) if self.answers else 200

    def bodies(self) -> list[dict[str, Any]]:
        with self.lock:
            return [r.json for r in self.requests]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    holder: list[Receiver] = []

    def answer(path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        status = holder[0].next_status(Received(path, headers, body))
        return status, {"Location": "/elsewhere"} if 300 <= status < 400 else {}, b"ok"

    with serving_posts(answer) as base:
        holder.append(Receiver(base))
        yield holder[0]


# -- helpers ---------------------------------------------------------------------------------------


@pytest.fixture
def store(redis: Redis) -> CommentStore:
    return CommentStore(redis, Keys())


def add(store: CommentStore, decision: Decision = PUBLISHED, article: str = "a1") -> str:
    comment_id, created_at = new_comment_id()
    comment = NewComment(comment_id, created_at, article, None, "Ann Private", "ann@example.com", "k1",
                         "secret body text", Origin("192.0.2.1", "UA", ""))
    return store.submit(comment, Assessment(0.7, 0.1), decision, "test-model").id


def wait_for(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.01)


@dataclass
class Running:
    workers: list[WebhookWorker]
    stop: threading.Event
    threads: list[threading.Thread]


@pytest.fixture
def start(redis: Redis) -> Iterator[Callable[..., Running]]:
    """Starts workers in threads (consumer group created first); stops and joins them at the end."""
    started: list[Running] = []

    def _start(count: int = 1, settings: WorkerSettings = FAST) -> Running:
        workers = [WebhookWorker(redis, Keys(), settings, consumer=f"w{i}") for i in range(count)]
        stop = threading.Event()
        threads = [threading.Thread(target=w.run, args=(stop,), daemon=True) for w in workers]
        for thread in threads:
            thread.start()
        running = Running(workers, stop, threads)
        started.append(running)
        return running

    yield _start
    for running in started:
        running.stop.set()
        for thread in running.threads:
            thread.join(5)
            assert not thread.is_alive()


def delivered(redis: Redis) -> list[dict[str, Any]]:
    return [row for row in recent_deliveries(redis, Keys(), 1000) if row["outcome"] == "delivered"]


# -- signatures ------------------------------------------------------------------------------------


def test_signature_verifies_and_rejects_tampering_wrong_secret_and_replays() -> None:
    body = b'{"id":"1-0","type":"comment.published"}'
    header = sign("whsec_a", body)
    assert verify_signature("whsec_a", header, body)
    assert verify_signature("whsec_a", header, body.decode())  # str or bytes
    assert not verify_signature("whsec_a", header, body.replace(b"published", b"held"))
    assert not verify_signature("whsec_b", header, body)
    old = sign("whsec_a", body, timestamp=int(time.time()) - 301)
    assert not verify_signature("whsec_a", old, body)
    assert verify_signature("whsec_a", old, body, tolerance=600)
    t = header.split(",")[0]
    assert not verify_signature("whsec_a", f"{t},v1=" + "0" * 64, body)
    assert verify_signature("whsec_a", f"{header},v1={'0' * 64}", body)  # any one of several v1 values
    for broken in ("", "v1=abc", "t=abc,v1=abc", t):
        assert not verify_signature("whsec_a", broken, body)


# -- subscriptions and payloads --------------------------------------------------------------------


def test_subscriptions_add_list_remove_and_validation(redis: Redis) -> None:
    sub = add_subscription(redis, Keys(), "https://example.org/hook", ["comment.decided"])
    assert sub.secret.startswith("whsec_") and sub.events == ("comment.decided",)
    everything = add_subscription(redis, Keys(), "http://127.0.0.1:9/x")
    assert set(everything.events) == {"comment.published", "comment.held", "comment.decided", "comment.reported",
                                      "author.standing_changed", "notice.decided", "appeal.decided"}
    assert [s.id for s in list_subscriptions(redis, Keys())] == [sub.id, everything.id]
    assert "secret" not in sub.public()
    for bad in ("ftp://example.org/x", "/relative", "https://", "javascript:alert(1)"):
        with pytest.raises(ValueError):
            add_subscription(redis, Keys(), bad)
    with pytest.raises(ValueError):
        add_subscription(redis, Keys(), "https://example.org", ["comment.deleted"])
    assert remove_subscription(redis, Keys(), sub.id)
    assert not remove_subscription(redis, Keys(), sub.id)
    assert [s.id for s in list_subscriptions(redis, Keys())] == [everything.id]
    assert GROUP in {g["name"] for g in redis.xinfo_groups(Keys().events)}  # add made the group


def test_payloads_map_events_and_carry_no_personal_data(store: CommentStore, redis: Redis) -> None:
    published, held, rejected = add(store, PUBLISHED), add(store, HELD), add(store, REJECTED)
    store.claim("alice", "pending", 10, 60)
    store.decide(held, "alice", "reject", "spam", "note about Ann", None)
    store.report(published, "abuse", "reader note with ann@example.com")
    store.erase_author("k1", "root")
    entries: list[tuple[str, dict[str, str]]] = redis.xrange(Keys().events)  # type: ignore[assignment]
    payloads = [event_payload(entry_id, fields, "a1") for entry_id, fields in entries]
    kept = [p for p in payloads if p is not None]
    assert [(p["type"], p["comment_id"], p["status"]) for p in kept] == [
        ("comment.published", published, "published"),
        ("comment.held", held, "pending"),
        ("comment.held", rejected, "rejected"),
        ("comment.decided", held, "rejected"),
        ("comment.reported", published, "published"),
    ]  # the claim and the erasure are no webhooks
    assert kept[1]["reasons"] == ["spam", "links"] and kept[3]["reasons"] == ["spam"]
    assert "previous_status" not in kept[0]
    assert kept[3]["action"] == "reject" and kept[4]["reasons"] == ["abuse"]
    for payload in kept:
        assert set(payload) <= set(PAYLOAD_FIELDS) and payload["article_id"] == "a1"
        text = json.dumps(payload)
        for private in ("Ann", "ann@example.com", "192.0.2.1", "secret body", "note", "alice"):
            assert private not in text


def test_rescored_comment_that_moves_is_published_or_held() -> None:
    fields = {"comment_id": "c1", "event": "rescored", "actor": "system", "at": "2026-01-01T00:00:00.000Z",
              "from": "published", "status": "pending", "reasons": "abuse", "spam": "0.1", "abuse": "0.9"}
    payload = event_payload("9-0", fields, "a1")
    assert payload == {"id": "9-0", "type": "comment.held", "comment_id": "c1", "article_id": "a1",
                       "status": "pending", "previous_status": "published", "reasons": ["abuse"],
                       "occurred_at": "2026-01-01T00:00:00.000Z"}
    back = event_payload("10-0", {**fields, "from": "pending", "status": "published", "reasons": ""})
    assert back is not None and back["type"] == "comment.published" and back["reasons"] == []
    assert event_payload("11-0", {"comment_id": "c1", "event": "claimed", "actor": "alice"}) is None


# -- delivery --------------------------------------------------------------------------------------


def test_published_and_decided_events_are_delivered_signed(
    store: CommentStore, redis: Redis, receiver: Receiver, start: Callable[..., Running]
) -> None:
    sub = add_subscription(redis, Keys(), receiver.url)
    start()
    published = add(store, PUBLISHED)
    held = add(store, HELD)
    store.decide(held, "alice", "approve", None, None, None)
    wait_for(lambda: len(receiver.requests) == 3)
    by_type = {r.json["type"]: r for r in receiver.requests}
    assert set(by_type) == {"comment.published", "comment.held", "comment.decided"}
    first = by_type["comment.published"]
    assert first.path == "/hook" and first.headers["Content-Type"] == "application/json"
    assert verify_signature(sub.secret, first.headers[SIGNATURE_HEADER], first.body)
    assert not verify_signature(sub.secret, first.headers[SIGNATURE_HEADER], first.body.replace(b"a1", b"a2"))
    assert first.json["comment_id"] == published and first.json["article_id"] == "a1"
    assert first.headers["Moderation-Event-Id"] == first.json["id"]
    assert first.headers["Moderation-Delivery-Attempt"] == "1"
    decided = by_type["comment.decided"].json
    assert (decided["comment_id"], decided["status"], decided["action"]) == (held, "published", "approve")
    assert verify_signature(sub.secret, by_type["comment.decided"].headers[SIGNATURE_HEADER],
                            by_type["comment.decided"].body)
    wait_for(lambda: len(delivered(redis)) == 3)
    row = delivered(redis)[0]
    assert row["status_code"] == 200 and row["attempt"] == 1 and row["url"] == receiver.url
    assert row["subscription"] == sub.id and row["duration_ms"] >= 0
    wk = WebhookKeys.of(Keys())
    wait_for(lambda: redis.zcard(wk.due) == 0 and redis.hlen(wk.jobs) == 0 and redis.hlen(wk.attempts) == 0)
    assert redis.xpending(Keys().events, GROUP)["pending"] == 0  # every entry acknowledged


@pytest.mark.parametrize("article", ["/world/korea-pact/", "https://news.example.com/world/korea-pact?x={1}&y=é"])
def test_payloads_carry_a_path_or_url_article_id_as_it_is(
    store: CommentStore, redis: Redis, receiver: Receiver, start: Callable[..., Running], article: str
) -> None:
    sub = add_subscription(redis, Keys(), receiver.url)
    start()
    published = add(store, PUBLISHED, article=article)
    wait_for(lambda: len(receiver.requests) == 1)
    received = receiver.requests[0]
    assert verify_signature(sub.secret, received.headers[SIGNATURE_HEADER], received.body)
    assert (received.json["comment_id"], received.json["article_id"]) == (published, article)


def test_failed_attempts_are_retried_with_backoff_and_logged(
    store: CommentStore, redis: Redis, receiver: Receiver, start: Callable[..., Running]
) -> None:
    sub = add_subscription(redis, Keys(), receiver.url)
    receiver.answers = [500, 503]
    start()
    comment_id = add(store, PUBLISHED)
    wait_for(lambda: len(delivered(redis)) == 1)
    assert len(receiver.requests) == 3
    assert len({r.json["id"] for r in receiver.requests}) == 1  # the same event each time
    assert [r.headers["Moderation-Delivery-Attempt"] for r in receiver.requests] == ["1", "2", "3"]
    assert all(verify_signature(sub.secret, r.headers[SIGNATURE_HEADER], r.body) for r in receiver.requests)
    log = list(reversed(recent_deliveries(redis, Keys(), 10)))  # oldest first
    assert [(row["attempt"], row["status_code"], row["outcome"]) for row in log] == [
        (1, 500, "retrying"), (2, 503, "retrying"), (3, 200, "delivered"),
    ]
    assert all(row["comment_id"] == comment_id and row["type"] == "comment.published" for row in log)
    assert log[0]["next_attempt_at"] and log[0]["error"] == "HTTP 500"
    # Exponential backoff: the second wait (0.1 s) is about twice the first (0.05 s).
    times = [time.mktime(time.strptime(row["at"][:19], "%Y-%m-%dT%H:%M:%S")) + float(row["at"][19:23])
             for row in log]
    assert times[1] - times[0] >= 0.045 and times[2] - times[1] >= 0.095


def test_gives_up_after_max_attempts_and_logs_connection_errors(
    store: CommentStore, redis: Redis, start: Callable[..., Running]
) -> None:
    dead = f"http://127.0.0.1:{free_port()}/nobody-listens"
    add_subscription(redis, Keys(), dead)
    start()
    add(store, PUBLISHED)
    wait_for(lambda: any(row["outcome"] == "failed" for row in recent_deliveries(redis, Keys(), 10)))
    log = list(reversed(recent_deliveries(redis, Keys(), 10)))
    assert [row["outcome"] for row in log] == ["retrying", "retrying", "failed"]
    assert all(row["status_code"] is None and "Connection" in row["error"] for row in log)
    wk = WebhookKeys.of(Keys())
    assert redis.zcard(wk.due) == 0 and redis.hlen(wk.jobs) == 0


def test_redirects_are_not_followed(
    store: CommentStore, redis: Redis, receiver: Receiver, start: Callable[..., Running]
) -> None:
    add_subscription(redis, Keys(), receiver.url)
    receiver.answers = [302]
    start()
    add(store, PUBLISHED)
    wait_for(lambda: len(delivered(redis)) == 1)
    log = list(reversed(recent_deliveries(redis, Keys(), 10)))
    assert [(row["status_code"], row["outcome"]) for row in log] == [(302, "retrying"), (200, "delivered")]
    assert [r.path for r in receiver.requests] == ["/hook", "/hook"]


def test_events_filter_is_respected(
    store: CommentStore, redis: Redis, receiver: Receiver, start: Callable[..., Running]
) -> None:
    decisions_only = add_subscription(redis, Keys(), receiver.url + "?only=decided", ["comment.decided"])
    add_subscription(redis, Keys(), receiver.url + "?only=held", ["comment.held"])
    start()
    add(store, PUBLISHED)
    held = add(store, HELD)
    store.decide(held, "alice", "reject", "spam", None, None)
    wait_for(lambda: len(receiver.requests) == 2)
    time.sleep(0.2)  # nothing else arrives
    seen = sorted((r.path, r.json["type"]) for r in receiver.requests)
    assert seen == [("/hook?only=decided", "comment.decided"), ("/hook?only=held", "comment.held")]
    assert {row["subscription"] for row in delivered(redis) if row["type"] == "comment.decided"} == {
        decisions_only.id
    }


def test_two_workers_share_the_work_without_double_delivery(
    store: CommentStore, redis: Redis, receiver: Receiver, start: Callable[..., Running]
) -> None:
    add_subscription(redis, Keys(), receiver.url)
    running = start(2)
    ids = [add(store, PUBLISHED) for _ in range(40)]
    wait_for(lambda: len(receiver.requests) >= 40)
    time.sleep(0.3)
    assert sorted(body["comment_id"] for body in receiver.bodies()) == sorted(ids)  # each exactly once
    workers = {row["worker"] for row in delivered(redis)}
    assert workers <= {w.consumer for w in running.workers}


def test_entry_of_a_dead_worker_is_taken_over(
    store: CommentStore, redis: Redis, receiver: Receiver, start: Callable[..., Running]
) -> None:
    add_subscription(redis, Keys(), receiver.url)
    comment_id = add(store, PUBLISHED)
    # A worker reads the entry and dies before recording its deliveries.
    assert redis.xreadgroup(GROUP, "dead", {Keys().events: ">"}, count=10)
    start()
    wait_for(lambda: len(receiver.requests) == 1)
    assert receiver.requests[0].json["comment_id"] == comment_id
    wait_for(lambda: redis.xpending(Keys().events, GROUP)["pending"] == 0)
    time.sleep(0.2)
    assert len(receiver.requests) == 1


def test_job_of_a_worker_that_died_mid_delivery_is_sent_after_its_lease(
    store: CommentStore, redis: Redis, receiver: Receiver, start: Callable[..., Running]
) -> None:
    add_subscription(redis, Keys(), receiver.url)
    short_lease = replace(FAST, lease_seconds=0.2)
    crashed = WebhookWorker(redis, Keys(), short_lease, consumer="crashed")
    add(store, PUBLISHED)
    crashed.read()  # fans the entry out into a job ...
    wk = WebhookKeys.of(Keys())
    assert redis.zcard(wk.due) == 1
    leased = crashed._claim(keys=[wk.due, wk.jobs, wk.attempts],
                            args=[int(time.time() * 1000), int(time.time() * 1000) + 200, 10])
    assert len(leased) == 3  # ... leases it, and dies before sending
    start(settings=short_lease)
    wait_for(lambda: len(delivered(redis)) == 1)
    assert len(receiver.requests) == 1
    assert receiver.requests[0].headers["Moderation-Delivery-Attempt"] == "2"  # the lost attempt counted


def test_removed_subscription_drops_its_queued_deliveries(
    store: CommentStore, redis: Redis, receiver: Receiver
) -> None:
    sub = add_subscription(redis, Keys(), receiver.url)
    worker = WebhookWorker(redis, Keys(), FAST, consumer="w")
    add(store, PUBLISHED)
    worker.read()
    remove_subscription(redis, Keys(), sub.id)
    assert worker.deliver_due() == 1
    assert [row["outcome"] for row in recent_deliveries(redis, Keys())] == ["dropped"]
    assert receiver.requests == []


def test_worker_stops_on_max_iterations_and_leaves_no_consumer(redis: Redis) -> None:
    worker = WebhookWorker(redis, Keys(), FAST, consumer="short-lived")
    worker.run(max_iterations=3)
    assert redis.xinfo_consumers(Keys().events, GROUP) == []


# -- command line ----------------------------------------------------------------------------------


def _cli(argv: list[str]) -> None:
    top = argparse.ArgumentParser(prog="moderation")
    add_cli(top.add_subparsers(dest="command", required=True))
    args = top.parse_args(argv)
    args.run(args)


def test_cli_add_list_deliveries_remove(
    redis: Redis, redis_url: str, store: CommentStore, receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    _cli(["webhooks", "add", receiver.url, "--events", "comment.published", "comment.held"])
    lines = dict(line.split("\t") for line in capsys.readouterr().out.splitlines())
    sub_id, secret = lines["id"], lines["secret"]
    assert lines["events"] == "comment.published,comment.held"
    _cli(["webhooks", "list"])
    listing = capsys.readouterr().out
    assert listing.startswith(f"{sub_id}\t{receiver.url}\tcomment.published,comment.held\t")
    assert secret not in listing
    add(store, PUBLISHED)
    WebhookWorker(redis, Keys(), FAST).run(max_iterations=2)
    assert verify_signature(secret, receiver.requests[0].headers[SIGNATURE_HEADER], receiver.requests[0].body)
    _cli(["webhooks", "deliveries", "--limit", "5"])
    assert "\tdelivered\t200\tattempt 1\tcomment.published\t" in capsys.readouterr().out
    _cli(["webhooks", "deliveries", "--json"])
    assert json.loads(capsys.readouterr().out.splitlines()[0])["outcome"] == "delivered"
    _cli(["webhooks", "remove", sub_id])
    assert capsys.readouterr().out.strip() == f"removed {sub_id}"
    with pytest.raises(SystemExit):
        _cli(["webhooks", "remove", sub_id])
    with pytest.raises(SystemExit):
        _cli(["webhooks", "add", "ftp://example.org/"])


def test_a_standing_change_is_delivered_with_what_the_author_is_told(
    store: CommentStore, redis: Redis, receiver: Receiver, start: Callable[..., Running]
) -> None:
    sub = add_subscription(redis, Keys(), receiver.url, ["author.standing_changed", "comment.decided"])
    held = add(store, HELD)
    start()
    change = StandingChange("suspended", "abuse", datetime.now(UTC) + timedelta(days=7), "Take a week off.",
                            reject_pending=True)
    Standings(redis, Keys()).change("k1", "k1", change, "alice", reject_reason="abuse")
    wait_for(lambda: len(receiver.requests) == 2)
    by_type = {r.json["type"]: r for r in receiver.requests}
    payload = by_type["author.standing_changed"].json
    assert set(payload) <= set(AUTHOR_PAYLOAD_FIELDS)
    assert (payload["author_key"], payload["state"], payload["previous_state"]) == ("k1", "suspended", "normal")
    assert payload["message"] == "Take a week off." and payload["until"] and payload["rejected_pending"] == 1
    assert payload["statement"]["restriction"] == "account_suspension"
    assert payload["statement"]["ground"]["explanation"] == "Take a week off."
    assert verify_signature(sub.secret, by_type["author.standing_changed"].headers[SIGNATURE_HEADER],
                            by_type["author.standing_changed"].body)
    decided = by_type["comment.decided"].json
    assert (decided["comment_id"], decided["status"], decided["reasons"]) == (held, "rejected", ["abuse"])
    assert "Ann" not in str(payload) and "ann@example.com" not in str(payload)
