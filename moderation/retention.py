"""Forgetting what nobody reads again: old network data, comments the machine rejected long ago, and
events every webhook worker has taken.

Redis holds every comment in memory, so what stays has to earn its place. A comment the model
rejected on its own (spam, mostly: most of a real site's traffic) is dropped after
`rejected_days`; its counts in the decision statistics stay, and a moderator's rejection is never
dropped (it is a label that learning uses). The events stream only feeds the webhook workers, which
copy each entry into its delivery jobs before acknowledging it: acknowledged entries are trimmed,
and without any subscription only a short tail stays for someone reading recent activity by hand.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from redis import Redis
from redis.exceptions import ResponseError

from moderation.comments import id_prefix
from moderation.keys import Keys
from moderation.store import CommentStore, lua_script
from moderation.webhooks import GROUP, WebhookKeys

ORIGIN_RETENTION_DAYS = 90.0
REJECTED_RETENTION_DAYS = 30.0
# The events kept when no webhook subscription reads them: recent activity, for a person looking.
EVENTS_TAIL = 10_000
BATCH = 1000


@dataclass(frozen=True, slots=True)
class RetentionReport:
    """What one pass forgot."""

    origins_purged: int
    rejected_dropped: int
    events_trimmed: int


def _next_id(entry_id: str) -> str:
    """The smallest stream id after `entry_id`."""
    ms, sequence = entry_id.split("-")
    return f"{ms}-{int(sequence) + 1}"


def trim_events(redis: Redis, keys: Keys, tail: int = EVENTS_TAIL) -> int:
    """Trim the events stream: to what the webhook workers have still to fan out when a site has
    subscriptions, else to its last `tail` entries."""
    if not redis.hlen(WebhookKeys.of(keys).subscriptions):
        return int(redis.xtrim(keys.events, maxlen=tail, approximate=False))
    try:
        groups = redis.xinfo_groups(keys.events)
    except ResponseError:  # no stream yet
        return 0
    for group in groups:
        if group["name"] == GROUP:
            pending = redis.xpending(keys.events, GROUP)
            # Entries read but not yet fanned out stay, and so does everything not read yet.
            needed = pending["min"] if pending["pending"] else _next_id(str(group["last-delivered-id"]))
            return int(redis.xtrim(keys.events, minid=str(needed), approximate=False))
    return 0  # subscriptions but no worker has ever started: the stream's cap bounds it


class Retention:
    """One pass of forgetting over a store; `run` is safe to repeat and to run from several processes."""

    def __init__(self, store: CommentStore, *, origin_days: float = ORIGIN_RETENTION_DAYS,
                 rejected_days: float = REJECTED_RETENTION_DAYS, events_tail: int = EVENTS_TAIL) -> None:
        self.store = store
        self.origin_days = origin_days
        self.rejected_days = rejected_days
        self.events_tail = events_tail
        self._drop = store.redis.register_script(lua_script("drop_rejected.lua"))

    def drop_rejected(self, now: float | None = None, max_batches: int | None = None) -> int:
        """Drop comments the machine rejected more than `rejected_days` ago; returns how many."""
        k = self.store.keys
        cutoff = id_prefix(int(((now or time.time()) - self.rejected_days * 86400) * 1000))
        dropped, after, batches = 0, "", 0
        while max_batches is None or batches < max_batches:
            batches += 1
            count, after = self._drop(
                keys=[k.queue("rejected"), k.all_comments, k.queue("pending"), k.queue("reported")],
                args=[k.prefix, cutoff, BATCH, after],
            )
            dropped += int(count)
            if not after:
                break
        return dropped

    def run(self, max_batches: int | None = None) -> RetentionReport:
        """One pass; `max_batches` bounds the work (of BATCH comments each) so a backlog is taken in turns."""
        return RetentionReport(
            origins_purged=self.store.purge_origins(self.origin_days * 86400, max_batches=max_batches),
            rejected_dropped=self.drop_rejected(max_batches=max_batches),
            events_trimmed=trim_events(self.store.redis, self.store.keys, self.events_tail),
        )
