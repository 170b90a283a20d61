"""The learning loop: adapt the shipped model to the site's decisions, judge it, promote only a better one.

One run (`moderation learn`): the site's trainable decisions outside the held-out fifth adapt the
shipped model (never an earlier adapted version, so adaptations do not compound); the new version is
written and registered, then compared with the live one on the held-out decisions and on the
identity-term templates. It is promoted when `judge` finds it better, else left in shadow, and the
run is recorded in a capped stream. `run_every` repeats it on whichever worker holds the lock.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from statistics import fmean
from typing import Any, cast

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import LockError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.lock import Lock

from moderation import compare
from moderation.comments import now_iso
from moderation.decisions import Decision, all_decisions, training_examples
from moderation.keys import HEADS, Keys
from moderation.policy import Policy
from moderation.registry import ModelRegistry
from moderation.store import SCORE_UNIT, CommentStore, millionths

log = logging.getLogger(__name__)

# What "better" means. A head is judged on the held-out decisions only when they hold at least
# MIN_PER_CLASS of each class for it: with fewer, one decision more or less moves its AUC by more
# than the margins below. With no head judged, the candidate is never promoted ("too few").
MIN_PER_CLASS = 10
# The candidate's mean AUC over the judged heads must beat the live model's by at least this ...
MIN_GAIN = 0.005
# ... with no judged head falling by more than this ...
MAX_HEAD_LOSS = 0.01
# ... and, on the identity-term templates at the policy's abuse hold threshold, a false-positive rate
# no higher than the live model's and an AUC no more than this below it.
IDENTITY_AUC_LOSS = 0.01
RUNS_MAXLEN = 1000
# The lock's time to live; the holder renews it every third of that while a run lasts, so a crashed
# holder's lock is free again within this long.
LOCK_TTL_SECONDS = 60.0
# A waiting worker looks again at least this often: another may have run meanwhile.
POLL_SECONDS = 60.0
# The name in each learned version's metadata.
ADAPTED_NAME = "site-adapted"
# Each learned version keeps its artifact (a few MB) in Redis: beyond the live and shadow versions and
# the last KEEP_ROLLBACKS a rollback can return to, only the KEEP_LEARNED newest are kept.
KEEP_LEARNED = 10
KEEP_ROLLBACKS = 5


def uncertainty(spam: float, abuse: float, policy: Policy) -> float:
    """How near a comment's nearer score lies to its hold threshold: 1.0 on a threshold, less further off.

    1 minus min(|spam - spam_hold|, |abuse - abuse_hold|), counted in the whole millionths the store
    keeps scores in. `sort=uncertain` serves a queue in descending order of it (ties oldest first): a
    moderator's decision on such a comment is the one the model was least sure of, so it teaches most.
    """
    distance = min(abs(millionths(spam) - millionths(policy.spam_hold)),
                   abs(millionths(abuse) - millionths(policy.abuse_hold)))
    return 1.0 - distance / SCORE_UNIT


# -- judging ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Figures:
    """One model on the held-out decisions (ROC AUC per head, None with one class) and the identity templates."""

    version: str
    auc: dict[str, float | None]
    identity_fpr: float
    identity_auc: float | None

    @property
    def mean_auc(self) -> float | None:
        known = [value for value in self.auc.values() if value is not None]
        return round(fmean(known), 4) if known else None

    def as_dict(self) -> dict[str, Any]:
        return {"version": self.version, **{f"{head}_auc": self.auc.get(head) for head in HEADS},
                "mean_auc": self.mean_auc, "identity_fpr": self.identity_fpr, "identity_auc": self.identity_auc}


@dataclass(frozen=True, slots=True)
class Judgement:
    promote: bool
    why: list[str]
    judged_heads: list[str]


def head_counts(decisions: Sequence[Decision]) -> dict[str, dict[str, int]]:
    """Per head, how many decisions label it positive and negative."""
    counts = {head: {"positive": 0, "negative": 0} for head in HEADS}
    for decision in decisions:
        for head in HEADS:
            label = getattr(decision, head)
            if label is not None:
                counts[head]["positive" if label else "negative"] += 1
    return counts


def _describe(counts: dict[str, dict[str, int]]) -> str:
    return ", ".join(f"{head} {c['positive']} positive / {c['negative']} negative" for head, c in counts.items())


def judge(live: Figures, candidate: Figures, held_out: dict[str, dict[str, int]]) -> Judgement:
    """Whether the candidate is better than the live model, and why (see the constants above)."""
    judged = [head for head in HEADS
              if min(held_out[head].values()) >= MIN_PER_CLASS
              and live.auc.get(head) is not None and candidate.auc.get(head) is not None]
    if not judged:
        return Judgement(False, [f"too few held-out decisions to judge ({_describe(held_out)}): a head needs "
                                 f"{MIN_PER_CLASS} of each class"], judged)
    theirs = fmean(cast(float, live.auc[head]) for head in judged)
    ours = fmean(cast(float, candidate.auc[head]) for head in judged)
    gain = ours - theirs
    problems = []
    if gain < MIN_GAIN:
        problems.append(f"held-out AUC {ours:.3f} against the live model's {theirs:.3f} ({gain:+.3f}; "
                        f"a promotion needs +{MIN_GAIN})")
    for head in judged:
        before, after = cast(float, live.auc[head]), cast(float, candidate.auc[head])
        if after < before - MAX_HEAD_LOSS:
            problems.append(f"the {head} head's held-out AUC falls from {before:.3f} to {after:.3f}")
    if candidate.identity_fpr > live.identity_fpr:
        problems.append(f"identity-term false positives rise from {live.identity_fpr:.1%} to "
                        f"{candidate.identity_fpr:.1%}")
    if (live.identity_auc is not None and candidate.identity_auc is not None
            and candidate.identity_auc < live.identity_auc - IDENTITY_AUC_LOSS):
        problems.append(f"identity-term AUC falls from {live.identity_auc:.3f} to {candidate.identity_auc:.3f}")
    if problems:
        return Judgement(False, problems, judged)
    return Judgement(True, [f"held-out AUC {ours:.3f} against the live model's {theirs:.3f} ({gain:+.3f}) on "
                            f"{' and '.join(judged)}; identity-term false positives {candidate.identity_fpr:.1%} "
                            f"(live {live.identity_fpr:.1%})"], judged)


def figures(models: Sequence[compare.BatchModel], held_out: Sequence[Decision], policy: Policy) -> list[Figures]:
    """Each model's AUC on the held-out decisions and its identity-template figures at the abuse hold threshold."""
    from moderation.model.evaluation import identity_fairness

    on_decisions = compare.on_decisions(models, held_out, policy.language)
    found = []
    for model in models:
        aucs = on_decisions.get(model.version, {})
        fairness = identity_fairness(model, policy.abuse_hold, reference=None)["ours"]
        found.append(Figures(model.version, {head: aucs.get(f"{head}_auc") for head in HEADS},
                             float(fairness["fpr"]), fairness["auc"]))
    return found


