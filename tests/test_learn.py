"""`moderation learn`: what "better" means, the run record, one run at a time, the --every worker."""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from redis import Redis

from moderation import learn as learn_module
from moderation.comments import NewComment, Origin, new_comment_id
from moderation.decisions import Decision
from moderation.keys import Keys
from moderation.learn import MIN_PER_CLASS, Busy, Figures, Learner, LearnLock, judge, learn_once, prune, runs
from moderation.model.adaptation import adapt
from moderation.model.classifier import Classifier
from moderation.model.datasets import Example
from moderation.model.signals import NO_AUTHOR
from moderation.model.training import write_artifact
from moderation.policy import Assessment, Reason
from moderation.policy import Decision as CoreDecision
from moderation.policy_store import PolicyStore
from moderation.registry import ModelRegistry, UnknownModel
from moderation.store import CommentStore
from moderation_cli import duration, main

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


# -- whole runs against the real shipped model ------------------------------------------------------

# A site whose moderators reject name-calling the public sets treat as mild ("snowflake", "boomer",
# "sheeple"): the shipped model scores it low, the site's decisions say it is abuse.
TOPICS = ["the budget", "the new bus lanes", "the library hours", "the school catchment plan",
          "the bin collections", "the housing plan", "the park redesign", "the council tax rise",
          "the high street parking", "the flood defences"]
OPINIONS = ["I think {t} is a sensible compromise.", "Has anyone costed {t} properly?",
            "{T} deserves a proper debate.", "My street will feel {t} more than most.",
            "Good reporting on {t}, thank you.",
            "I'm not convinced {t} will last the winter.", "We discussed {t} at the residents' meeting last week.",
            "The figures on {t} look optimistic to me."]
NAME_CALLING = ["Typical snowflake.", "Ok boomer.", "Wake up, sheeple.", "Spoken like a true snowflake.",
                "Boomers like you ruined it."]


def site_text(rng: random.Random, rude: bool) -> str:
    topic = rng.choice(TOPICS)
    text = rng.choice(OPINIONS).format(t=topic, T=topic[0].upper() + topic[1:])
    return f"{text} {rng.choice(NAME_CALLING)}" if rude else text


def decided(store: CommentStore, text: str, held_out: bool, action: str) -> str:
    """A comment decided by a moderator, with an id chosen so that it lands in (or out of) the held-out fifth."""
    while True:
        comment_id, created_at = new_comment_id()
        if Decision("", None, None, comment_id=comment_id).held_out == held_out:
            break
    comment = NewComment(comment_id, created_at, "a1", None, "Reader", "reader@example.com", "k1", text,
                         Origin("192.0.2.1", "UA", ""))
    store.submit(comment, Assessment(0.1, 0.1), CoreDecision("pending", (Reason("new_author"),)), "test")
    store.decide(comment_id, "alice", action, "abuse" if action == "reject" else None, None, None)
    return comment_id


def make_site(store: CommentStore, seed: int, training: int, held_out: int, *, held_out_inverted: bool = False) -> None:
    """`training` and `held_out` decisions, half of each rejected as abuse for name-calling.

    With `held_out_inverted` the held-out fifth says the opposite of the rest (name-calling approved,
    plain comments rejected): whatever the training decisions teach makes the held-out figures worse.
    """
    rng = random.Random(seed)
    for count, is_held_out in ((training, False), (held_out, True)):
        for n in range(count):
            rude = n % 2 == 0
            rejected = rude != (is_held_out and held_out_inverted)
            decided(store, site_text(rng, rude), is_held_out, "reject" if rejected else "approve")


# A learn run adapts and scores with the real model (tens of seconds on a busy machine), and its Redis
# work (streams, the lock, the registry) runs on a cluster in the tests above: these run on one server.
one_server = pytest.mark.parametrize("redis_server", ["single"], indirect=True)


@pytest.fixture
def store(redis: Redis) -> CommentStore:
    return CommentStore(redis, Keys())


@pytest.fixture
def learner(store: CommentStore, tmp_path: Path, model: Classifier) -> Learner:
    registry = ModelRegistry(store.redis, store.keys, tmp_path / "cache")
    return Learner(store, registry, model, PolicyStore(store.redis, store.keys).load, actor="learn:test")


