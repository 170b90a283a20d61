"""Bringing a store written by an earlier version to today's layout (`moderation migrate`).

Today's version reads the old layout as it is (a comment's earlier events in a stream of its own),
so the service can run before, during and after a migration; migrating gives back the memory. Each
comment moves in one script, so a migration stopped halfway leaves every comment whole, and running
it again finishes the job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from moderation.store import CommentStore, lua_script

BATCH = 200


@dataclass(frozen=True, slots=True)
class MigrationReport:
    comments: int
    histories_moved: int
    hashes_compacted: int


def migrate(store: CommentStore, progress: Callable[[int], None] | None = None) -> MigrationReport:
    """Move every comment's history into its hash, compact its hash, and drop indexes no longer used."""
    redis, keys = store.redis, store.keys
    script = redis.register_script(lua_script("migrate_comments.lua"))
    comments = moved = compacted = 0
    after = "-"
    while True:
        ids: list[str] = redis.zrangebylex(keys.all_comments, after, "+", 0, BATCH)  # type: ignore[assignment]
        if not ids:
            break
        after = "(" + ids[-1]
        histories, hashes = script(keys=[keys.all_comments], args=[keys.prefix, *ids])
        comments, moved, compacted = comments + len(ids), moved + int(histories), compacted + int(hashes)
        if progress:
            progress(len(ids))
    # The purge of network data walks the index of all comments now (purge_origins.lua).
    redis.delete(keys.origins)
    return MigrationReport(comments, moved, compacted)
