"""The `uncertain` queue order: scores nearest the hold thresholds first, kept by the store's own scripts."""

from __future__ import annotations

import random
import threading

import pytest
from flask.testing import FlaskClient
from redis import Redis

from moderation import store as store_module
from moderation.comments import NewComment, Origin, new_comment_id
from moderation.intake import Scorer
from moderation.keys import Keys
from moderation.learn import uncertainty
from moderation.policy import Assessment, Decision, Policy, Reason
from moderation.policy_store import PolicyStore
from moderation.rescore import Rescorer
from moderation.store import CommentStore

HELD = Decision("pending", (Reason("new_author"),))
PUBLISHED = Decision("published")
SPAM = "WIN a FREE iPhone!!! Click http://bit.ly/free-prize now to claim your cash prize, text WIN to 80086"
POLICY = Policy(spam_hold=0.3, abuse_hold=0.7, spam_reject=0.99, abuse_reject=0.99)


@pytest.fixture
def store(redis: Redis) -> CommentStore:
    return CommentStore(redis, Keys())


def add(store: CommentStore, spam: float, abuse: float, decision: Decision = HELD, body: str = "body text") -> str:
    comment_id, created_at = new_comment_id()
    comment = NewComment(comment_id, created_at, "a1", None, "Ann", "ann@example.com", "k1", body,
                         Origin("192.0.2.1", "UA", ""))
    return store.submit(comment, Assessment(spam, abuse), decision, "test-model").id


def expected(store: CommentStore, queue: str, policy: Policy = POLICY) -> list[str]:
    """The order `uncertainty` defines over what the queue holds: most uncertain first, then oldest."""
    records = store.get_many(store.redis.zrange(store.keys.queue(queue), 0, -1))  # type: ignore[arg-type]
    ranked = sorted(records, key=lambda r: (-uncertainty(float(r["spam"]), float(r["abuse"]), policy), r["id"]))
    return [r["id"] for r in ranked]


def walk(store: CommentStore, queue: str, page: int, policy: Policy = POLICY, **filters: str) -> list[str]:
    """Every item of the queue in uncertain order, read `page` at a time through the cursors."""
    seen: list[str] = []
    cursor = None
    while True:
        records, cursor = store.queue_page(queue, cursor, page, sort="uncertain", policy=policy, **filters)
        seen += [r["id"] for r in records]
        if cursor is None:
            return seen


def test_uncertainty_is_one_at_a_threshold_and_falls_away_from_it() -> None:
    assert uncertainty(0.3, 0.0, POLICY) == 1.0
    assert uncertainty(0.0, 0.7, POLICY) == 1.0
    assert uncertainty(0.35, 0.0, POLICY) == pytest.approx(0.95)
    # The nearer head counts: abuse 0.69 is 0.01 from its threshold, whatever spam says.
    assert uncertainty(0.99, 0.69, POLICY) == pytest.approx(0.99)
    assert uncertainty(0.31, 0.1, POLICY) > uncertainty(0.25, 0.1, POLICY) > uncertainty(0.9, 0.1, POLICY)


def test_pages_follow_uncertainty_through_ties_and_both_sides_of_each_threshold(store: CommentStore) -> None:
    rng = random.Random(7)
    for _ in range(150):
        add(store, round(rng.random(), 6), round(rng.random(), 6))
    # Large groups of equal scores, on both sides of each threshold, and equal distances on both sides
    # (0.25 and 0.35 are both 0.05 from spam's 0.3): ties must go oldest first across page boundaries.
    for spam, abuse in ((0.25, 0.0), (0.35, 0.0), (0.0, 0.65), (0.0, 0.75), (0.3, 0.7), (0.1, 0.2)):
        for _ in range(120):
            add(store, spam, abuse)
    order = expected(store, "pending")
    assert walk(store, "pending", 1000) == order
    assert walk(store, "pending", 7) == order
    assert walk(store, "pending", 7, Policy()) == expected(store, "pending", Policy())