@one_server
def test_a_better_model_is_promoted_and_the_run_recorded(learner: Learner, store: CommentStore) -> None:
    make_site(store, 1, training=160, held_out=40)
    run = learn_once(learner, store.redis, store.keys)
    assert run["verdict"] == "promoted", run["why"]
    assert learner.registry.pointers() == (run["candidate"], None)
    assert run["live"] == learner.base.version and run["base"] == learner.base.version
    assert run["training_decisions"] == 160 and run["held_out_decisions"] == 40
    assert run["decisions"]["held_out"]["abuse"] == {"positive": 20, "negative": 20}
    live, candidate = run["figures"]["live"], run["figures"]["candidate"]
    assert candidate["abuse_auc"] > live["abuse_auc"] + 0.1
    assert candidate["spam_auc"] is None and run["judged_heads"] == ["abuse"]  # no spam decision: not judged
    assert candidate["identity_fpr"] <= live["identity_fpr"]
    assert runs(store.redis, store.keys) == [run]
    metadata = learner.registry.metadata(run["candidate"])
    assert metadata["base"] == learner.base.version and metadata["decisions"] == 160
    audit = [fields for _, fields in store.redis.xrange(store.keys.policy_audit)]
    assert [(e["event"], e["actor"], e["version"]) for e in audit] == [("model_promote", "learn:test",
                                                                         run["candidate"])]

    # With no new decision the next run has nothing to judge: no new version, nothing moves.
    again = learn_once(learner, store.redis, store.keys)
    assert again["verdict"] == "unchanged" and "candidate" not in again
    assert learner.registry.pointers() == (run["candidate"], None) and len(learner.registry.versions()) == 1


@one_server
def test_a_worse_model_stays_in_shadow_and_says_why(learner: Learner, store: CommentStore) -> None:
    make_site(store, 2, training=160, held_out=40, held_out_inverted=True)
    run = learn_once(learner, store.redis, store.keys)
    assert run["verdict"] == "shadow"
    assert learner.registry.pointers() == (None, run["candidate"])  # the shipped model stays live
    assert run["figures"]["candidate"]["abuse_auc"] < run["figures"]["live"]["abuse_auc"]
    assert any(why.startswith("held-out AUC") and "a promotion needs" in why for why in run["why"])
    assert any(why.startswith("the abuse head's held-out AUC falls") for why in run["why"])
    assert runs(store.redis, store.keys)[0]["verdict"] == "shadow"


