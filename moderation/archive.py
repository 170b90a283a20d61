"""A newsroom's own archive: any slice of the comments written to compressed JSON Lines, and, if asked,
taken out of Redis once written.

Comments are read in the order they arrived (the index of all comments; ids are ULIDs, which sort by
time), a batch at a time, and each one is written whole: its fields and its history. With `remove`
a batch is dropped only after it is on disk, in one script that keeps any comment a moderator may
still need: one waiting in the pending or reported queue, one under a live claim, or one changed
since it was read (that one goes out with the next export instead).
"""

from __future__ import annotations

import gzip
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moderation.comments import id_prefix
from moderation.store import CommentStore, lua_script

BATCH = 500
STATUSES = ("published", "pending", "rejected")


@dataclass(frozen=True, slots=True)
class Slice:
    """Which comments: all of them, or one article's, one status's, those older than some days."""

    article_id: str | None = None
    status: str | None = None
    older_than_days: float | None = None

    def __post_init__(self) -> None:
        if self.status is not None and self.status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {self.status!r}")
        if self.older_than_days is not None and self.older_than_days < 0:
            raise ValueError("older_than_days must not be negative")

    def upper_bound(self, now: float) -> str:
        """The ZRANGEBYLEX bound below which ids are old enough."""
        if self.older_than_days is None:
            return "+"
        return "(" + id_prefix(int((now - self.older_than_days * 86400) * 1000))

    def holds(self, record: dict[str, str]) -> bool:
        return ((self.article_id is None or record.get("article_id") == self.article_id)
                and (self.status is None or record.get("status") == self.status))


@dataclass(frozen=True, slots=True)
class ExportReport:
    written: int
    removed: int
    kept: int  # written but left in Redis: waiting for a moderator, claimed, or changed meanwhile


def as_exported(record: dict[str, str], history: list[dict[str, str]]) -> dict[str, Any]:
    """One comment as a line of the archive: its stored fields, and its history as a list of events."""
    fields = {name: value for name, value in record.items() if name != "history"}
    return {**fields, "history": history}


class Archive:
    """Exports slices of one store."""

    def __init__(self, store: CommentStore) -> None:
        self.store = store
        self._drop = store.redis.register_script(lua_script("drop_exported.lua"))

    def candidates(self, where: Slice, now: float | None = None) -> int:
        """How many comments `comments` looks at (those old enough), for a progress bar's total."""
        return int(self.store.redis.zlexcount(self.store.keys.all_comments, "-", where.upper_bound(now or time.time())))

    def comments(self, where: Slice, now: float | None = None) -> Iterator[tuple[int, list[dict[str, str]]]]:
        """The slice's comments, oldest first, a batch at a time, each with how many comments were looked at."""
        redis, keys = self.store.redis, self.store.keys
        bound = where.upper_bound(now or time.time())
        after = "-"
        while True:
            ids: list[str] = redis.zrangebylex(keys.all_comments, after, bound, 0, BATCH)  # type: ignore[assignment]
            if not ids:
                return
            after = "(" + ids[-1]
            yield len(ids), [record for record in self.store.get_many(ids) if where.holds(record)]

    def export(self, where: Slice, path: Path, *, remove: bool = False,
               progress: Callable[[int], None] | None = None) -> ExportReport:
        """Write the slice to `path` (gzip-compressed JSON Lines); with `remove`, drop what was written."""
        written = removed = 0
        with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb") as out:
            for looked_at, batch in self.comments(where):
                for record, history in zip(batch, self.store.histories(batch), strict=True):
                    line = as_exported(record, history)
                    out.write(json.dumps(line, ensure_ascii=False).encode() + b"\n")
                written += len(batch)
                if remove and batch:
                    # On disk before anything leaves Redis: a crash between the two loses nothing.
                    out.flush()
                    raw.flush()
                    os.fsync(raw.fileno())
                    removed += len(self.remove(batch))
                if progress:
                    progress(looked_at)
        return ExportReport(written, removed, written - removed if remove else 0)

    def remove(self, records: list[dict[str, str]]) -> list[str]:
        """Drop these comments, as `comments` read them, unless one has changed since or a moderator may
        still need it (drop_exported.lua); returns the ids dropped."""
        keys = self.store.keys
        read = [value for record in records
                for value in (record["id"], len(record.get("history", "").encode()))]
        dropped: list[str] = self._drop(
            keys=[keys.all_comments, keys.queue("pending"), keys.queue("reported"), keys.queue("approved"),
                  keys.queue("rejected")],
            args=[keys.prefix, int(time.time() * 1000), *read],
        )
        return dropped


def read_archive(path: Path) -> Iterator[dict[str, Any]]:
    """The comments of an archive `export` wrote, one dict each."""
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)
