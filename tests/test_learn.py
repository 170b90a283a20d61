"""`moderation learn`: what "better" means, the run record, one run at a time, the --every worker."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest
from redis import Redis

from moderation.keys import Keys
from moderation.learn import MIN_PER_CLASS, Busy, Figures, LearnLock, judge
from moderation_cli import duration

ENOUGH = {"spam": {"positive": MIN_PER_CLASS, "negative": 40}, "abuse": {"positive": 25, "negative": 40}}


def figures(spam: float | None, abuse: float | None, fpr: float = 0.01, identity_auc: float = 0.95) -> Figures:
    return Figures("v", {"spam": spam, "abuse": abuse}, fpr, identity_auc)


# -- what "better" means -----------------------------------------------------------------------------


def test_better_on_the_judged_heads_and_no_worse_on_identity_promotes() -> None:
    verdict = judge(figures(0.80, 0.62), figures(0.81, 0.72), ENOUGH)
    assert verdict.promote and verdict.judged_heads == ["spam", "abuse"]
    assert "0.765 against the live model's 0.710 (+0.055)" in verdict.why[0]


def test_a_gain_below_the_margin_is_not_better() -> None:
    verdict = judge(figures(0.80, 0.70), figures(0.80, 0.704), ENOUGH)
    assert not verdict.promote and "needs +0.005" in verdict.why[0]


def test_one_head_falling_blocks_a_better_mean() -> None:
    verdict = judge(figures(0.90, 0.60), figures(0.85, 0.75), ENOUGH)
    assert not verdict.promote and verdict.why == ["the spam head's held-out AUC falls from 0.900 to 0.850"]


def test_identity_false_positives_may_not_rise_at_all() -> None:
    verdict = judge(figures(0.80, 0.62, fpr=0.0125), figures(0.85, 0.75, fpr=0.0130), ENOUGH)
    assert not verdict.promote and verdict.why == ["identity-term false positives rise from 1.2% to 1.3%"]
    worse_ranking = judge(figures(0.80, 0.62, identity_auc=0.97), figures(0.85, 0.75, identity_auc=0.90), ENOUGH)
    assert not worse_ranking.promote and "identity-term AUC falls from 0.970 to 0.900" in worse_ranking.why


def test_a_head_with_too_few_held_out_decisions_is_not_judged() -> None:
    few_spam = {"spam": {"positive": MIN_PER_CLASS - 1, "negative": 40}, "abuse": {"positive": 25, "negative": 40}}
    # Spam would block (it falls), but nine spam decisions cannot say so: abuse alone is judged.
    verdict = judge(figures(0.90, 0.60), figures(0.70, 0.75), few_spam)
    assert verdict.promote and verdict.judged_heads == ["abuse"]
    none = {"spam": {"positive": 0, "negative": 80}, "abuse": {"positive": 3, "negative": 77}}
    verdict = judge(figures(None, 0.60), figures(None, 0.95), none)
    assert not verdict.promote and verdict.judged_heads == []
    assert verdict.why[0].startswith("too few held-out decisions to judge (spam 0 positive / 80 negative")


def test_durations() -> None:
    assert [duration(text) for text in ("24h", "30m", "90s", "1d", "0.5s", "12")] == [86400, 1800, 90, 86400, 0.5, 12]
    for bad in ("", "0s", "soon", "-1h", "5w"):
        with pytest.raises(Exception, match="not a duration"):
            duration(bad)


# -- one run at a time -------------------------------------------------------------------------------


def test_one_holder_at_a_time_and_only_the_holder_releases(redis: Redis) -> None:
    keys = Keys()
    first = LearnLock(redis, keys, ttl=5)
    with first:
        with pytest.raises(Busy), LearnLock(redis, keys, ttl=5):
            pass
        token = redis.get(keys.learn_lock)
        # The first holder stalls past its TTL and a second worker takes the lock ...
        redis.delete(keys.learn_lock)
        second = LearnLock(redis, keys, ttl=5).__enter__()
        assert not first.held()
    # ... so the first one's release leaves the second one's lock alone.
    assert redis.get(keys.learn_lock) not in (None, token)
    assert second.held()
    second.__exit__(None, None, None)
    assert redis.get(keys.learn_lock) is None


def test_the_lock_is_renewed_while_the_run_lasts(redis: Redis) -> None:
    keys = Keys()
    with LearnLock(redis, keys, ttl=0.6) as lock:
        time.sleep(1.5)  # well past the TTL: only renewal keeps it
        assert lock.held() and 0 < int(redis.pttl(keys.learn_lock)) <= 600
        with pytest.raises(Busy), LearnLock(redis, keys, ttl=0.6):
            pass
    assert redis.get(keys.learn_lock) is None


HOLDER = """
import sys, time
from moderation.keys import Keys
from moderation.learn import LearnLock
from moderation.redis_client import from_environment
lock = LearnLock(from_environment(), Keys(), ttl=float(sys.argv[1])).__enter__()
print("held", flush=True)
time.sleep(600)
"""


def test_a_crashed_holders_lock_expires(redis: Redis, redis_url: str) -> None:
    ttl = 1.5
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(ttl)], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "REDIS_URL": redis_url})
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        time.sleep(ttl)  # the holder is alive and renews: the lock outlives its TTL
        with pytest.raises(Busy), LearnLock(redis, Keys()):
            pass
        holder.kill()  # SIGKILL: no release, no cleanup
        holder.wait(5)
        killed = time.monotonic()
        with pytest.raises(Busy), LearnLock(redis, Keys()):
            pass
        while True:
            try:
                with LearnLock(redis, Keys()):
                    break
            except Busy:
                assert time.monotonic() - killed < ttl + 1, "the dead holder's lock did not expire"
                time.sleep(0.05)
    finally:
        holder.kill()
        holder.wait(5)
        if holder.stdout is not None:
            holder.stdout.close()


def test_threads_racing_for_the_lock_never_hold_it_together(redis: Redis) -> None:
    keys = Keys()
    holding: list[int] = []
    most = [0]
    guard = threading.Lock()
    barrier = threading.Barrier(6)

    def worker() -> None:
        barrier.wait()
        for _ in range(20):
            try:
                with LearnLock(redis, keys, ttl=2):
                    with guard:
                        holding.append(1)
                        most[0] = max(most[0], len(holding))
                    time.sleep(0.005)
                    with guard:
                        holding.pop()
            except Busy:
                time.sleep(0.001)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 1
