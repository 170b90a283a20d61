"""The store against a real Redis: atomic submit, claims with leases, racing decisions, reports."""

from __future__ import annotations

import threading
import time

import pytest
from redis import Redis

from moderation.comments import NewComment, Origin, new_comment_id
from moderation.keys import Keys
from moderation.policy import Assessment, Decision, Reason
from moderation.store import CommentStore, Conflict, NotFound, ParentNotFound

HELD = Decision("pending", (Reason("spam", 0.7),))
PUBLISHED = Decision("published")


@pytest.fixture
def store(redis: Redis) -> CommentStore:
    return CommentStore(redis, Keys())


def add(store: CommentStore, decision: Decision = HELD, article: str = "a1", parent: str | None = None,
        author: str = "k1") -> str:
    comment_id, created_at = new_comment_id()
    comment = NewComment(comment_id, created_at, article, parent, "Ann", "ann@example.com", author,
                         "body text", Origin("192.0.2.1", "UA", ""), website="https://ann.example/blog")
    return store.submit(comment, Assessment(0.7, 0.1), decision, "test-model").id


def test_ids_sort_by_arrival(store: CommentStore) -> None:
    ids = [add(store, PUBLISHED) for _ in range(5)]
    assert ids == sorted(ids)
    records, cursor = store.published_page("a1", None, 3)
    assert [r["id"] for r in records] == ids[:3]
    rest, end = store.published_page("a1", cursor, 3)
    assert [r["id"] for r in rest] == ids[3:] and end is None


def test_submit_puts_held_comment_in_queue_not_on_page(store: CommentStore) -> None:
    comment_id = add(store)
    assert store.published_page("a1", None, 10)[0] == []
    queued, _ = store.queue_page("pending", None, 10)
    assert [r["id"] for r in queued] == [comment_id]
    assert [fields["event"] for fields in store.history(comment_id)] == ["submitted"]


def test_reply_needs_parent_on_same_article(store: CommentStore, redis: Redis) -> None:
    parent = add(store, PUBLISHED, article="a1")
    add(store, PUBLISHED, article="a1", parent=parent)
    with pytest.raises(ParentNotFound):
        add(store, PUBLISHED, article="other", parent=parent)
    assert redis.zcard(Keys().article_published("other")) == 0  # the refused reply left nothing behind


