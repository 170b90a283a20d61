"""Moderators' notes on an author: who wrote what, when. Notes are personal data, so erasure removes them."""

from __future__ import annotations

import json
from typing import Any, cast

from redis import Redis
from ulid import ULID

from moderation.comments import now_iso
from moderation.keys import Keys

MAX_NOTES = 500  # per author: a file that long is no longer read, and each GET of the author returns them all
# The cap is checked and the note added in one step, so two moderators at once cannot pass it together.
_ADD = """
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"""


class TooManyNotes(Exception):
    """The author has MAX_NOTES notes already."""


class Notes:
    """Notes on authors, one hash per identity (note id -> JSON), ids sorting by when they were written."""

    def __init__(self, redis: Redis, keys: Keys | None = None) -> None:
        self.redis = redis
        self.keys = keys or Keys()
        self._add = redis.register_script(_ADD)

    def add(self, identity: str, text: str, moderator: str) -> dict[str, Any]:
        note = {"id": str(ULID()), "text": text, "by": moderator, "at": now_iso()}
        added = self._add(keys=[self.keys.author_notes(identity)],
                          args=[note["id"], json.dumps(note, ensure_ascii=False), MAX_NOTES])
        if not added:
            raise TooManyNotes(identity)
        return note

    def delete(self, identity: str, note_id: str) -> bool:
        return bool(self.redis.hdel(self.keys.author_notes(identity), note_id))

    def of(self, identity: str) -> list[dict[str, Any]]:
        """An author's notes, oldest first."""
        found = cast(dict[str, str], self.redis.hgetall(self.keys.author_notes(identity)))
        return [json.loads(found[note_id]) for note_id in sorted(found)]
