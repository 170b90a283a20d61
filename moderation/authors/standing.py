"""An author's standing: what a moderator set (normal, trusted, premoderated, suspended, banned), and what
their record says when no moderator has spoken since (the reputation rule).

A standing is kept per identity (the normalised email's key, see identity.py) in one hash, which also
holds what the reputation rule reads: when a moderator last rejected the author, and how many of
their comments were approved since. Intake reads that hash with one HMGET in the round trip it
already makes, so a standing costs intake no round trip of its own.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Literal, cast

from redis import Redis

from moderation.authors.identity import network_key, network_of
from moderation.comments import id_prefix, iso_of_ms, now_iso
from moderation.keys import Keys
from moderation.policy import Policy, Reason
from moderation.redis_client import ReadQueue
from moderation.store import EVENTS_MAXLEN, history_events, lua_script

State = Literal["normal", "trusted", "premoderated", "suspended", "banned"]
STATES: tuple[State, ...] = ("normal", "trusted", "premoderated", "suspended", "banned")
# The states only an admin may set: a ban shuts a reader out, trust lets their doubtful comments through.
ADMIN_STATES = frozenset({"banned", "trusted"})
REFUSING = frozenset({"banned", "suspended"})
# What intake reads of a standing, in this order (one HMGET).
FIELDS = ["state", "until", "until_ms", "reason", "message", "set_by", "set_at", "set_at_ms", "version",
          "last_rejected_ms", "approvals_since"]
# How long a network a banned or suspended author posted from marks a new address there as linked.
LINK_SECONDS = 24 * 3600
DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class Standing:
    """An author's standing as it applies now."""

    state: State = "normal"
    until: str | None = None
    reason: str | None = None
    message: str | None = None
    set_by: str | None = None
    set_at: str | None = None
    # True when the reputation rule, not a moderator, set it (reason author_record).
    automatic: bool = False
    version: int = 0

    @property
    def refuses(self) -> bool:
        return self.state in REFUSING

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def hold_reason(self) -> Reason | None:
        """The reason every comment of a premoderated author is held for, if they are."""
        if self.state != "premoderated":
            return None
        if self.automatic:
            return Reason("author_record", detail=self.reason or "")
        return Reason("author_premoderated", detail=self.reason or "")


NORMAL = Standing()


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def effective(values: list[Any], policy: Policy, now_ms: int | None = None) -> Standing:
    """The standing that applies now, from FIELDS' values: a moderator's, unless a suspension ran out;
    else the reputation rule's; else normal."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    found = dict(zip(FIELDS, values, strict=True))
    state = found["state"] or "normal"
    version = _int(found["version"])
    explicit = Standing(
        state=cast(State, state), until=found["until"] or None, reason=found["reason"] or None,
        message=found["message"] or None, set_by=found["set_by"] or None, set_at=found["set_at"] or None,
        version=version,
    )
    if state == "suspended" and _int(found["until_ms"]) <= now_ms:
        state = "normal"  # served: the record may still speak, for what happened after it was set
    elif state != "normal":
        return explicit
    window_ms = policy.reputation_window_days * DAY_MS
    rejected_ms = _int(found["last_rejected_ms"])
    recovered = 0 < policy.reputation_recovery_approvals <= _int(found["approvals_since"])
    if window_ms and rejected_ms and rejected_ms > now_ms - window_ms and rejected_ms > _int(found["set_at_ms"]) \
            and not recovered:
        return Standing(
            state="premoderated", until=iso_of_ms(rejected_ms + window_ms),
            reason=f"a moderator rejected a comment of theirs on {iso_of_ms(rejected_ms)[:10]}",
            set_by="system", set_at=iso_of_ms(rejected_ms), automatic=True, version=version,
        )
    if found["state"]:
        return Standing(version=version, set_by=explicit.set_by, set_at=explicit.set_at, reason=explicit.reason)
    return NORMAL if not version else Standing(version=version)


@dataclass(frozen=True, slots=True)
class StandingChange:
    """What a moderator asks for: a state, why, until when, what the author is told."""

    state: State
    reason: str = ""
    until: datetime | None = None
    message: str = ""
    note: str = ""
    reject_pending: bool = False
    version: int | None = None


@dataclass(frozen=True, slots=True)
class StandingConflict(Exception):
    """Another change came first (`why`: the version moved, or the author already has this standing)."""

    why: Literal["version", "same"]


@dataclass(frozen=True, slots=True)
class Changed:
    version: int
    rejected_pending: int


@dataclass(frozen=True, slots=True)
class Record:
    """What moderators decided on an author's comments within the reputation window."""

    approved: int
    rejected: int
    window_days: int


