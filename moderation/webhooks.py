"""Webhooks: signed POSTs to a site's URLs when a comment is published, held, decided or reported.

How it works, and why:

* **Subscriptions** live in one Redis hash (`<prefix>webhooks`, id -> JSON): the URL, the events
  it wants, when it was added, and its signing secret. The secret is generated on `add` and shown
  that once; it has to be stored as is, because the worker signs every delivery with it (a hash of
  it would not do, unlike moderators' tokens). `list` never prints it.

* **Events** come from the audit stream `<prefix>events` that every store script appends to. The
  worker reads it through a consumer group (`webhooks`), so any number of worker processes share
  the entries and each entry goes to one of them. Only `submitted`, `rescored`, `decided` and
  `reported` entries become webhooks (see `event_type`); claims, erasures and the rest are
  acknowledged and skipped. The group starts at the stream's end: history is never replayed.

* **Fan-out, then delivery.** A worker turns each entry into one delivery job per matching
  subscription and acknowledges the entry (XACK) in the same atomic script (webhook_fanout.lua):
  the entry is only acknowledged once all its deliveries are durably recorded, and only by the
  consumer that still owns it. Jobs wait in a sorted set by due time; the first attempt is due at
  once, so it goes out within the same loop turn. Retries are the same jobs rescheduled further
  out with exponential backoff; after `max_attempts` a job is logged `failed` and dropped. Keeping
  every attempt (first or not) on one path means a slow or dead receiver never holds up reading
  the stream, and one receiver's failures never make another receiver get the event twice.

* **At least once.** A worker that dies after reading an entry but before fanning it out leaves
  it pending in the group; another worker takes it over with XAUTOCLAIM once it has been idle for
  `claim_idle_seconds`. A worker that dies mid-delivery leaves its job leased (webhook_claim.lua
  moved its due time to the lease's end); when the lease runs out another worker sends it again.
  So a receiver can see an event twice (after a crash, or when its 2xx got lost) and must
  de-duplicate on the payload's `id` (also sent as `Moderation-Event-Id`), which stays the same
  across every attempt. Order is not guaranteed either: a retried event can arrive after a later
  one, so receivers should order by `occurred_at` or re-read the comment.

* **Delivery log.** Every attempt appends to a capped stream (`<prefix>webhooks:log`, about
  `LOG_MAXLEN` entries): when, which subscription and URL, the event, the attempt number, the HTTP
  status or the error, how long it took and the outcome (`delivered`, `retrying`, `failed`,
  `dropped`). `recent_deliveries()` reads it, newest first, for the CLI and for an admin route.

* **Signature** (the Stripe / Standard Webhooks scheme): `Moderation-Signature: t=<unix
  seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. The timestamp is signed with the body so
  a captured request cannot be replayed later; `verify_signature()` checks both, in constant time.

* **HTTP** is the standard library's urllib (no new dependency), POST only, `http`/`https` URLs
  only, a short timeout, and redirects are *not* followed (a 3xx counts as a failure): a signed
  POST must reach the URL the admin configured, not wherever a response points. Private addresses
  are allowed on purpose: an intranet alerting endpoint is a normal target, and only admins with
  Redis access can add subscriptions. Proxies come from the usual environment variables.

Redis keys used here (all under the deployment's key prefix): `webhooks` (subscriptions),
`webhooks:jobs` (job id -> JSON), `webhooks:attempts` (job id -> attempts so far), `webhooks:due`
(job id scored by due time in ms), `webhooks:log` (the delivery log stream).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import logging
import os
import random
import secrets
import signal
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.client import HTTPException
from types import FrameType
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from ulid import ULID

from moderation.authors.standing import Standing, State
from moderation.comments import now_iso
from moderation.dsa.statement import standing_statement, statement_for
from moderation.keys import Keys, keys_from_environment
from moderation.policy import Policy
from moderation.policy_store import PolicyStore
from moderation.redis_client import from_environment
from moderation.store import lua_script

log = logging.getLogger(__name__)

EVENT_TYPES = ("comment.published", "comment.held", "comment.decided", "comment.reported", "author.standing_changed",
               "notice.decided", "appeal.decided")
GROUP = "webhooks"
SIGNATURE_HEADER = "Moderation-Signature"
USER_AGENT = "newsroom-moderation-webhooks/1"
LOG_MAXLEN = 10_000
# Only what a site needs to purge a cache or raise an alert: never a name, email, IP or comment text.
PAYLOAD_FIELDS = (
    "id", "type", "comment_id", "article_id", "status", "previous_status", "reasons", "action", "occurred_at",
    "statement",
)
# An author's standing changed: the keyed hash that names them (never the address), the state, and what
# the author is to be told, so the site can tell them (an email, a notice on their account page).
AUTHOR_PAYLOAD_FIELDS = (
    "id", "type", "author_key", "state", "previous_state", "until", "reason", "message", "rejected_pending",
    "occurred_at", "statement",
)


@dataclass(frozen=True, slots=True)
class WebhookKeys:
    """Key names of the webhook state, under the same prefix as every other key of the deployment."""

    prefix: str = field(default_factory=lambda: Keys().prefix)

    @classmethod
    def of(cls, keys: Keys) -> WebhookKeys:
        return cls(keys.prefix)

    @property
    def subscriptions(self) -> str:
        return f"{self.prefix}webhooks"

    @property
    def jobs(self) -> str:
        return f"{self.prefix}webhooks:jobs"

    @property
    def attempts(self) -> str:
        return f"{self.prefix}webhooks:attempts"

    @property
    def due(self) -> str:
        return f"{self.prefix}webhooks:due"

    @property
    def log(self) -> str:
        return f"{self.prefix}webhooks:log"


# -- signatures ------------------------------------------------------------------------------------


def _as_bytes(body: bytes | str) -> bytes:
    return body.encode() if isinstance(body, str) else body


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes | str, timestamp: int | None = None) -> str:
    """The `Moderation-Signature` header value for `body`: `t=<unix seconds>,v1=<hex HMAC-SHA256>`."""
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={_mac(secret, t, _as_bytes(body))}"


def verify_signature(
    secret: str, header: str, body: bytes | str, tolerance: float = 300, *, now: float | None = None
) -> bool:
    """For receivers: whether `header` signs exactly this raw `body` with `secret`, recently enough.

    Pass the request body as received (bytes), before any JSON parsing. The timestamp must be within
    `tolerance` seconds of now (either way, for clock skew), which stops replays of an old request.
    Several `v1=` values are accepted (any one matching), so a sender could sign with an old and a
    new secret during a rotation. Comparison is constant-time.
    """
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t":
            try:
                timestamp = int(value)
            except ValueError:
                return False
        elif name == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        return False
    expected = _mac(secret, timestamp, _as_bytes(body))
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)


# -- subscriptions ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Subscription:
    id: str
    url: str
    secret: str
    events: tuple[str, ...]
    created_at: str

    def wants(self, event_type: str) -> bool:
        return event_type in self.events

    def public(self) -> dict[str, Any]:
        """Everything but the secret, for listings."""
        return {"id": self.id, "url": self.url, "events": list(self.events), "created_at": self.created_at}


def validate_url(url: str) -> str:
    """An absolute http(s) URL with a host; raises ValueError otherwise."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"webhook URL must be http or https, not {parts.scheme or 'relative'!r}")
    if not parts.hostname:
        raise ValueError("webhook URL has no host")
    if any(ch.isspace() or ord(ch) < 32 for ch in url.strip()):
        raise ValueError("webhook URL contains whitespace or control characters")
    return url.strip()