# -- the record of runs ----------------------------------------------------------------------------


def record(redis: Redis, keys: Keys, run: dict[str, Any]) -> None:
    redis.xadd(keys.learn_runs, {"at": run["at"], "verdict": run["verdict"], "run": json.dumps(run)},
               maxlen=RUNS_MAXLEN, approximate=True)


def runs(redis: Redis, keys: Keys, count: int = 100) -> list[dict[str, Any]]:
    """The recorded runs, newest first."""
    entries = cast(list[tuple[str, dict[str, str]]], redis.xrevrange(keys.learn_runs, count=count))
    return [json.loads(fields["run"]) for _, fields in entries]


def learning_curve(recorded: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per judged run, oldest first: training decisions, and the candidate's and live model's held-out AUC."""
    points = []
    for run in reversed(recorded):
        candidate = run.get("figures", {}).get("candidate", {})
        if candidate.get("mean_auc") is None:
            continue
        points.append({"at": run["at"], "decisions": run["training_decisions"], "verdict": run["verdict"],
                       "candidate": candidate["mean_auc"], "live": run["figures"]["live"].get("mean_auc"),
                       "version": candidate.get("version")})
    return points


# -- one run ---------------------------------------------------------------------------------------


def decisions_digest(decisions: Sequence[Decision]) -> str:
    """Changes whenever a decision is added, removed or relabelled."""
    lines = sorted(f"{d.comment_id or d.text}\t{d.spam}\t{d.abuse}" for d in decisions)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


def prune(registry: ModelRegistry, actor: str) -> list[str]:
    """Forget learned versions past KEEP_LEARNED that are not live, shadow or a recent rollback target."""
    live, shadow = registry.pointers()
    keep = {live, shadow, *registry.history()[:KEEP_ROLLBACKS]}
    learned = [entry["version"] for entry in registry.versions()
               if registry.metadata(entry["version"]).get("name") == ADAPTED_NAME]
    keep.update(learned[-KEEP_LEARNED:])
    return [version for version in learned if version not in keep and registry.forget(version, actor)]


def worker_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class Interrupted(Exception):
    """The worker was asked to stop, or lost its lock, before the run changed anything."""


@dataclass
class Learner:
    """Adapts `base` (the shipped model) to the site's decisions and judges the result against the live model."""

    store: CommentStore
    registry: ModelRegistry
    base: Any
    policy_of: Callable[[], Policy]
    actor: str = "learn"

    def run(self, carry_on: Callable[[], bool] = lambda: True) -> dict[str, Any]:
        """One learning run, recorded and returned; `carry_on()` is asked before each step that changes anything."""
        started, clock = now_iso(), time.monotonic()
        run: dict[str, Any] = {"at": started, "worker": worker_name(), "base": self.base.version}
        try:
            self._run(run, carry_on)
        except Interrupted:
            raise
        except Exception as error:
            log.exception("learn: the run failed")
            run.update(verdict="failed", why=[f"{type(error).__name__}: {error}"])
        run["seconds"] = round(time.monotonic() - clock, 1)
        run["finished_at"] = now_iso()
        record(self.store.redis, self.store.keys, run)
        return run

    def _run(self, run: dict[str, Any], carry_on: Callable[[], bool]) -> None:
        from moderation.model.adaptation import adapt
        from moderation.model.classifier import Classifier
        from moderation.model.training import write_artifact

        decisions = [d for d in all_decisions(self.store) if d.trainable]
        training = [d for d in decisions if not d.held_out]
        held_out = [d for d in decisions if d.held_out]
        counts = {"training": head_counts(training), "held_out": head_counts(held_out)}
        digest = decisions_digest(decisions)
        run.update(training_decisions=len(training), held_out_decisions=len(held_out), decisions=counts,
                   decisions_digest=digest)
        live_version = self.registry.pointers()[0]
        run["live"] = live_version or self.base.version
        if not any(min(c.values()) > 0 for c in counts["training"].values()):
            run.update(verdict="skipped", why=[f"nothing to learn from yet ({_describe(counts['training'])}): a head "
                                               "needs decisions of both classes"])
            return
        last = next((r for r in runs(self.store.redis, self.store.keys) if r.get("candidate")), None)
        if last and last.get("decisions_digest") == digest and last.get("base") == self.base.version:
            # The same decisions and base make the same model: judged already, and no new version is needed.
            run.update(verdict="unchanged", why=[f"no decision has changed since the run of {last['at']} "
                                                 f"({last['verdict']} {last['candidate']})"])
            return

        model, reports = adapt(self.base, training_examples(decisions, self.policy_of().language))
        run["adaptation"] = [asdict(report) for report in reports]
        if not carry_on():
            raise Interrupted
        with tempfile.TemporaryDirectory(prefix="moderation-learn-") as folder:
            path = Path(folder) / f"{ADAPTED_NAME}.skops"
            metadata = write_artifact(model, path, {"base": self.base.version, "decisions": len(training),
                                                    "site_decisions": counts["training"], "learned_at": run["at"],
                                                    "adaptation": run["adaptation"]})
            version = self.registry.register(path)  # loads the written artifact first: it is sound
        candidate = Classifier(model, metadata, version=version)
        run["candidate"] = candidate.version
        live = cast(compare.BatchModel, self.registry.load(live_version)) if live_version else self.base
        policy = self.policy_of()
        theirs, ours = figures([live, candidate], held_out, policy)
        run["figures"] = {"live": theirs.as_dict(), "candidate": ours.as_dict()}
        judgement = judge(theirs, ours, counts["held_out"])
        run.update(judged_heads=judgement.judged_heads, why=judgement.why)
        if not carry_on():
            raise Interrupted
        if judgement.promote:
            self.registry.promote(candidate.version, self.actor)
            shadow = self.registry.pointers()[1]
            if shadow and self.registry.metadata(shadow).get("name") == ADAPTED_NAME:
                self.registry.set_shadow(None, self.actor)  # an older candidate: it has lost to this one
            run["verdict"] = "promoted"
        else:
            self.registry.set_shadow(candidate.version, self.actor)
            run["verdict"] = "shadow"
        run["forgotten"] = prune(self.registry, self.actor)


# -- one run at a time -----------------------------------------------------------------------------


class Busy(Exception):
    """Another learn run holds the lock."""


class LearnLock:
    """The learn lock: a Redis key with a random token and a TTL, renewed while held, released only by its holder.

    redis-py's Lock sets it with SET NX PX and releases and renews it with scripts that check the
    token, so a holder that stalled past the TTL cannot release or renew a lock another has since taken.
    """

    def __init__(self, redis: Redis, keys: Keys, ttl: float = LOCK_TTL_SECONDS) -> None:
        # thread_local=False: the renewing thread must see the token the acquiring thread set.
        self.lock = Lock(redis, keys.learn_lock, timeout=ttl, blocking=False, thread_local=False)
        self.ttl = ttl
        self.lost = threading.Event()
        self._done = threading.Event()
        self._renewer: threading.Thread | None = None

    def __enter__(self) -> LearnLock:
        if not self.lock.acquire(blocking=False):
            raise Busy
        self._renewer = threading.Thread(target=self._renew, name="learn-lock", daemon=True)
        self._renewer.start()
        return self

    def _renew(self) -> None:
        while not self._done.wait(self.ttl / 3):
            try:
                self.lock.reacquire()
            except LockError:
                log.error("learn: lost the lock (held past its TTL, or taken over); this run will change nothing")
                self.lost.set()
                return
            except (RedisConnectionError, RedisTimeoutError) as error:
                log.warning("learn: could not renew the lock (%s); retrying", error)

    def held(self) -> bool:
        """Still ours: not lost, and the key still holds our token."""
        return not self.lost.is_set() and self.lock.owned()

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        if self._renewer is not None:
            self._renewer.join()
        # Expired, and perhaps taken by another worker: theirs now, not ours to release.
        with contextlib.suppress(LockError):
            self.lock.release()


def seconds_until_due(redis: Redis, keys: Keys, interval: float) -> float:
    """How long until a run is due: `interval` after the last recorded run started (0 with none)."""
    last = runs(redis, keys, 1)
    if not last:
        return 0.0
    started = datetime.fromisoformat(last[0]["at"]).timestamp()
    return max(0.0, started + interval - time.time())


def learn_once(learner: Learner, redis: Redis, keys: Keys, stop: threading.Event | None = None,
               ttl: float = LOCK_TTL_SECONDS) -> dict[str, Any]:
    """One run under the lock; raises Busy when another run holds it, Interrupted when asked to stop."""
    stop = stop or threading.Event()
    with LearnLock(redis, keys, ttl) as lock:
        return learner.run(lambda: lock.held() and not stop.is_set())


def run_every(interval: float, learner: Learner, redis: Redis, keys: Keys, stop: threading.Event,
              on_run: Callable[[dict[str, Any]], None] = lambda run: None, ttl: float = LOCK_TTL_SECONDS) -> None:
    """Run learn every `interval` seconds until `stop` is set, on whichever worker takes the lock when a run is due.

    Due means `interval` after the last recorded run began, whoever ran it, so several workers
    together run it once per interval, never two at once.
    """
    while not stop.is_set():
        try:
            wait = seconds_until_due(redis, keys, interval)
            if wait > 0:
                stop.wait(min(wait, POLL_SECONDS))
                continue
            with LearnLock(redis, keys, ttl) as lock:
                if seconds_until_due(redis, keys, interval) > 0:
                    continue  # another worker ran while this one waited
                on_run(learner.run(lambda: lock.held() and not stop.is_set()))
        except Busy:
            stop.wait(min(interval, POLL_SECONDS))
        except Interrupted:
            log.info("learn: stopped before the run changed anything")
        except (RedisConnectionError, RedisTimeoutError) as error:
            log.warning("learn: Redis unavailable (%s); retrying in 5 s", error)
            stop.wait(5.0)