class Standings:
    """Standings, records and the networks of banned authors, in Redis."""

    def __init__(self, redis: Redis, keys: Keys | None = None) -> None:
        self.redis = redis
        self.keys = keys or Keys()
        self._set = redis.register_script(lua_script("standing.lua", "queue_scores.lua", "history.lua"))

    # -- intake ---------------------------------------------------------------------------------

    def queue_read(self, pipe: ReadQueue, identity: str, network_key: str) -> int:
        """Add what intake needs to `pipe`: the standing's fields and the network's link; returns how many."""
        pipe.hmget(self.keys.standing(identity), FIELDS)
        pipe.get(self.keys.linked_network(network_key or "-"))
        return 2

    def remember_network(self, network_key: str, identity: str, author_key: str) -> None:
        """A refused author posted from this network: mark it for a day (see linked_author)."""
        if network_key:
            self.redis.set(self.keys.linked_network(network_key), f"{identity}|{author_key}", ex=LINK_SECONDS)

    # -- moderators -----------------------------------------------------------------------------

    def identity_of(self, author_key: str) -> str:
        """The identity an author key's standing is kept under (itself unless the address is an alias)."""
        return str(self.redis.hget(self.keys.author(author_key), "identity") or author_key)

    def networks_used(self, identity: str, author_key: str, secret: bytes,
                      within_ms: int = DAY_MS) -> tuple[str, ...]:
        """The keyed hashes of the networks an author's comments (under any of their addresses) came from lately."""
        since = id_prefix(int(time.time() * 1000) - within_ms)
        authors = {identity, author_key} | set(cast(set[str], self.redis.smembers(self.keys.author_aliases(identity))))
        pipe = self.redis.pipeline(transaction=False)
        for key in sorted(authors):
            pipe.zrangebylex(self.keys.author_comments(key), f"[{since}", "+", 0, 200)
        ids = [comment_id for found in pipe.execute() for comment_id in found]
        pipe = self.redis.pipeline(transaction=False)
        for comment_id in ids:
            pipe.hget(self.keys.comment(comment_id), "ip")
        networks = {network_of(str(ip)) for ip in pipe.execute() if ip}
        return tuple(sorted(network_key(secret, network) for network in networks if network))

    def known(self, author_key: str) -> bool:
        """Whether this author key has written a comment or has a standing."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.exists(self.keys.author_comments(author_key))
        pipe.exists(self.keys.standing(author_key))
        pipe.exists(self.keys.author_notes(author_key))
        return any(pipe.execute())

    def read(self, identity: str, policy: Policy) -> Standing:
        values = self.redis.hmget(self.keys.standing(identity), FIELDS)
        return effective(list(values), policy)

    def identities(self, author_keys: set[str]) -> dict[str, str]:
        """The identity of each author key, in one round trip."""
        ordered = sorted(author_keys)
        pipe = self.redis.pipeline(transaction=False)
        for key in ordered:
            pipe.hget(self.keys.author(key), "identity")
        return {key: str(found or key) for key, found in zip(ordered, pipe.execute(), strict=True)}

    def of_authors(self, author_keys: set[str], policy: Policy) -> dict[str, tuple[Standing, Record]]:
        """Standing and record of each author key (through its identity), in two round trips."""
        identities = self.identities(author_keys)
        found = self.read_many(set(identities.values()), policy)
        return {key: found[identity] for key, identity in identities.items()}

    def read_many(self, identities: set[str], policy: Policy) -> dict[str, tuple[Standing, Record]]:
        """Standing and record of each identity, in one round trip."""
        ordered = sorted(identities)
        window_ms = policy.reputation_window_days * DAY_MS
        since = int(time.time() * 1000) - window_ms
        pipe = self.redis.pipeline(transaction=False)
        for identity in ordered:
            pipe.hmget(self.keys.standing(identity), FIELDS)
            pipe.zcount(self.keys.author_record(identity, "approved"), since, "+inf")
            pipe.zcount(self.keys.author_record(identity, "rejected"), since, "+inf")
        replies = pipe.execute()
        found = {}
        for i, identity in enumerate(ordered):
            values, approved, rejected = replies[3 * i: 3 * i + 3]
            found[identity] = (effective(list(values), policy),
                               Record(int(approved), int(rejected), policy.reputation_window_days))
        return found

    def history(self, identity: str) -> list[dict[str, str]]:
        """Every standing change of an author, oldest first."""
        return history_events(cast(str | None, self.redis.hget(self.keys.standing(identity), "history")))

    def change(self, identity: str, author_key: str, change: StandingChange, moderator: str, *,
               networks: tuple[str, ...] = (), reject_reason: str = "other") -> Changed:
        """Apply a standing (and reject the author's pending comments when asked), all at once."""
        k = self.keys
        now_ms = int(time.time() * 1000)
        until = change.until.astimezone(UTC) if change.until else None
        until_ms = int(until.timestamp() * 1000) if until else 0
        result = self._set(
            keys=[k.standing(identity), k.events, k.stats, k.queue("pending"), k.queue("rejected"),
                  *k.scored_queue_keys("pending"), k.author_aliases(identity)],
            args=[k.prefix, identity, author_key, change.state, iso_of_ms(until_ms) if until else "", until_ms,
                  change.reason, change.message, change.note, moderator, now_iso(), now_ms,
                  "" if change.version is None else str(change.version), "1" if change.reject_pending else "",
                  EVENTS_MAXLEN, reject_reason, json.dumps(list(networks)), LINK_SECONDS],
        )
        if result[0] == "conflict":
            raise StandingConflict(result[1])
        return Changed(int(result[1]), int(result[2]))

    def page(self, state: str, cursor: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
        """The identities a moderator set in `state`, in key order, `limit` after `cursor`."""
        start = f"({cursor}" if cursor else "-"
        ids = cast(list[str], self.redis.zrangebylex(self.keys.standings(state), start, "+", 0, limit + 1))
        more = ids[limit - 1] if len(ids) > limit else None
        ids = ids[:limit]
        pipe = self.redis.pipeline(transaction=False)
        for identity in ids:
            pipe.hmget(self.keys.standing(identity), [*FIELDS, "author_key"])
        rows = []
        for identity, values in zip(ids, pipe.execute(), strict=True):
            standing = effective(list(values[:-1]), Policy(reputation_window_days=0))
            rows.append({"author_key": values[-1] or identity, "standing": standing.as_dict()})
        return rows, more