def _validate_events(events: Iterable[str] | None) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(events)) if events else EVENT_TYPES
    unknown = [event for event in chosen if event not in EVENT_TYPES]
    if unknown:
        raise ValueError(f"unknown webhook events {unknown}; choose from {list(EVENT_TYPES)}")
    return chosen


def _parse_subscription(sub_id: str, raw: str) -> Subscription:
    data = json.loads(raw)
    return Subscription(sub_id, data["url"], data["secret"], tuple(data["events"]), data["created_at"])


def ensure_group(redis: Redis, keys: Keys) -> None:
    """Create the worker's consumer group if missing, starting at the stream's end.

    Starting at the end (not at the start of the stream) means a first worker does not replay the
    whole audit history to the receivers. `add_subscription` calls this too, so events that happen
    after a subscription is added are delivered even if the worker only starts later.
    """
    try:
        redis.xgroup_create(keys.events, GROUP, id="$", mkstream=True)
    except ResponseError as error:
        if "BUSYGROUP" not in str(error):
            raise


def add_subscription(redis: Redis, keys: Keys, url: str, events: Iterable[str] | None = None) -> Subscription:
    """Store a new subscription (all event types unless `events`); its secret is in the result."""
    subscription = Subscription(
        id=f"wh_{ULID()}",
        url=validate_url(url),
        secret=f"whsec_{secrets.token_urlsafe(32)}",
        events=_validate_events(events),
        created_at=now_iso(),
    )
    record = {
        "url": subscription.url,
        "secret": subscription.secret,
        "events": list(subscription.events),
        "created_at": subscription.created_at,
    }
    redis.hset(WebhookKeys.of(keys).subscriptions, subscription.id, json.dumps(record))
    ensure_group(redis, keys)
    return subscription


