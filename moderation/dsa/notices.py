"""Notices of illegal content (DSA Art. 16), and the trusted flaggers' priority (Art. 22).

A notice is the legal channel beside readers' everyday reports: it names a category, explains why the
comment is illegal, names the notifier (except for child sexual abuse material, Art. 16(2)(c)) and
confirms good faith (Art. 16(2)(d)). It waits in the `notices` queue, trusted flaggers' first, until a
moderator decides its legality and whether the comment goes; the decision reaches the site as the
webhook `notice.decided`, for it to tell the notifier (Art. 16(5)).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any, cast

from redis import Redis
from ulid import ULID

from moderation.comments import now_iso
from moderation.keys import Keys
from moderation.store import EVENTS_MAXLEN, lua_script

# The comment rejection reason a removal on a notice of each category is recorded under (for learning and
# the stats); a notice's removal is never counted as spam, whose statements of reasons are exempt.
REJECT_REASON = {"illegal_or_harmful_speech": "abuse", "violence": "abuse",
                 "data_protection_and_privacy_violations": "personal_data"}


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class NotFound(Exception):
    """No such comment (published) or notice."""


class Decided(Exception):
    """The notice was decided already (the loser of two racing moderators)."""


@dataclass(frozen=True, slots=True)
class Filed:
    notice_id: str
    token: str


class Notices:
    """Notices in Redis: each a hash, the queue a sorted set (score 0 for trusted flaggers, then by id)."""

    def __init__(self, redis: Redis, keys: Keys | None = None) -> None:
        self.redis = redis
        self.keys = keys or Keys()
        self._add = redis.register_script(lua_script("notice_add.lua", "history.lua"))
        self._decide = redis.register_script(lua_script("notice_decide.lua", "history.lua"))

    def file(self, comment_id: str, *, category: str, explanation: str, notifier_name: str, notifier_email: str,
             trusted_flagger: str = "") -> Filed:
        """File a notice on a published comment; NotFound otherwise. The token is shown once, stored hashed."""
        notice_id, token, at = str(ULID()), "ntc_" + secrets.token_urlsafe(24), now_iso()
        fields = ["id", notice_id, "comment_id", comment_id, "category", category, "explanation", explanation,
                  "notifier_name", notifier_name, "notifier_email", notifier_email, "trusted", trusted_flagger,
                  "status", "open", "created_at", at, "created_ms", str(int(time.time() * 1000)),
                  "token_hash", token_hash(token)]
        k = self.keys
        result = self._add(
            keys=[k.comment(comment_id), k.notice(notice_id), k.queue("notices"), k.notice_token(token_hash(token)),
                  k.events, k.dsa_day(at[:10])],
            args=[notice_id, json.dumps(fields, ensure_ascii=False), 0 if trusted_flagger else 1, at, EVENTS_MAXLEN,
                  category, "1" if trusted_flagger else ""],
        )
        if result[0] != "ok":
            raise NotFound(comment_id)
        return Filed(notice_id, token)

    def get(self, notice_id: str) -> dict[str, str] | None:
        found = cast(dict[str, str], self.redis.hgetall(self.keys.notice(notice_id)))
        return found or None

    def by_token(self, token: str) -> dict[str, str] | None:
        """The notice a notifier's token was issued for (the token compared through its hash)."""
        notice_id = self.redis.get(self.keys.notice_token(token_hash(token))) if token else None
        return self.get(str(notice_id)) if notice_id else None

    def decide(self, notice_id: str, moderator: str, *, legality: str, ground: str, explanation: str,
               action: str) -> str:
        """Record the decision on an open notice; returns its comment's id. Decided for the loser of a race."""
        at = now_iso()
        k = self.keys
        notice = self.get(notice_id)
        if notice is None:
            raise NotFound(notice_id)
        result = self._decide(
            keys=[k.notice(notice_id), k.queue("notices"), k.events, k.dsa_day(at[:10]),
                  k.dsa_durations(at[:10], "notice"), k.comment(notice["comment_id"])],
            args=[moderator, legality, ground, explanation, action, at, int(time.time() * 1000), EVENTS_MAXLEN],
        )
        if result[0] == "not_found":
            raise NotFound(notice_id)
        if result[0] == "conflict":
            raise Decided(notice_id)
        return str(result[1])

    def mark_removed_on_appeal(self, notice: dict[str, str], explanation: str) -> None:
        """Tie a comment removed on a notifier's appeal to the notice, for its statement of reasons."""
        self.redis.hset(self.keys.comment(notice["comment_id"]), mapping={
            "notice_id": notice["id"], "notice_legality": "", "notice_ground": "",
            "notice_explanation": explanation, "notice_category": notice.get("category", ""),
            "notice_trusted": notice.get("trusted", "")})

    def page(self, cursor: str | None, limit: int) -> tuple[list[dict[str, str]], str | None]:
        """Open notices, trusted flaggers' first, then oldest first."""
        return _page(self.redis, self.keys.queue("notices"), self.keys.notice, cursor, limit)


def _page(redis: Redis, queue: str, key: Any, cursor: str | None, limit: int) -> tuple[list[dict[str, str]],
                                                                                      str | None]:
    start = 0
    if cursor:
        rank = redis.zrank(queue, cursor)
        start = int(cast(int, rank)) + 1 if rank is not None else 0
    ids = cast(list[str], redis.zrange(queue, start, start + limit))
    more = ids[limit - 1] if len(ids) > limit else None
    pipe = redis.pipeline(transaction=False)
    for item_id in ids[:limit]:
        pipe.hgetall(key(item_id))
    return [found for found in pipe.execute() if found], more


def public_notice(notice: dict[str, str]) -> dict[str, Any]:
    """A notice as moderators see it (the token's hash left out)."""
    return {name: notice.get(name) or None for name in (
        "id", "comment_id", "category", "explanation", "notifier_name", "notifier_email", "trusted", "status",
        "created_at", "decided_by", "decided_at", "legality", "ground", "decision_explanation", "action")}
