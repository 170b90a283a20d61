"""Appeals against decisions (DSA Art. 20): free, online, within six months, decided by another person.

The author appeals with the status token their post was answered with; the notifier of a notice with
the notice's token. One appeal per appellant and decision. A moderator other than the one who made
the decision decides it (Art. 20(6): not solely by automated means; here never by the model at all);
`reversed` undoes the decision, which the API applies through the same store as any decision.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, cast

from redis import Redis
from ulid import ULID

from moderation.comments import now_iso
from moderation.dsa.notices import _page
from moderation.keys import Keys
from moderation.store import EVENTS_MAXLEN, lua_script


class NotFound(Exception):
    """No such appeal."""


class AlreadyAppealed(Exception):
    """This appellant appealed this decision already."""

    def __init__(self, appeal_id: str) -> None:
        super().__init__(appeal_id)
        self.appeal_id = appeal_id


class SameModerator(Exception):
    """The moderator who made the decision may not decide its appeal."""


class Decided(Exception):
    """The appeal was decided already (the loser of two racing moderators)."""


@dataclass(frozen=True, slots=True)
class Appellant:
    """Who appeals: the comment's author, or the notifier of one of its notices."""

    kind: str  # "author" or "notifier"
    notice_id: str = ""

    @property
    def marker(self) -> str:
        return "author" if self.kind == "author" else f"notice:{self.notice_id}"


class Appeals:
    """Appeals in Redis: each a hash, the queue a sorted set in arrival order."""

    def __init__(self, redis: Redis, keys: Keys | None = None) -> None:
        self.redis = redis
        self.keys = keys or Keys()
        self._add = redis.register_script(lua_script("appeal_add.lua"))
        self._decide = redis.register_script(lua_script("appeal_decide.lua"))

    def file(self, comment_id: str, appellant: Appellant, text: str, *, original_by: str,
             original_decision: str) -> str:
        """File an appeal; AlreadyAppealed when this appellant has one on this comment's decision."""
        appeal_id, at = str(ULID()), now_iso()
        fields = ["id", appeal_id, "comment_id", comment_id, "appellant", appellant.kind,
                  "notice_id", appellant.notice_id, "text", text, "status", "open", "created_at", at,
                  "created_ms", str(int(time.time() * 1000)), "original_by", original_by,
                  "original_decision", original_decision]
        k = self.keys
        result = self._add(
            keys=[k.appeal(appeal_id), k.appeal_of(comment_id, appellant.marker), k.queue("appeals"), k.events,
                  k.dsa_day(at[:10])],
            args=[appeal_id, json.dumps(fields, ensure_ascii=False), at, EVENTS_MAXLEN, comment_id],
        )
        if result[0] == "exists":
            raise AlreadyAppealed(str(result[1]))
        return appeal_id

    def get(self, appeal_id: str) -> dict[str, str] | None:
        found = cast(dict[str, str], self.redis.hgetall(self.keys.appeal(appeal_id)))
        return found or None

    def of(self, comment_id: str, appellant: Appellant) -> dict[str, str] | None:
        appeal_id = self.redis.get(self.keys.appeal_of(comment_id, appellant.marker))
        return self.get(str(appeal_id)) if appeal_id else None

    def decide(self, appeal_id: str, moderator: str, outcome: str, explanation: str) -> dict[str, str]:
        """Record the outcome of an open appeal; returns the appeal as it was filed."""
        appeal = self.get(appeal_id)
        if appeal is None:
            raise NotFound(appeal_id)
        at = now_iso()
        k = self.keys
        result = self._decide(
            keys=[k.appeal(appeal_id), k.queue("appeals"), k.events, k.dsa_day(at[:10]),
                  k.dsa_durations(at[:10], "appeal")],
            args=[moderator, outcome, explanation, at, int(time.time() * 1000), EVENTS_MAXLEN],
        )
        if result[0] == "not_found":
            raise NotFound(appeal_id)
        if result[0] == "same_moderator":
            raise SameModerator(appeal_id)
        if result[0] == "conflict":
            raise Decided(appeal_id)
        return appeal

    def page(self, cursor: str | None, limit: int) -> tuple[list[dict[str, str]], str | None]:
        return _page(self.redis, self.keys.queue("appeals"), self.keys.appeal, cursor, limit)


def public_appeal(appeal: dict[str, str]) -> dict[str, Any]:
    return {name: appeal.get(name) or None for name in (
        "id", "comment_id", "appellant", "notice_id", "text", "status", "created_at", "original_by",
        "original_decision", "decided_by", "decided_at", "outcome", "explanation")}