def list_subscriptions(redis: Redis, keys: Keys) -> list[Subscription]:
    """Every subscription, oldest first (ids are ULIDs)."""
    raw: dict[str, str] = redis.hgetall(WebhookKeys.of(keys).subscriptions)  # type: ignore[assignment]
    return [_parse_subscription(sub_id, value) for sub_id, value in sorted(raw.items())]


def get_subscription(redis: Redis, keys: Keys, sub_id: str) -> Subscription | None:
    raw = redis.hget(WebhookKeys.of(keys).subscriptions, sub_id)
    return _parse_subscription(sub_id, str(raw)) if raw else None


def remove_subscription(redis: Redis, keys: Keys, sub_id: str) -> bool:
    """Delete a subscription; its queued deliveries are dropped (and logged so) when they come due."""
    return bool(redis.hdel(WebhookKeys.of(keys).subscriptions, sub_id))


# -- events ----------------------------------------------------------------------------------------


def event_type(fields: Mapping[str, str]) -> str | None:
    """Which webhook an events-stream entry is, or None for entries that are not one.

    `submitted` with status `published` is `comment.published`. `submitted` with `pending` or with
    `rejected` is `comment.held`: an automatic rejection is not final (a moderator may still approve
    it from the `rejected` queue, and decide.lua treats it as open), and what a site does with it is
    what it does with a held comment (nothing to purge; perhaps alert moderators). The payload's
    `status` still says `rejected`, truthfully: the receiver is the newsroom's own system, and the
    rule that a poster sees `pending` is about the poster, who never sees a webhook. `decided` is
    `comment.decided` (an approval shows `status: published`, so a cache purge should listen to it
    as well as to `comment.published`); `reported` is `comment.reported`.

    `rescored` (a new model moved a comment no human had decided, see rescore_apply.lua) maps like
    `submitted`: the comment has just become published, or has just stopped being, which is exactly
    when a site must purge its cache; its payload adds `previous_status`.
    """
    kind = fields.get("event")
    if kind in ("submitted", "rescored"):
        if fields.get("status") == "published":
            return "comment.published"
        if fields.get("status") in ("pending", "rejected"):
            return "comment.held"
        return None
    return {"decided": "comment.decided", "reported": "comment.reported",
            "standing_changed": "author.standing_changed", "notice_decided": "notice.decided",
            "appeal_decided": "appeal.decided"}.get(kind or "")


