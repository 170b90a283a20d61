"""What Redis keeps and for how long: a comment's history in its own hash, retention, the archive, the
migration from the old layout, and a full Redis refusing writes cleanly."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from redis import Redis
from ulid import ULID

from api import create_app
from moderation.archive import Archive, Slice, read_archive
from moderation.comments import NewComment, Origin, iso_of_ms
from moderation.intake import Scorer
from moderation.keys import Keys
from moderation.policy import Assessment, Decision, Reason
from moderation.redis_client import config_advice, connect
from moderation.redis_server import EmbeddedRedis
from moderation.retention import Retention, trim_events
from moderation.store import CommentStore
from moderation.webhooks import add_subscription, ensure_group
from moderation_cli import main
from tests.conftest import close

DAY = 86400.0
HELD = Decision("pending", (Reason("spam", 0.7),))
REJECTED = Decision("rejected", (Reason("spam", 0.99),))
PUBLISHED = Decision("published")


@pytest.fixture
def store(redis: Redis) -> CommentStore:
    return CommentStore(redis, Keys())


def add(store: CommentStore, decision: Decision = PUBLISHED, *, days_ago: float = 0.0, article: str = "a1",
        author: str = "k1", body: str = "A fair point about the budget.") -> str:
    """A comment stored through the submit script as if it had arrived `days_ago` days ago."""
    ms = int((time.time() - days_ago * DAY) * 1000)
    comment_id = str(ULID.from_timestamp(ms / 1000))
    comment = NewComment(comment_id, iso_of_ms(ms), article, None, "Ann", "ann@example.com", author, body,
                         Origin("192.0.2.1", "UA", ""))
    return store.submit(comment, Assessment(0.99 if decision.status == "rejected" else 0.1, 0.1), decision,
                        "test-model").id


def test_a_comments_history_is_kept_in_its_hash_not_a_stream_of_its_own(store: CommentStore, redis: Redis) -> None:
    comment_id = add(store, HELD)
    store.claim("alice", "pending", 1, 300)
    store.decide(comment_id, "alice", "reject", "spam", "note with\nnew line and \"quotes\"", None)
    assert [e["event"] for e in store.history(comment_id)] == ["submitted", "claimed", "decided"]
    assert store.history(comment_id)[2]["note"] == "note with\nnew line and \"quotes\""
    assert not redis.exists(Keys().audit(comment_id))


def test_score_indexes_cost_nothing_until_a_site_asks_for_the_uncertain_order(store: CommentStore,
                                                                             redis: Redis) -> None:
    before = add(store, HELD)
    assert not any(redis.exists(key) for key in Keys().scored_queue_keys("pending"))
    store.ensure_queue_scores()
    after = add(store, HELD)
    spam_index = Keys().scored_queue_keys("pending")[0]
    assert [member.split(":")[1] for member in redis.zrange(spam_index, 0, -1)] == [before, after]


def test_machine_rejections_are_dropped_after_their_days_and_nothing_else_is(store: CommentStore,
                                                                             redis: Redis) -> None:
    old_machine = add(store, REJECTED, days_ago=31, author="spammer")
    old_human = add(store, HELD, days_ago=31)
    store.decide(old_human, "alice", "reject", "spam", None, None)
    old_pending = add(store, HELD, days_ago=40)
    old_published = add(store, PUBLISHED, days_ago=60)
    young_machine = add(store, REJECTED, days_ago=29)
    counters = dict(redis.hgetall(Keys().stats))
    assert Retention(store).drop_rejected() == 1
    assert store.get(old_machine) is None and not redis.exists(Keys().audit(old_machine))
    assert redis.zscore(Keys().queue("rejected"), old_machine) is None
    assert redis.zscore(Keys().all_comments, old_machine) is None
    assert redis.zcard(Keys().author_comments("spammer")) == 0
    for kept in (old_human, old_pending, old_published, young_machine):
        assert store.get(kept) is not None
    assert redis.hgetall(Keys().stats) == counters  # the decision statistics stay as they were
    assert Retention(store).drop_rejected() == 0


def test_events_are_trimmed_to_a_tail_without_subscriptions(store: CommentStore, redis: Redis) -> None:
    for _ in range(30):
        add(store)
    assert trim_events(redis, Keys(), tail=10) == 20
    assert redis.xlen(Keys().events) == 10
    assert trim_events(redis, Keys(), tail=10) == 0


def test_events_a_webhook_worker_has_not_taken_are_kept(store: CommentStore, redis: Redis) -> None:
    add_subscription(redis, Keys(), "https://hooks.example/moderation")
    ensure_group(redis, Keys())
    for _ in range(30):
        add(store)
    # A worker has read 20 and fanned out 15: five still pending, ten not read yet.
    read = redis.xreadgroup("webhooks", "w1", {Keys().events: ">"}, count=20)[0][1]
    redis.xack(Keys().events, "webhooks", *[entry_id for entry_id, _ in read[:15]])
    assert trim_events(redis, Keys(), tail=5) == 15
    assert redis.xrange(Keys().events)[0][0] == read[15][0]


def test_export_writes_the_slice_and_removes_only_what_no_moderator_needs(store: CommentStore, redis: Redis,
                                                                          tmp_path: Path) -> None:
    published = [add(store, PUBLISHED, days_ago=100, article="old-story") for _ in range(3)]
    waiting = add(store, HELD, days_ago=100, article="old-story")
    reported = add(store, PUBLISHED, days_ago=100, article="old-story")
    store.report(reported, "spam", "")
    add(store, PUBLISHED, days_ago=100, article="other-story")
    add(store, PUBLISHED, days_ago=1, article="old-story")
    path = tmp_path / "old-story.jsonl.gz"
    seen: list[int] = []
    report = Archive(store).export(Slice("old-story", None, 90), path, remove=True, progress=seen.append)
    lines = list(read_archive(path))
    assert {line["id"] for line in lines} == {*published, waiting, reported}
    assert all(line["history"][0]["event"] == "submitted" for line in lines)
    assert (report.written, report.removed, report.kept) == (5, 3, 2)
    for gone in published:
        assert store.get(gone) is None and redis.zscore(Keys().all_comments, gone) is None
    assert [r["id"] for r in store.published_page("old-story", None, 10)[0]] != []
    assert store.get(waiting) is not None and store.get(reported) is not None
    assert sum(seen) == 7 - 1  # every comment old enough was looked at


def test_a_comment_changed_after_it_was_read_for_export_stays(store: CommentStore) -> None:
    erased = add(store, PUBLISHED, author="to-erase")
    untouched = add(store, PUBLISHED, author="k2")
    archive = Archive(store)
    _, batch = next(archive.comments(Slice()))
    store.erase_author("to-erase", "root")  # after the export read it: its archived copy still has the name
    assert archive.remove(batch) == [untouched]
    assert store.get(erased) is not None and store.get(untouched) is None


def test_export_refuses_a_bad_slice_and_an_existing_file(redis: Redis, redis_url: str, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    store = CommentStore(redis, Keys())
    kept = add(store, PUBLISHED, days_ago=5)
    existing = tmp_path / "a.jsonl.gz"
    existing.write_bytes(b"keep me")
    with pytest.raises(SystemExit, match="exists"):
        main(["export", "-o", str(existing), "--remove", "--quiet"])
    with pytest.raises(SystemExit, match="must not be negative"):
        main(["export", "-o", str(tmp_path / "b.jsonl.gz"), "--older-than", "-1", "--quiet"])
    assert existing.read_bytes() == b"keep me" and store.get(kept) is not None
    main(["export", "-o", str(tmp_path / "c.jsonl.gz"), "--status", "published", "--quiet"])
    assert "1 comments written" in capsys.readouterr().out and store.get(kept) is not None


def test_migrate_brings_the_old_layout_to_todays(redis: Redis, redis_url: str, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """Comments as the previous version stored them: events in a stream per comment, an origins index."""
    monkeypatch.setenv("REDIS_URL", redis_url)
    keys = Keys()
    store = CommentStore(redis, keys)
    old_ids = []
    for n in range(3):
        comment_id = str(ULID.from_timestamp(time.time() - 3600 + n))
        fields = {"id": comment_id, "article_id": "a1", "parent_id": "", "name": "Ann", "email": "ann@example.com",
                  "website": "", "author_key": "k1", "body": "x" * 300, "ip": "192.0.2.1", "user_agent": "UA",
                  "referer": "", "created_at": "2026-11-30T10:00:00.000Z", "status": "published", "spam": "0.100000",
                  "abuse": "0.100000", "reasons": "[]", "reason_codes": "", "model_version": "m", "version": "1",
                  "reports": "0"}
        redis.hset(keys.comment(comment_id), mapping=fields)
        redis.xadd(keys.audit(comment_id), {"event": "submitted", "actor": "system", "at": fields["created_at"],
                                            "status": "published"})
        redis.zadd(keys.all_comments, {comment_id: 0})
        redis.zadd(keys.article_published("a1"), {comment_id: 0})
        redis.zadd(keys.origins, {comment_id: n})
        old_ids.append(comment_id)
    # Read as it is before migrating, and a report made now goes into the new place.
    assert [e["event"] for e in store.history(old_ids[0])] == ["submitted"]
    store.report(old_ids[0], "spam", "looks like an ad")
    assert [e["event"] for e in store.history(old_ids[0])] == ["submitted", "reported"]

    main(["migrate", "--quiet"])
    assert "3 comments: 3 histories moved" in capsys.readouterr().out
    assert [e["event"] for e in store.history(old_ids[0])] == ["submitted", "reported"]
    assert [e["event"] for e in store.history(old_ids[1])] == ["submitted"]
    assert not any(redis.exists(keys.audit(comment_id)) for comment_id in old_ids)
    assert not redis.exists(keys.origins)
    assert store.get(old_ids[1])["body"] == "x" * 300  # type: ignore[index]
    main(["migrate", "--quiet"])  # again: nothing left to do, nothing lost
    assert "0 histories moved" in capsys.readouterr().out
    assert [e["event"] for e in store.history(old_ids[0])] == ["submitted", "reported"]


# -- a Redis of our own, with the settings the store is sized for and a memory limit ----------------


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[str]:
    with EmbeddedRedis(tmp_path / "redis", persistent=False) as server:
        yield server.url


@pytest.fixture
def own_redis(own_server: str) -> Iterator[Redis]:
    client = connect(own_server, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def own_app(own_server: str, model: Scorer) -> Iterator[Flask]:
    app = create_app({"TESTING": True, "REDIS_URL": own_server, "SECRET_KEY": "k", "MODEL": model,
                      "RATE_LIMITS": "100/minute"})
    yield app
    close(app.extensions["moderation"].redis)


def test_a_stored_comment_takes_the_compact_encoding(own_app: Flask, own_redis: Redis) -> None:
    assert config_advice(own_redis) == []
    body = "A long and thoughtful comment about the council's housing plan. " * 20
    answer = own_app.test_client().post("/v1/comments", json={"article_id": "a1", "name": "Ann",
                                                             "email": "ann@example.org", "body": body})
    key = Keys().comment(answer.get_json()["id"])
    assert own_redis.object("encoding", key) in ("listpack", "ziplist")
    assert own_redis.memory_usage(key, samples=0) < 2 * len(body)


def test_a_full_redis_answers_503_and_stores_nothing(own_app: Flask, own_redis: Redis) -> None:
    client = own_app.test_client()
    comment = {"article_id": "a1", "name": "Ann", "email": "ann@example.org", "body": "A fine article, thanks."}
    assert client.post("/v1/comments", json=comment).status_code == 201
    own_redis.config_set("maxmemory", int(own_redis.info("memory")["used_memory"]) - 1024)
    keys_before = sorted(own_redis.scan_iter(count=1000))
    state = {key: own_redis.dump(key) for key in keys_before if not key.startswith("LIMITS")}
    for body in ("Another comment.", "And one more."):
        answer = client.post("/v1/comments", json={**comment, "body": body})
        assert answer.status_code == 503 and answer.headers["Retry-After"] == "60"
        assert "full" in json.loads(answer.get_data())["detail"]
    assert sorted(own_redis.scan_iter(count=1000)) == keys_before
    assert {key: own_redis.dump(key) for key in state} == state
    own_redis.config_set("maxmemory", 0)
    assert client.post("/v1/comments", json=comment).status_code == 201