@one_server
def test_the_command_with_too_few_held_out_decisions_to_judge(store: CommentStore, redis_url: str, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("MODERATION_DATA_DIR", str(tmp_path))
    make_site(store, 3, training=60, held_out=8)
    with LearnLock(store.redis, store.keys), pytest.raises(SystemExit) as busy:
        main(["learn"])
    assert busy.value.code == 75 and "another learn run holds the lock" in capsys.readouterr().err
    main(["learn"])
    printed = capsys.readouterr().out
    run = runs(store.redis, store.keys)[0]
    assert run["verdict"] == "shadow" and run["judged_heads"] == []
    assert ModelRegistry(store.redis, store.keys).pointers() == (None, run["candidate"])
    assert printed.startswith(f"learn {run['at']}: shadow {run['candidate']}")
    assert "decisions: 60 to learn from (spam 0+/60-, abuse 30+/30-), 8 held out (spam 0+/8-, abuse 4+/4-)" in printed
    assert ("why: too few held-out decisions to judge (spam 0 positive / 8 negative, abuse 4 positive / 4 negative): "
            "a head needs 10 of each class") in printed
    assert "held-out abuse AUC" in printed and "identity-term FPR" in printed


def test_nothing_to_learn_from_is_recorded_as_skipped(learner: Learner, store: CommentStore) -> None:
    run = learn_once(learner, store.redis, store.keys)
    assert run["verdict"] == "skipped" and "nothing to learn from yet" in run["why"][0]
    assert "candidate" not in run and learner.registry.versions() == []
    assert runs(store.redis, store.keys) == [run]


# -- the worker --------------------------------------------------------------------------------------


def start_worker(redis_url: str, data_dir: Path, every: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "moderation_cli", "learn", "--every", every, "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env={**os.environ, "REDIS_URL": redis_url, "MODERATION_DATA_DIR": str(data_dir)})


def stop_worker(worker: subprocess.Popen[str]) -> list[dict[str, Any]]:
    """SIGTERM, then the runs it printed; it must exit cleanly and soon."""
    worker.send_signal(signal.SIGTERM)
    try:
        out, _ = worker.communicate(timeout=60)
    finally:
        worker.kill()
    assert worker.returncode == 0
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@one_server
def test_two_workers_take_turns_and_never_run_at_once(store: CommentStore, redis_url: str, tmp_path: Path) -> None:
    make_site(store, 4, training=60, held_out=8)
    workers = [start_worker(redis_url, tmp_path, "1s") for _ in range(2)]
    try:
        wait_for(lambda: len(runs(store.redis, store.keys)) >= 4, 300, "four learn runs")
    finally:
        printed = [stop_worker(worker) for worker in workers]
    recorded = sorted(runs(store.redis, store.keys), key=lambda run: run["at"])
    assert sorted(run["at"] for runs_of_one in printed for run in runs_of_one) == [run["at"] for run in recorded]
    # The first run learns; the rest find no new decision. Never two at once, and one per interval
    # whichever worker runs it.
    assert recorded[0]["verdict"] == "shadow" and {run["verdict"] for run in recorded[1:]} == {"unchanged"}
    for earlier, later in itertools.pairwise(recorded):
        assert earlier["finished_at"] <= later["at"]
        gap = datetime.fromisoformat(later["at"]) - datetime.fromisoformat(earlier["at"])
        assert gap.total_seconds() >= 1.0
    assert store.redis.get(store.keys.learn_lock) is None  # released on the way out


@one_server
def test_sigterm_during_a_run_stops_the_worker_before_it_changes_anything(store: CommentStore, redis_url: str,
                                                                          tmp_path: Path) -> None:
    make_site(store, 5, training=160, held_out=40)
    worker = start_worker(redis_url, tmp_path, "24h")
    try:
        wait_for(lambda: bool(store.redis.get(store.keys.learn_lock)), 120, "the worker to take the lock")
    finally:
        printed = stop_worker(worker)
    assert printed == [] and runs(store.redis, store.keys) == []
    assert ModelRegistry(store.redis, store.keys).versions() == []
    assert store.redis.get(store.keys.learn_lock) is None


def test_old_learned_versions_are_forgotten_but_never_live_shadow_or_recent_rollbacks(
    store: CommentStore, model: Classifier, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(learn_module, "KEEP_LEARNED", 1)
    monkeypatch.setattr(learn_module, "KEEP_ROLLBACKS", 1)
    registry = ModelRegistry(store.redis, store.keys, tmp_path / "cache")
    # Too few decisions to move a head: the shipped weights, written as a learned version (a new
    # version each second, as the artifact's bytes carry the time).
    weights, _ = adapt(model, [Example("A fine comment.", "site", 0, 0, NO_AUTHOR)])

    def learned_version() -> str:
        time.sleep(1.1)
        path = tmp_path / f"{time.time_ns()}" / f"{learn_module.ADAPTED_NAME}.skops"
        write_artifact(weights, path, {"base": model.version})
        return registry.register(path)

    v1, v2, v3, v4 = (learned_version() for _ in range(4))
    registry.promote(v1, "t")
    registry.promote(v2, "t")
    registry.set_shadow(v3, "t")
    assert prune(registry, "t") == []  # v2 live, v3 shadow, v1 the rollback target, v4 the newest
    assert registry.forget(v2, "t") is False and registry.forget(v3, "t") is False

    registry.promote(v4, "t")  # rollbacks now reach v2, then v1
    v5 = learned_version()
    assert prune(registry, "t") == [v1]  # past the last rollback target, and not the newest
    assert [entry["version"] for entry in registry.versions()] == [v2, v3, v4, v5]
    assert registry.history() == [v2]
    with pytest.raises(UnknownModel):
        registry.metadata(v1)
    assert registry.rollback("t") == v2 and registry.rollback("t") is None  # v1 is gone: back to the shipped model
    events = [fields["event"] for _, fields in store.redis.xrange(store.keys.policy_audit)]
    assert events.count("model_forget") == 1