def test_claims_take_the_nearest_free_items_and_two_moderators_never_share_one(store: CommentStore) -> None:
    rng = random.Random(3)
    for _ in range(200):
        add(store, round(rng.random(), 6), round(rng.random(), 6))
    order = expected(store, "pending")
    first = store.claim("alice", "pending", 10, 60, sort="uncertain", policy=POLICY)
    assert first == order[:10]
    # Alice's items are leased: Bob's claim passes over them to the next nearest.
    assert store.claim("bob", "pending", 10, 60, sort="uncertain", policy=POLICY) == order[10:20]

    results: dict[str, list[str]] = {}
    barrier = threading.Barrier(3)

    def grab(name: str) -> None:
        barrier.wait()
        results[name] = store.claim(name, "pending", 70, 60, sort="uncertain", policy=POLICY)

    threads = [threading.Thread(target=grab, args=(n,)) for n in ("carol", "dan", "erin")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    claimed = [i for ids in results.values() for i in ids]
    assert len(claimed) == 180 and set(claimed) == set(order[20:])


def test_the_order_follows_decisions_reports_and_rescores(store: CommentStore, model: Scorer) -> None:
    housing, prize = "Thanks for a balanced piece on the housing plan.", SPAM
    near, middle, far = add(store, 0.31, 0.0), add(store, 0.4, 0.0, body=prize), add(store, 0.9, 0.0, body=housing)
    assert walk(store, "pending", 10) == [near, middle, far]
    store.decide(near, "alice", "approve", None, None, None)
    assert walk(store, "pending", 10) == [middle, far]
    assert store.claim("bob", "pending", 1, 60, sort="uncertain", policy=POLICY) == [middle]

    # A published comment that readers report enters the reported queue's order with its scores.
    shown = [add(store, spam, 0.0, PUBLISHED, body=body)
             for spam, body in ((0.95, housing), (0.29, prize), (0.5, prize))]
    for comment_id in shown:
        store.report(comment_id, "spam", "")
    assert walk(store, "reported", 10) == [shown[1], shown[2], shown[0]]
    store.decide(shown[2], "alice", "approve", None, None, None)  # approving a reported comment clears it
    assert walk(store, "reported", 10) == [shown[1], shown[0]]

    # The real model rescores them: the housing comment's spam score falls nearer the threshold, the
    # prize's rises far above it, and both queues' orders turn round.
    Rescorer(store, model, Policy(hold_new_authors=False, spam_hold=0.3, spam_reject=1.0), job="j").run()  # type: ignore[arg-type]
    assert walk(store, "pending", 10) == [far, middle] == expected(store, "pending")
    assert walk(store, "reported", 10) == [shown[0], shown[1]] == expected(store, "reported")


def test_items_queued_before_the_indexes_existed_are_indexed_once(store: CommentStore, redis: Redis) -> None:
    ids = [add(store, spam, 0.0) for spam in (0.9, 0.31, 0.6)]
    keys = Keys()
    redis.delete(*keys.scored_queue_keys("pending"), keys.queue_scores_built)  # as before this version
    fresh = CommentStore(redis, keys)
    assert walk(fresh, "pending", 2) == [ids[1], ids[2], ids[0]]
    assert redis.exists(keys.queue_scores_built)


def test_filters_and_scan_limits_hand_back_a_cursor(store: CommentStore, monkeypatch: pytest.MonkeyPatch) -> None:
    scan_limit = 300
    monkeypatch.setattr(store_module, "SCAN_LIMIT", scan_limit)
    wanted = add(store, 0.9, 0.0, body="far away")
    for _ in range(scan_limit + 10):
        add(store, 0.3, 0.7)
    add(store, 0.95, 0.0)
    records, cursor = store.queue_page("pending", None, 5, sort="uncertain", policy=POLICY, reason="spam")
    assert records == [] and cursor is not None  # nothing held for spam in the first SCAN_LIMIT: go on
    records, cursor = store.queue_page("pending", None, 5, sort="uncertain", policy=POLICY, article_id="a1")
    assert len(records) == 5 and cursor is not None
    seen = walk(store, "pending", 200)
    assert seen[-2] == wanted and len(seen) == scan_limit + 12 and seen == expected(store, "pending")


def test_the_api_serves_and_claims_in_uncertain_order(client: FlaskClient, moderator: dict[str, str],
                                                      redis: Redis, store: CommentStore) -> None:
    PolicyStore(redis, Keys()).update({"spam_hold": 0.3, "abuse_hold": 0.7}, "test")
    ids = [add(store, spam, 0.0) for spam in (0.9, 0.31, 0.6, 0.29)]
    response = client.get("/v1/review/queue?sort=uncertain&limit=2", headers=moderator)
    assert response.status_code == 200
    page = response.get_json()
    assert [item["id"] for item in page["items"]] == [ids[1], ids[3]]
    rest = client.get(f"/v1/review/queue?sort=uncertain&cursor={page['next_cursor']}", headers=moderator).get_json()
    assert [item["id"] for item in rest["items"]] == [ids[2], ids[0]] and rest["next_cursor"] is None
    oldest = client.get("/v1/review/queue", headers=moderator).get_json()
    assert [item["id"] for item in oldest["items"]] == ids

    claimed = client.post("/v1/review/claim", json={"limit": 1, "sort": "uncertain"}, headers=moderator).get_json()
    assert [item["id"] for item in claimed["items"]] == [ids[1]]

    for query in ("sort=newest", "sort=uncertain&queue=approved", f"sort=uncertain&cursor={ids[0]}",
                  f"cursor={page['next_cursor']}"):
        response = client.get(f"/v1/review/queue?{query}", headers=moderator)
        assert response.status_code == 422, query
        assert response.mimetype == "application/problem+json"
    response = client.post("/v1/review/claim", json={"sort": "uncertain", "queue": "rejected"}, headers=moderator)
    assert response.status_code == 422