def event_payload(entry_id: str, fields: Mapping[str, str], article_id: str | None = None) -> dict[str, Any] | None:
    """The JSON payload of one events-stream entry, or None when no webhook is sent for it.

    `id` is the stream entry id, unique per event and identical on every retry: receivers use it to
    drop duplicates. `reasons` are codes only: the submit reasons (`spam`, `links`, `new_author`...),
    a rejection's reason, or a report's reason. Moderators' notes, readers' report notes, the
    actor's name and every personal field of the comment are left out.
    """
    kind = event_type(fields)
    if kind == "author.standing_changed" and fields.get("author_key"):
        return {"id": entry_id, "type": kind, "author_key": fields["author_key"], "state": fields.get("state", ""),
                "previous_state": fields.get("previous", ""), "until": fields.get("until") or None,
                "reason": fields.get("reason", ""), "message": fields.get("message") or None,
                "rejected_pending": int(fields.get("rejected_pending") or 0), "occurred_at": fields.get("at", "")}
    if kind in ("notice.decided", "appeal.decided") and fields.get("comment_id"):
        # The site tells the notifier (Art. 16(5)) or the appellant (Art. 20(5)): the outcome and its reasons.
        names = ("notice_id", "legality", "action", "ground", "explanation") if kind == "notice.decided" \
            else ("appeal_id", "outcome", "explanation")
        return {"id": entry_id, "type": kind, "comment_id": fields["comment_id"],
                **({"article_id": article_id} if article_id else {}),
                **{name: fields.get(name, "") for name in names}, "occurred_at": fields.get("at", "")}
    if kind is None or not fields.get("comment_id"):
        return None
    payload: dict[str, Any] = {"id": entry_id, "type": kind, "comment_id": fields["comment_id"]}
    if article_id:
        payload["article_id"] = article_id
    if kind in ("comment.published", "comment.held"):
        payload["status"] = fields.get("status", "")
        if fields.get("event") == "rescored":
            payload["previous_status"] = fields.get("from", "")
        payload["reasons"] = [code for code in fields.get("reasons", "").split(",") if code]
    elif kind == "comment.decided":
        payload["status"] = fields.get("status", "")
        payload["action"] = fields.get("action", "")
        payload["reasons"] = [fields["reason"]] if fields.get("reason") else []
    else:
        payload["status"] = "published"  # report.lua only accepts reports on published comments
        payload["reasons"] = [fields["reason"]] if fields.get("reason") else []
    payload["occurred_at"] = fields.get("at", "")
    return payload


# -- delivery --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    """Tuning of one worker. Retry n (n >= 1) waits backoff_base * backoff_factor**(n-1) seconds,
    at most backoff_max, give or take `jitter` (a fraction) so that many failing deliveries do not
    all come back at the same instant. The defaults (10 s, x3, max 1 h, 8 attempts) keep trying for
    about two hours."""

    timeout: float = 5.0
    max_attempts: int = 8
    backoff_base: float = 10.0
    backoff_factor: float = 3.0
    backoff_max: float = 3600.0
    jitter: float = 0.1
    # A job leased to a worker is re-sent by another only after this; must be well above `timeout`.
    lease_seconds: float = 60.0
    # An events entry read but not fanned out for this long belongs to a dead worker: take it over.
    claim_idle_seconds: float = 60.0
    reclaim_interval: float = 5.0
    block_ms: int = 1000
    batch: int = 50
    log_maxlen: int = LOG_MAXLEN

    def backoff(self, attempt: int) -> float:
        delay = min(self.backoff_base * self.backoff_factor ** (attempt - 1), self.backoff_max)
        if self.jitter:
            delay *= 1 + random.uniform(-self.jitter, self.jitter)
        return max(delay, 0.0)


@dataclass(frozen=True, slots=True)
class Attempt:
    status_code: int | None
    error: str
    duration_ms: float

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A 3xx is answered as an error: the signed POST goes to the configured URL or nowhere."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _redact(url: str) -> str:
    """The URL without any user:password part, for the log."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]))


def _post(opener: urllib.request.OpenerDirector, url: str, body: bytes, headers: dict[str, str],
          timeout: float) -> Attempt:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    started = time.monotonic()
    status: int | None = None
    error = ""
    try:
        with opener.open(request, timeout=timeout) as response:
            status = int(response.status)
            response.read(1024)  # drain a little so the connection closes cleanly; never logged
    except urllib.error.HTTPError as failure:
        status = failure.code
        error = f"HTTP {failure.code}"
        failure.close()
    except urllib.error.URLError as failure:
        error = f"{type(failure.reason).__name__}: {failure.reason}"
    except (OSError, HTTPException, ValueError) as failure:  # timeouts, resets, bad status lines
        error = f"{type(failure).__name__}: {failure}"
    return Attempt(status, error[:300], round((time.monotonic() - started) * 1000, 1))


