"""Posting limits counted with intake's early reads: fixed windows, the nearest limit reported, refusals."""

from __future__ import annotations

import time

from redis import Redis

from moderation.keys import Keys
from moderation.rate_limits import COUNT_HITS, PostingLimits, email_identity, ip_identity, parse
from moderation.redis_client import EarlyReads


def count(redis: Redis, limits: PostingLimits, *identities: str) -> list[int]:
    # On a cluster (the fixture's second Redis) EarlyReads runs them as a pipeline: both paths are tested.
    reads = EarlyReads(redis)
    reads.get("unrelated")  # counters ride along with intake's reads
    reads.eval(COUNT_HITS, *limits.counters(identities))
    reads.send()
    replies = reads.replies()
    assert replies[0] is None
    return [int(value) for value in replies[1]]


def test_each_identity_counts_against_each_limit_in_its_own_window(redis: Redis) -> None:
    limits = PostingLimits(parse("2/minute;5/day"), Keys())
    ip, email = ip_identity("203.0.113.9"), email_identity(" Ann@Example.com ")
    assert email == email_identity("ann@example.com")  # the address as typed does not dodge its limit
    first = count(redis, limits, ip, email)
    assert first[0::2] == [1, 1, 1, 1]
    windows = first[1::2]
    assert 59_000 < windows[0] <= 60_000 and 86_399_000 < windows[1] <= 86_400_000
    state = limits.state(first)
    assert state is not None and not state.refused and (state.amount, state.remaining) == (2, 1)
    count(redis, limits, ip, email_identity("other@example.com"))
    third = limits.state(count(redis, limits, ip, email_identity("third@example.com")))
    # The IP address is over its minute; every email is within its limits: refused, for a minute at most.
    assert third is not None and third.refused and third.limit == "2 per 1 minute" and third.remaining == 0
    assert 0 < third.retry_after <= 60 and third.reset_at <= time.time() + 60
    # No counter outlives its window, and none holds an address.
    counters = list(redis.scan_iter(match=Keys().prefix + "rate:post:*"))
    assert len(counters) == 8 and all(0 < redis.pttl(key) <= 86_400_000 for key in counters)
    assert not any("example.com" in key for key in counters)


def test_a_counter_that_lost_its_expiry_gets_one_back(redis: Redis) -> None:
    limits = PostingLimits(parse("3/minute"), Keys())
    (key,), _ = limits.counters((ip_identity("198.51.100.1"),))
    redis.set(key, 1)  # as if written without one
    hits, left = count(redis, limits, ip_identity("198.51.100.1"))
    assert hits == 2 and 0 < redis.pttl(key) <= 60_000 and left == 60_000


def test_no_limits_count_nothing(redis: Redis) -> None:
    assert parse("off") == () and parse(" OFF ") == ()
    assert PostingLimits((), Keys()).state([]) is None