def test_two_moderators_claiming_at_once_never_share_an_item(store: CommentStore) -> None:
    for _ in range(30):
        add(store)
    results: dict[str, list[str]] = {}
    barrier = threading.Barrier(3)

    def grab(name: str) -> None:
        barrier.wait()
        results[name] = store.claim(name, "pending", 12, 60)

    threads = [threading.Thread(target=grab, args=(n,)) for n in ("alice", "bob", "carol")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    claimed = [i for ids in results.values() for i in ids]
    assert len(claimed) == 30 and len(set(claimed)) == 30


def test_expired_lease_frees_the_item(store: CommentStore, redis: Redis) -> None:
    comment_id = add(store)
    assert store.claim("alice", "pending", 5, 60) == [comment_id]
    assert store.claim("bob", "pending", 5, 60) == []
    # Expire alice's lease without waiting for it.
    redis.hset(Keys().comment(comment_id), "claim_expires", int(time.time() * 1000) - 1)
    assert store.claim("bob", "pending", 5, 60) == [comment_id]


def test_claimed_item_cannot_be_decided_by_another(store: CommentStore) -> None:
    comment_id = add(store)
    store.claim("alice", "pending", 1, 60)
    with pytest.raises(Conflict) as caught:
        store.decide(comment_id, "bob", "approve", None, None, None)
    assert caught.value.why == "claimed"
    assert store.decide(comment_id, "alice", "approve", None, None, None).status == "published"


def _race(store: CommentStore, comment_id: str) -> list[str]:
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def decide(name: str, action: str) -> None:
        barrier.wait()
        try:
            store.decide(comment_id, name, action, "spam" if action == "reject" else None, None, None)
            outcomes.append("won")
        except Conflict:
            outcomes.append("lost")

    threads = [threading.Thread(target=decide, args=("alice", "approve")),
               threading.Thread(target=decide, args=("bob", "reject"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_racing_decisions_exactly_one_wins(store: CommentStore) -> None:
    for _ in range(25):
        assert sorted(_race(store, add(store))) == ["lost", "won"]
    assert store.queue_page("pending", None, 100)[0] == []


def test_decision_moves_queues_and_counts_for_author(store: CommentStore) -> None:
    rejected = add(store)
    approved = add(store)
    store.decide(rejected, "alice", "reject", "spam", "obvious", None)
    store.decide(approved, "alice", "approve", None, None, None)
    assert [r["id"] for r in store.queue_page("rejected", None, 10)[0]] == [rejected]
    assert [r["id"] for r in store.queue_page("approved", None, 10)[0]] == [approved]
    assert [r["id"] for r in store.published_page("a1", None, 10)[0]] == [approved]
    assert store.author("k1") == {"approved": 1, "rejected": 1, "comments": 2}
    assert store.author_approved("k1") == 1


def test_stale_version_conflicts_and_current_version_may_override(store: CommentStore) -> None:
    comment_id = add(store)
    first = store.decide(comment_id, "alice", "reject", "spam", None, None)
    with pytest.raises(Conflict):
        store.decide(comment_id, "bob", "approve", None, None, None)  # already decided
    with pytest.raises(Conflict):
        store.decide(comment_id, "bob", "approve", None, None, first.version - 1)
    assert store.decide(comment_id, "bob", "approve", None, None, first.version).status == "published"
    assert store.author("k1")["rejected"] == 0 and store.author("k1")["approved"] == 1


def test_report_queues_published_comment_only(store: CommentStore) -> None:
    published = add(store, PUBLISHED)
    held = add(store)
    assert store.report(published, "abuse", "rude") == 1
    assert store.report(published, "spam", "") == 2
    with pytest.raises(NotFound):
        store.report(held, "spam", "")
    assert [r["id"] for r in store.queue_page("reported", None, 10)[0]] == [published]
    store.decide(published, "alice", "approve", None, None, None)  # keep it: leaves the reported queue
    assert store.queue_page("reported", None, 10)[0] == []
    assert [r["id"] for r in store.published_page("a1", None, 10)[0]] == [published]


def test_queue_filters_by_article_and_reason(store: CommentStore) -> None:
    a = add(store, article="a1")
    b = add(store, Decision("pending", (Reason("links", 3.0),)), article="a2")
    assert [r["id"] for r in store.queue_page("pending", None, 10, article_id="a2")[0]] == [b]
    assert [r["id"] for r in store.queue_page("pending", None, 10, reason="spam")[0]] == [a]


def test_erasure_blanks_personal_data_and_keeps_decisions(store: CommentStore) -> None:
    comment_id = add(store)
    store.decide(comment_id, "alice", "reject", "spam", None, None)
    assert store.erase_author("k1", "root") == 1
    record = store.get(comment_id) or {}
    assert record["email"] == "" and record["name"] == "[erased]" and record["ip"] == ""
    assert record["website"] == ""
    assert record["decision"] == "reject" and record["status"] == "rejected"


def test_submit_stores_every_field_as_given(store: CommentStore, redis: Redis) -> None:
    """The fields travel to submit.lua as one JSON array: any text must come back byte for byte."""
    odd = 'quotes " and \\ backslash, tab\there\nnew line, é, 中文, emoji 😀, \u2028, \u0085 end'
    comment_id, created_at = new_comment_id()
    comment = NewComment(comment_id, created_at, "a1", None, "Zoë \"Z\" O'Neil", "zoe@example.com", "k1",
                         odd, Origin("2001:db8::1", "Mozilla/5.0 (X11; \x01)", "https://news.example/a?b=1&c=ü"),
                         website="https://zoë.example/a?b='1'&c=\"2\"")
    store.submit(comment, Assessment(0.123456789, 0.5), Decision("rejected", (Reason("spam", 0.99),)),
                 "test-model", text_fingerprint="f" * 24, extra={"shadow_version": "v2", "shadow_spam": "0.1"})
    record = redis.hgetall(Keys().comment(comment_id))
    assert set(record) == {"id", "article_id", "parent_id", "name", "email", "website", "author_key", "body", "ip",
                           "user_agent", "referer", "created_at", "status", "spam", "abuse", "reasons",
                           "reason_codes", "model_version", "version", "reports", "shadow_version",
                           "shadow_spam", "history", "language"}
    assert [event["event"] for event in store.history(comment_id)] == ["submitted"]
    assert record["body"] == odd and record["name"] == "Zoë \"Z\" O'Neil"
    assert record["website"] == "https://zoë.example/a?b='1'&c=\"2\""
    assert record["user_agent"] == "Mozilla/5.0 (X11; \x01)" and record["referer"].endswith("&c=ü")
    assert (record["spam"], record["abuse"], record["status"]) == ("0.123457", "0.500000", "rejected")
    assert record["parent_id"] == "" and record["created_at"] == created_at
    assert redis.zscore(Keys().all_comments, comment_id) == 0
    assert redis.zscore(Keys().queue("rejected"), comment_id) == 0


def test_comment_ids_are_ulids_with_their_creation_time() -> None:
    from ulid import ULID

    from moderation.comments import iso_of_ms, now_iso, ulid_ms

    for _ in range(200):
        comment_id, created_at = new_comment_id()
        parsed = ULID.from_str(comment_id)
        assert str(parsed) == comment_id and now_iso(parsed.datetime) == created_at
        assert ulid_ms(comment_id) == round(parsed.timestamp * 1000)
    assert iso_of_ms(0) == "1970-01-01T00:00:00.000Z" and iso_of_ms(1795764144669) == "2026-11-27T07:22:24.669Z"
    assert ulid_ms("7ZZZZZZZZZZZZZZZZZZZZZZZZZ") == 2**48 - 1
    made = [new_comment_id()[0] for _ in range(2000)]  # many within one millisecond: still in order
    assert made == sorted(made) and len(set(made)) == len(made)


def test_early_reads_answer_as_a_pipeline_does(redis: Redis) -> None:
    """Intake's reads go out before scoring and are read after it; the answers are a pipeline's."""
    from redis.exceptions import ResponseError

    from moderation.redis_client import EarlyReads

    redis.set("s", "text")
    redis.hset("h", "f", "v")
    redis.sadd("set", "a", "b")

    def queue(reads: object) -> None:
        for name, *args in (("get", "s"), ("get", "missing"), ("hget", "h", "f"), ("hget", "h", "nope"),
                            ("exists", "s"), ("exists", "missing"), ("scard", "set"), ("sismember", "set", "a"),
                            ("sismember", "set", "z")):
            getattr(reads, name)(*args)

    pipe = redis.pipeline(transaction=False)
    queue(pipe)
    expected = [int(v) if isinstance(v, bool) else v for v in pipe.execute()]
    for _ in range(3):  # the connection goes back to the pool each time, clean
        reads = EarlyReads(redis)
        queue(reads)
        reads.send()
        assert [int(v) if isinstance(v, bool) else v for v in reads.replies()] == expected
    pool = getattr(redis, "connection_pool", None)
    in_use = (lambda: len(pool._in_use_connections)) if pool is not None else (lambda: 0)
    assert in_use() == 0

    unread = EarlyReads(redis)  # sent, then abandoned (the model raised): given back, disconnected
    queue(unread)
    unread.send()
    unread.close()
    assert in_use() == 0

    wrong = EarlyReads(redis)  # an error reply: read again through a pipeline, which raises as before
    wrong.get("h")
    wrong.get("s")
    wrong.send()
    with pytest.raises(ResponseError):
        wrong.replies()
    assert in_use() == 0 and redis.get("s") == "text"