@dataclass
class WebhookWorker:
    """Reads the events stream in consumer group `webhooks` and delivers the webhooks.

    Run several (threads or processes, any machines) against the same Redis: they share the stream
    entries through the group and the delivery jobs through leases, and an entry or a job a dead
    worker had is picked up by the others. `run()` loops until `stop` is set (or `max_iterations`
    turns), so tests and the CLI can stop it; a turn blocks on the stream at most `block_ms`.
    """

    redis: Redis
    keys: Keys = field(default_factory=Keys)
    settings: WorkerSettings = field(default_factory=WorkerSettings)
    consumer: str = ""

    def __post_init__(self) -> None:
        if not self.consumer:
            self.consumer = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self.wk = WebhookKeys.of(self.keys)
        self._fanout = self.redis.register_script(lua_script("webhook_fanout.lua"))
        self._claim = self.redis.register_script(lua_script("webhook_claim.lua"))
        self._finish = self.redis.register_script(lua_script("webhook_finish.lua"))
        self._opener = urllib.request.build_opener(_NoRedirects)
        self._next_reclaim = 0.0

    # -- the loop --------------------------------------------------------------------------------

    def run(self, stop: threading.Event | None = None, max_iterations: int | None = None) -> None:
        stop = stop or threading.Event()
        ensure_group(self.redis, self.keys)
        turns = 0
        try:
            while not stop.is_set() and (max_iterations is None or turns < max_iterations):
                turns += 1
                try:
                    self.step()
                except (RedisConnectionError, RedisTimeoutError) as error:
                    log.warning("webhooks: Redis unavailable (%s); retrying in 1 s", error)
                    stop.wait(1.0)
                except Exception:  # a worker is a daemon: log, pause, go on; the entry or job stays owed
                    log.exception("webhooks: worker turn failed; retrying in 1 s")
                    stop.wait(1.0)
        finally:
            self.retire()

    def step(self) -> int:
        """One turn: take over stale entries, read new ones (blocking briefly), deliver due jobs."""
        handled = 0
        now = time.time()
        if now >= self._next_reclaim:
            self._next_reclaim = now + self.settings.reclaim_interval
            handled += self.reclaim()
        handled += self.read(self._block_ms())
        handled += self.deliver_due()
        return handled

    def _block_ms(self) -> int | None:
        """How long to wait on the stream: not past the next due job, never 0 (which is forever)."""
        nearest = self.redis.zrange(self.wk.due, 0, 0, withscores=True)
        wait = self.settings.block_ms
        if nearest:
            wait = min(wait, int(float(nearest[0][1]) - time.time() * 1000))
        return wait if wait >= 1 else None

    # -- stream entries -> jobs ------------------------------------------------------------------

    def read(self, block_ms: int | None = None) -> int:
        try:
            response = self.redis.xreadgroup(
                GROUP, self.consumer, {self.keys.events: ">"}, count=self.settings.batch, block=block_ms
            )
        except ResponseError as error:
            if "NOGROUP" not in str(error):
                raise
            ensure_group(self.redis, self.keys)  # the stream was deleted (FLUSHDB, say): start over
            return 0
        entries: list[tuple[str, dict[str, str]]] = []
        for _stream, batch in cast("list[tuple[str, list[tuple[str, dict[str, str]]]]]", response or []):
            entries.extend(batch)
        self.fan_out(entries)
        return len(entries)

    def reclaim(self) -> int:
        """Take over entries another consumer read but never acknowledged (it died), and fan them out.

        JUSTID, then XRANGE, rather than the entries XAUTOCLAIM returns: an entry trimmed from the
        stream since comes back as nil on Redis 6.2 with no id to acknowledge it by.
        """
        idle_ms = int(self.settings.claim_idle_seconds * 1000)
        try:
            ids: list[str] = self.redis.xautoclaim(
                self.keys.events, GROUP, self.consumer, idle_ms, "0-0", count=self.settings.batch, justid=True
            )
        except ResponseError as error:
            if "NOGROUP" not in str(error):
                raise
            ensure_group(self.redis, self.keys)
            return 0
        entries: list[tuple[str, dict[str, str]]] = []
        for entry_id in ids:
            found = cast("list[tuple[str, dict[str, str]]]", self.redis.xrange(self.keys.events, entry_id, entry_id))
            if found:
                entries.append(found[0])
            else:
                self.redis.xack(self.keys.events, GROUP, entry_id)  # trimmed away: nothing to send
        if entries:
            log.info("webhooks: %s took over %d stale entries", self.consumer, len(entries))
        self.fan_out(entries)
        return len(entries)

    def fan_out(self, entries: Sequence[tuple[str, Mapping[str, str]]]) -> None:
        """One job per (entry, matching subscription), recorded with the entry's XACK atomically."""
        if not entries:
            return
        subscriptions = list_subscriptions(self.redis, self.keys)
        pipe = self.redis.pipeline(transaction=False)
        for _entry_id, fields in entries:
            pipe.hgetall(self.keys.comment(fields.get("comment_id") or "-"))
            pipe.hgetall(self.keys.notice(fields.get("notice_id") or "-"))
        replies = pipe.execute()
        policy: Policy | None = None
        now_ms = int(time.time() * 1000)
        for index, (entry_id, fields) in enumerate(entries):
            record, notice = replies[2 * index], replies[2 * index + 1]
            payload = event_payload(entry_id, fields, record.get("article_id"))
            if payload is not None and payload["type"] == "comment.decided" and payload["status"] == "rejected":
                # The statement of reasons (DSA Art. 17), so the site can send it to the author; none for spam.
                policy = policy or PolicyStore(self.redis, self.keys).load()
                statement = statement_for(record, policy)
                payload["statement"] = statement.as_dict() if statement else None
            if payload is not None and payload["type"] == "author.standing_changed" and \
                    fields.get("state") in ("suspended", "banned"):
                # The suspension's or ban's statement of reasons (Art. 17(1)(d)), for the site to send the author.
                policy = policy or PolicyStore(self.redis, self.keys).load()
                standing = Standing(state=cast(State, fields["state"]), until=fields.get("until") or None,
                                    reason=fields.get("reason") or None, message=fields.get("message") or None,
                                    set_at=fields.get("at") or None)
                payload["statement"] = standing_statement(standing, policy)
            if payload is not None and payload["type"] == "notice.decided":
                payload["notifier"] = {"name": notice.get("notifier_name") or None,
                                       "email": notice.get("notifier_email") or None}
            jobs: list[str] = []
            if payload is not None:
                body = json.dumps(payload, separators=(",", ":"))
                for sub in subscriptions:
                    if sub.wants(payload["type"]):
                        job = {"subscription": sub.id, "event_id": entry_id, "type": payload["type"],
                               "comment_id": payload.get("comment_id", ""), "body": body}
                        jobs += [f"{entry_id}/{sub.id}", json.dumps(job)]
            self._fanout(keys=[self.keys.events, self.wk.jobs, self.wk.due],
                         args=[GROUP, self.consumer, entry_id, now_ms, *jobs])

    # -- jobs -> HTTP ----------------------------------------------------------------------------

    def deliver_due(self) -> int:
        """Lease the jobs that are due and make one attempt each; returns how many."""
        now_ms = int(time.time() * 1000)
        lease_end = now_ms + int(self.settings.lease_seconds * 1000)
        flat: list[str] = self._claim(keys=[self.wk.due, self.wk.jobs, self.wk.attempts],
                                      args=[now_ms, lease_end, self.settings.batch])
        if not flat:
            return 0
        subscriptions = {sub.id: sub for sub in list_subscriptions(self.redis, self.keys)}
        for i in range(0, len(flat), 3):
            job_id, job, attempt = flat[i], json.loads(flat[i + 1]), int(flat[i + 2])
            self._attempt(job_id, job, attempt, lease_end, subscriptions.get(job["subscription"]))
        return len(flat) // 3

    def _attempt(self, job_id: str, job: dict[str, Any], attempt: int, lease_end: int,
                 sub: Subscription | None) -> None:
        record: dict[str, str] = {
            "at": now_iso(),
            "delivery": job_id,
            "subscription": job["subscription"],
            "event_id": job["event_id"],
            "type": job["type"],
            "comment_id": job["comment_id"],
            "attempt": str(attempt),
            "worker": self.consumer,
        }
        next_due_ms = 0
        if sub is None:
            outcome, result = "dropped", Attempt(None, "subscription removed", 0.0)
        elif attempt > self.settings.max_attempts:  # the last attempt's worker died mid-way
            outcome, result = "failed", Attempt(None, "attempts exhausted", 0.0)
        else:
            record["url"] = _redact(sub.url)
            body = job["body"].encode()
            headers = {
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                SIGNATURE_HEADER: sign(sub.secret, body),
                "Moderation-Event-Id": job["event_id"],
                "Moderation-Event-Type": job["type"],
                "Moderation-Delivery-Attempt": str(attempt),
            }
            result = _post(self._opener, sub.url, body, headers, self.settings.timeout)
            if result.ok:
                outcome = "delivered"
            elif attempt < self.settings.max_attempts:
                outcome = "retrying"
                next_due_ms = int(time.time() * 1000 + self.settings.backoff(attempt) * 1000)
                record["next_attempt_at"] = now_iso_ms(next_due_ms)
            else:
                outcome = "failed"
        record["outcome"] = outcome
        record["status_code"] = "" if result.status_code is None else str(result.status_code)
        record["error"] = result.error
        record["duration_ms"] = str(result.duration_ms)
        log.info("webhooks: %s %s attempt %d to %s: %s %s", job["type"], job["event_id"], attempt,
                 record.get("url", "-"), outcome, record["status_code"] or result.error)
        self._finish(keys=[self.wk.due, self.wk.jobs, self.wk.attempts, self.wk.log],
                     args=[job_id, lease_end, outcome, next_due_ms, self.settings.log_maxlen,
                           *[part for pair in record.items() for part in pair]])

    def retire(self) -> None:
        """Leave the group tidy on a clean stop: drop this consumer's name if it holds no entries."""
        try:
            mine = self.redis.xpending_range(self.keys.events, GROUP, min="-", max="+", count=1,
                                             consumername=self.consumer)
            if not mine:
                self.redis.xgroup_delconsumer(self.keys.events, GROUP, self.consumer)
        except (ResponseError, RedisConnectionError, RedisTimeoutError):
            pass


def now_iso_ms(epoch_ms: int) -> str:
    """`now_iso`'s format for a time given in epoch milliseconds."""
    return now_iso(datetime.fromtimestamp(epoch_ms / 1000, UTC))


# -- the delivery log ------------------------------------------------------------------------------


def recent_deliveries(redis: Redis, keys: Keys, limit: int = 50) -> list[dict[str, Any]]:
    """The last `limit` delivery attempts, newest first, for admins (CLI or an HTTP route).

    Each: `id` (log entry id), `at`, `outcome` (delivered|retrying|failed|dropped), `subscription`,
    `url` (credentials removed), `event_id`, `type`, `comment_id`, `attempt`, `status_code` (None
    when no HTTP answer), `error`, `duration_ms`, `next_attempt_at` (for retrying), `worker`.
    No personal data is ever written to the log, so it can be shown as is.
    """
    entries: list[tuple[str, dict[str, str]]] = redis.xrevrange(  # type: ignore[assignment]
        WebhookKeys.of(keys).log, "+", "-", count=max(1, min(limit, LOG_MAXLEN))
    )
    rows: list[dict[str, Any]] = []
    for entry_id, fields in entries:
        row: dict[str, Any] = {"id": entry_id, **fields}
        row["attempt"] = int(fields.get("attempt") or 0)
        row["status_code"] = int(fields["status_code"]) if fields.get("status_code") else None
        row["duration_ms"] = float(fields.get("duration_ms") or 0)
        row["superseded"] = fields.get("superseded") == "1"
        rows.append(row)
    return rows


def pending_deliveries(redis: Redis, keys: Keys) -> int:
    """How many deliveries are waiting (first attempts and retries): a gauge for /metrics."""
    return int(redis.zcard(WebhookKeys.of(keys).due))


# -- command line ----------------------------------------------------------------------------------


_redis = from_environment
_keys = keys_from_environment


def _cmd_run(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings = WorkerSettings(timeout=args.timeout, max_attempts=args.max_attempts,
                              backoff_base=args.backoff_base, backoff_max=args.backoff_max)
    redis = _redis()
    worker = WebhookWorker(redis, _keys(), settings, consumer=args.consumer or "")
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    log.info("webhooks worker %s started", worker.consumer)
    try:
        worker.run(stop)
    finally:
        redis.close()
    log.info("webhooks worker %s stopped", worker.consumer)


def _cmd_add(args: argparse.Namespace) -> None:
    try:
        with _redis() as redis:
            sub = add_subscription(redis, _keys(), args.url, args.events)
    except ValueError as error:
        sys.exit(str(error))
    print(f"id\t{sub.id}")
    print(f"secret\t{sub.secret}")
    print(f"events\t{','.join(sub.events)}")
    print("Keep the secret now: it is not shown again. Receivers check the Moderation-Signature header with it.",
          file=sys.stderr)


def _cmd_list(args: argparse.Namespace) -> None:
    with _redis() as redis:
        subscriptions = list_subscriptions(redis, _keys())
    for sub in subscriptions:
        print(f"{sub.id}\t{sub.url}\t{','.join(sub.events)}\t{sub.created_at}")


def _cmd_remove(args: argparse.Namespace) -> None:
    with _redis() as redis:
        removed = remove_subscription(redis, _keys(), args.id)
    if not removed:
        sys.exit(f"no webhook {args.id!r}")
    print(f"removed {args.id}")


def _cmd_deliveries(args: argparse.Namespace) -> None:
    with _redis() as redis:
        rows = recent_deliveries(redis, _keys(), args.limit)
    for row in rows:
        if args.json:
            print(json.dumps(row))
            continue
        answer = str(row["status_code"]) if row["status_code"] is not None else row.get("error", "")
        print("\t".join([row.get("at", ""), row.get("outcome", ""), answer, f"attempt {row['attempt']}",
                         row.get("type", ""), row.get("comment_id", ""), row.get("url", ""),
                         f"{row['duration_ms']:.0f} ms"]))


def add_cli(subparsers: Any) -> None:
    """Register `moderation webhooks run|add|list|remove|deliveries` on the CLI's subparsers.

    Each action sets `run` to its handler, as moderation_cli/__init__.py's `main` expects (`args.run(args)`).
    """
    defaults = WorkerSettings()
    p = subparsers.add_parser("webhooks", help="signed webhooks: manage subscriptions, run the delivery worker")
    actions = p.add_subparsers(dest="webhooks_action", required=True)

    run = actions.add_parser("run", help="deliver webhooks from the event stream until SIGTERM/SIGINT")
    run.add_argument("--consumer", help="this worker's name in the consumer group (default: host-pid-random)")
    run.add_argument("--timeout", type=float, default=defaults.timeout, help="HTTP timeout, seconds")
    run.add_argument("--max-attempts", type=int, default=defaults.max_attempts)
    run.add_argument("--backoff-base", type=float, default=defaults.backoff_base,
                     help="first retry after this many seconds, tripling each time")
    run.add_argument("--backoff-max", type=float, default=defaults.backoff_max)
    run.set_defaults(run=_cmd_run)

    add = actions.add_parser("add", help="subscribe a URL; prints its id and signing secret, once")
    add.add_argument("url")
    add.add_argument("--events", nargs="+", choices=EVENT_TYPES, help="event types (default: all)")
    add.set_defaults(run=_cmd_add)

    actions.add_parser("list", help="list subscriptions (without secrets)").set_defaults(run=_cmd_list)

    remove = actions.add_parser("remove", help="delete a subscription")
    remove.add_argument("id")
    remove.set_defaults(run=_cmd_remove)

    deliveries = actions.add_parser("deliveries", help="the delivery log, newest first")
    deliveries.add_argument("--limit", type=int, default=20)
    deliveries.add_argument("--json", action="store_true", help="one JSON object per line")
    deliveries.set_defaults(run=_cmd_deliveries)
