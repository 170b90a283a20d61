"""Comments, queues, claims, decisions and audit trail in Redis; every change is one Lua script."""

from __future__ import annotations

import json
import math
import re
import time
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

from redis import Redis
from ulid import ULID

from moderation.comments import NewComment, id_prefix, now_iso, ulid_ms
from moderation.keys import QUEUES, SCORED_QUEUES, Keys
from moderation.model.languages import ENGLISH
from moderation.policy import Assessment, Decision, Policy
from moderation.redis_client import ReadQueue

EVENTS_MAXLEN = 1_000_000
IDEMPOTENCY_TTL = 24 * 3600
# How far a claim or a filtered queue read looks before giving up; bounds the work of one request.
SCAN_LIMIT = 5000
# What an article page shows of a comment; published_page reads only these (HMGET, not HGETALL).
PUBLIC_FIELDS = ("id", "parent_id", "name", "website", "body", "created_at")
# What the review queue's filters read of each item they pass over (queue_page).
FILTER_FIELDS = ["article_id", "reason_codes", "language"]
# Queue orders: arrival (oldest first), or uncertain (scores nearest the policy's hold thresholds first).
SORTS = ("arrival", "uncertain")
# The score indexes (and so `sort=uncertain`) keep scores in millionths, as the comment hash stores them.
SCORE_UNIT = 1_000_000
UNCERTAIN_CURSOR = re.compile(r"^(\d{7}):([0-9A-HJKMNP-TV-Z]{26})$")


def millionths(score: float) -> int:
    """A score or threshold in the whole millionths the score indexes hold (as queue_scores.lua rounds)."""
    return math.floor(score * SCORE_UNIT + 0.5)


def history_events(lines: str | None) -> list[dict[str, str]]:
    """The events of a comment's `history` field, one JSON object a line (history.lua writes them)."""
    return [json.loads(line) for line in (lines or "").split("\n") if line]


def _stream_events(entries: list[Any]) -> list[dict[str, str]]:
    """The fields of XRANGE's entries; a cluster pipeline hands them back raw, as flat field, value lists."""
    return [fields if isinstance(fields, dict) else dict(zip(fields[::2], fields[1::2], strict=True))
            for _, fields in entries]


def lua_script(name: str, *libraries: str) -> str:
    """A script's source, after the shared files whose local functions it calls."""
    folder = resources.files("moderation").joinpath("lua")
    shared = "".join(folder.joinpath(library).read_text() + "\n" for library in libraries)
    return shared + folder.joinpath(name).read_text()


@dataclass(frozen=True, slots=True)
class Submitted:
    id: str
    duplicate: bool = False


class IdempotencyMismatch(Exception):
    """The Idempotency-Key was used before for a different comment."""


class ParentNotFound(Exception):
    """The parent comment does not exist on this article."""


class NotFound(Exception):
    """No such comment (or not one the caller may see)."""


@dataclass(frozen=True, slots=True)
class Conflict(Exception):
    """Another decision or claim got there first."""

    why: Literal["decided", "version", "claimed"]


@dataclass(frozen=True, slots=True)
class Decided:
    id: str
    status: str
    version: int


class CommentStore:
    """All comment state, kept in one Redis server or cluster-free database."""

    def __init__(self, redis: Redis, keys: Keys | None = None) -> None:
        self.redis = redis
        self.keys = keys or Keys()
        self._submit = redis.register_script(lua_script("submit.lua", "queue_scores.lua", "history.lua"))
        self._claim = redis.register_script(lua_script("claim.lua", "uncertain.lua", "history.lua"))
        self._decide = redis.register_script(lua_script("decide.lua", "queue_scores.lua", "history.lua"))
        self._report = redis.register_script(lua_script("report.lua", "queue_scores.lua", "history.lua"))
        self._uncertain_page = redis.register_script(lua_script("queue_uncertain.lua", "uncertain.lua"))
        self._build_scores = redis.register_script(lua_script("queue_scores_build.lua", "queue_scores.lua"))
        self._scores_built = False
        self._erase = redis.register_script(lua_script("erase.lua", "history.lua"))
        self._purge_origins = redis.register_script(lua_script("purge_origins.lua"))

    # -- intake -------------------------------------------------------------------------------

    def author_approved(self, author_key: str) -> int:
        return int(self.redis.hget(self.keys.author(author_key), "approved") or 0)

    def author_context(self, author_key: str, text_fingerprint: str) -> tuple[int, bool, int]:
        """In one round trip: the author's approved count, whether they posted this text recently,
        and how many other authors did."""
        pipe = self.redis.pipeline(transaction=False)
        self.queue_author_context(pipe, author_key, text_fingerprint)
        return self.author_context_from(pipe.execute())

    def queue_author_context(self, pipe: ReadQueue, author_key: str, text_fingerprint: str) -> int:
        """Add `author_context`'s reads to `pipe` (intake sends them with the policy's); returns how many."""
        pipe.hget(self.keys.author(author_key), "approved")
        pipe.exists(self.keys.author_text(author_key, text_fingerprint))
        pipe.scard(self.keys.text_authors(text_fingerprint))
        pipe.sismember(self.keys.text_authors(text_fingerprint), author_key)
        return 4

    @staticmethod
    def author_context_from(replies: list[Any]) -> tuple[int, bool, int]:
        approved, own, authors, includes_self = replies
        return int(approved or 0), bool(own), int(authors) - int(bool(includes_self))

    def queue_recent_articles(self, pipe: ReadQueue, author_key: str, article_id: str, since_ms: int) -> int:
        """Add the reads `recent_articles_from` needs to `pipe`; returns how many."""
        pipe.zcount(self.keys.author_articles(author_key), since_ms, "+inf")
        pipe.zscore(self.keys.author_articles(author_key), article_id)
        return 2

    @staticmethod
    def recent_articles_from(replies: list[Any]) -> int:
        """How many articles the author will have commented on in the window, this one included."""
        others, here = replies
        return int(others) + (0 if here is not None else 1)

    def submit(
        self,
        comment: NewComment,
        assessment: Assessment,
        decision: Decision,
        model_version: str,
        idempotency: tuple[str, str] | None = None,
        *,
        text_fingerprint: str = "",
        duplicate_window: int = 600,
        burst_window: int = 600,
        extra: dict[str, str] | None = None,
        identity: str = "",
    ) -> Submitted:
        """Store a scored comment with its list, queue, author and audit entries, all or nothing."""
        k = self.keys
        status = decision.status
        queue = status if status in ("pending", "rejected") else ""
        codes = ",".join(decision.codes)
        spam, abuse = f"{assessment.spam:.6f}", f"{assessment.abuse:.6f}"
        reasons = json.dumps([reason.as_dict() for reason in decision.reasons], separators=(",", ":"))
        origin = comment.origin
        # The hash's fields travel as one JSON array of field, value, ... (in this order, which HGETALL
        # keeps): one argument to pack instead of about 40, decoded by cjson in the script.
        fields = [
            "id", comment.id,
            "article_id", comment.article_id,
            "parent_id", comment.parent_id or "",
            "name", comment.name,
            "email", comment.email,
            "website", comment.website,
            "author_key", comment.author_key,
            "body", comment.body,
            "ip", origin.ip,
            "user_agent", origin.user_agent,
            "referer", origin.referer,
            "created_at", comment.created_at,
            "status", status,
            "spam", spam,
            "abuse", abuse,
            "reasons", reasons,
            "reason_codes", codes,
            "model_version", model_version,
            "version", "1",
            "reports", "0",
            "language", comment.language,
        ]
        for name, value in (extra or {}).items():
            fields += (name, value)
        audit = {
            "event": "submitted",
            "actor": "system",
            "at": comment.created_at,
            "status": status,
            "reasons": codes,
            "spam": spam,
            "abuse": abuse,
            "model_version": model_version,
            "language": comment.language,
        }
        # Per language: what came in and what the machine made of it (GET /v1/review/stats adds them up).
        stats = [f"auto:{status}", f"model:{model_version}:auto:{status}", f"language:{comment.language}:{status}"]
        stats += [f"auto:{status}:{code}" for code in decision.codes]
        idem_key, fingerprint = idempotency or ("", "")
        result = self._submit(
            keys=[
                k.comment(comment.id),
                k.article_published(comment.article_id),
                k.queue(queue or "pending"),
                k.author_comments(comment.author_key),
                k.events,
                k.idempotency(idem_key),
                k.comment(comment.parent_id or "-"),
                k.stats,
                k.author_text(comment.author_key, text_fingerprint),
                k.text_authors(text_fingerprint),
                k.all_comments,
                k.author_articles(comment.author_key),
                *k.scored_queue_keys("pending"),
                k.queue_scores_built,
                k.author(comment.author_key),
                k.author_aliases(identity or comment.author_key),
                k.dsa_day(comment.created_at[:10]),
            ],
            args=[
                comment.id,
                comment.article_id,
                comment.parent_id or "",
                fingerprint,
                IDEMPOTENCY_TTL,
                status,
                queue,
                json.dumps(audit),
                json.dumps(stats),
                EVENTS_MAXLEN,
                duplicate_window,
                comment.author_key,
                ulid_ms(comment.id),
                # ensure_ascii=False: text goes as UTF-8, as it did as separate arguments.
                json.dumps(fields, ensure_ascii=False, separators=(",", ":")),
                burst_window * 1000,
                spam,
                abuse,
                identity if identity != comment.author_key else "",
                # An automatic rejection is a restriction the transparency report counts (DSA Art. 15(1)(c)).
                json.dumps([f"restricted:automated:{decision.codes[0]}"] if status == "rejected" else []),
            ],
        )
        outcome = result[0]
        if outcome == "duplicate":
            if result[2] != fingerprint:
                raise IdempotencyMismatch(result[1])
            return Submitted(result[1], duplicate=True)
        if outcome == "no_parent":
            raise ParentNotFound(comment.parent_id)
        if outcome != "ok":
            raise RuntimeError(f"submit script answered {outcome!r}")
        return Submitted(comment.id)

    # -- reads ----------------------------------------------------------------------------------

    def get(self, comment_id: str) -> dict[str, str] | None:
        record: dict[str, str] = self.redis.hgetall(self.keys.comment(comment_id))  # type: ignore[assignment]
        return record or None

    def get_many(self, comment_ids: list[str]) -> list[dict[str, str]]:
        pipe = self.redis.pipeline(transaction=False)
        for comment_id in comment_ids:
            pipe.hgetall(self.keys.comment(comment_id))
        return [record for record in pipe.execute() if record]

    def _page(self, key: str, cursor: str | None, limit: int) -> tuple[list[str], str | None]:
        start = f"({cursor}" if cursor else "-"
        ids: list[str] = self.redis.zrangebylex(key, start, "+", 0, limit + 1)  # type: ignore[assignment]
        more = len(ids) > limit
        ids = ids[:limit]
        return ids, (ids[-1] if more and ids else None)

    def published_page(
        self, article_id: str, cursor: str | None, limit: int
    ) -> tuple[list[dict[str, str]], str | None]:
        """An article's published comments in arrival order, `limit` after `cursor`: their PUBLIC_FIELDS only."""
        ids, next_cursor = self._page(self.keys.article_published(article_id), cursor, limit)
        pipe = self.redis.pipeline(transaction=False)
        for comment_id in ids:
            pipe.hmget(self.keys.comment(comment_id), PUBLIC_FIELDS)
        records = [
            {field: value or "" for field, value in zip(PUBLIC_FIELDS, values, strict=True)}
            for values in pipe.execute()
            if values[0] is not None
        ]
        return records, next_cursor

    def queue_page(
        self,
        queue: str,
        cursor: str | None,
        limit: int,
        *,
        article_id: str | None = None,
        reason: str | None = None,
        language: str | None = None,
        sort: str = "arrival",
        policy: Policy | None = None,
    ) -> tuple[list[dict[str, str]], str | None]:
        """A queue's items, oldest first (or nearest the policy's hold thresholds first), optionally
        only one article's, one reason's or one language's (a comment stored before languages is `en`)."""
        if queue not in QUEUES:
            raise ValueError(queue)
        if not article_id and not reason and not language:
            positions, next_cursor = self._walk(queue, sort, policy, cursor, limit)
            return self.get_many([comment_id for _, comment_id in positions]), next_cursor
        # The filters read three short fields of each item scanned; only the matches are read whole.
        matches: list[tuple[str, str]] = []
        scanned = 0
        resume = None
        while len(matches) <= limit:
            positions, more = self._walk(queue, sort, policy, cursor, 200)
            scanned += len(positions)
            pipe = self.redis.pipeline(transaction=False)
            for _, comment_id in positions:
                pipe.hmget(self.keys.comment(comment_id), FILTER_FIELDS)
            for (position, comment_id), (article, codes, found) in zip(positions, pipe.execute(), strict=True):
                if article is None:
                    continue  # gone since the queue was read
                if article_id and article != article_id:
                    continue
                if reason and reason not in (codes or "").split(","):
                    continue
                if language and (found or ENGLISH) != language:
                    continue
                matches.append((position, comment_id))
            if not more:
                break
            cursor = more
            if scanned >= SCAN_LIMIT:
                # A scan stopped by SCAN_LIMIT hands back where it got to, so the caller can go on.
                resume = more
                break
        if len(matches) > limit:
            resume = matches[limit - 1][0]
        return self.get_many([comment_id for _, comment_id in matches[:limit]]), resume

    def _walk(self, queue: str, sort: str, policy: Policy | None, cursor: str | None,
              count: int) -> tuple[list[tuple[str, str]], str | None]:
        """Up to `count` of a queue's item ids after `cursor` in the given order, each with its own cursor,
        and the cursor to go on from (None at the end)."""
        if sort == "arrival":
            ids, more = self._page(self.keys.queue(queue), cursor, count)
            return [(comment_id, comment_id) for comment_id in ids], more
        if sort != "uncertain" or queue not in SCORED_QUEUES:
            raise ValueError(f"sort {sort!r} on queue {queue!r}")
        if policy is None:
            raise ValueError("sort=uncertain needs the policy's hold thresholds")
        self.ensure_queue_scores()
        after_distance, after_id = "", ""
        if cursor:
            match = UNCERTAIN_CURSOR.match(cursor)
            if match is None:
                raise ValueError(f"not an uncertain-order cursor: {cursor!r}")
            after_distance, after_id = str(int(match.group(1))), match.group(2)
        reply: list[str] = self._uncertain_page(
            keys=self.keys.scored_queue_keys(queue),
            args=[self.keys.prefix, millionths(policy.spam_hold), millionths(policy.abuse_hold),
                  after_distance, after_id, count + 1, SCAN_LIMIT],
        )
        *found, stopped_distance, stopped_id = reply
        positions = [(f"{int(found[i + 1]):07d}:{found[i]}", found[i]) for i in range(0, len(found), 2)]
        more = positions[count - 1][0] if len(positions) > count else None
        if more is None and stopped_id:
            more = f"{int(stopped_distance):07d}:{stopped_id}"
        return positions[:count], more

    def ensure_queue_scores(self) -> None:
        """Start keeping the score indexes (sort=uncertain), and index what is already queued (once per database).

        The marker goes first: from then on every script that queues a comment indexes it too, and the
        walk below indexes everything queued before, so no comment falls between the two.
        """
        if self._scores_built:
            return
        if self.redis.set(self.keys.queue_scores_built, "building", nx=True) or \
                self.redis.get(self.keys.queue_scores_built) == "building":
            for queue in SCORED_QUEUES:
                cursor = "-"
                while True:
                    last = self._build_scores(keys=[self.keys.queue(queue), *self.keys.scored_queue_keys(queue)],
                                              args=[self.keys.prefix, cursor, 500])
                    if not last:
                        break
                    cursor = "(" + str(last)
            self.redis.set(self.keys.queue_scores_built, now_iso())
        self._scores_built = True

    def history(self, comment_id: str) -> list[dict[str, str]]:
        """Every event of one comment, oldest first.

        Events are lines of the comment's `history` field (history.lua); a comment stored before that
        may still have its earlier events in a stream of its own until `moderation migrate` moves them.
        """
        pipe = self.redis.pipeline(transaction=True)
        pipe.xrange(self.keys.audit(comment_id))
        pipe.hget(self.keys.comment(comment_id), "history")
        legacy, lines = pipe.execute()
        return _stream_events(legacy) + history_events(lines)

    def histories(self, records: list[dict[str, str]]) -> list[list[dict[str, str]]]:
        """`history` of each of these comment records (as `get_many` returns them), in one round trip."""
        pipe = self.redis.pipeline(transaction=False)
        for record in records:
            pipe.xrange(self.keys.audit(record["id"]))
        return [_stream_events(legacy) + history_events(record.get("history"))
                for record, legacy in zip(records, pipe.execute(), strict=True)]

    def author(self, author_key: str) -> dict[str, int]:
        pipe = self.redis.pipeline(transaction=False)
        pipe.hgetall(self.keys.author(author_key))
        pipe.zcard(self.keys.author_comments(author_key))
        counts, total = pipe.execute()
        return {
            "approved": int(counts.get("approved", 0)),
            "rejected": int(counts.get("rejected", 0)),
            "comments": int(total),
        }

    def authors(self, author_keys: set[str]) -> dict[str, dict[str, int]]:
        """`author` of each key, in one round trip."""
        ordered = sorted(author_keys)
        pipe = self.redis.pipeline(transaction=False)
        for key in ordered:
            pipe.hgetall(self.keys.author(key))
            pipe.zcard(self.keys.author_comments(key))
        replies = pipe.execute()
        found = {}
        for i, key in enumerate(ordered):
            counts, total = replies[2 * i], replies[2 * i + 1]
            found[key] = {"approved": int(counts.get("approved", 0)), "rejected": int(counts.get("rejected", 0)),
                          "comments": int(total)}
        return found

    def author_page(
        self, author_key: str, cursor: str | None, limit: int
    ) -> tuple[list[dict[str, str]], str | None]:
        ids, next_cursor = self._page(self.keys.author_comments(author_key), cursor, limit)
        return self.get_many(ids), next_cursor

    # -- readers' reports -----------------------------------------------------------------------

    def report(self, comment_id: str, reason: str, note: str) -> int:
        """Count a reader's report and queue the comment for review; NotFound unless published."""
        k = self.keys
        result = self._report(
            keys=[k.comment(comment_id), k.queue("reported"), k.events, k.stats,
                  *k.scored_queue_keys("reported"), k.queue_scores_built],
            args=[comment_id, reason, note, now_iso(), EVENTS_MAXLEN],
        )
        if result[0] != "ok":
            raise NotFound(comment_id)
        return int(result[1])

    # -- moderators -----------------------------------------------------------------------------

    def claim(self, moderator: str, queue: str, limit: int, lease_seconds: int, *, sort: str = "arrival",
              policy: Policy | None = None) -> list[str]:
        """Lease up to `limit` free items of `queue` to `moderator`, oldest first or (sort 'uncertain')
        nearest the policy's hold thresholds first; returns their ids."""
        if queue not in QUEUES:
            raise ValueError(queue)
        holds: list[int] = []
        if sort == "uncertain":
            if queue not in SCORED_QUEUES or policy is None:
                raise ValueError(f"sort=uncertain needs a policy and one of {SCORED_QUEUES}")
            self.ensure_queue_scores()
            holds = [millionths(policy.spam_hold), millionths(policy.abuse_hold)]
        elif sort != "arrival":
            raise ValueError(sort)
        now_ms = int(time.time() * 1000)
        ids: list[str] = self._claim(
            keys=[self.keys.queue(queue), self.keys.events, *self.keys.scored_queue_keys(queue)],
            args=[
                self.keys.prefix,
                moderator,
                limit,
                lease_seconds * 1000,
                now_ms,
                SCAN_LIMIT,
                EVENTS_MAXLEN,
                now_iso(),
                sort,
                *holds,
            ],
        )
        return ids

    def decide(
        self,
        comment_id: str,
        moderator: str,
        action: str,
        reason: str | None,
        note: str | None,
        version: int | None,
        *,
        policy: Policy | None = None,
        ground: str | None = None,
    ) -> Decided:
        """Apply a decision; raises Conflict for the loser of a race, NotFound for no comment.

        A rejection for one of the policy's `reputation_reasons` goes on the author's record (the
        reputation rule), which keeps each decision for the policy's window.
        """
        policy = policy or Policy()
        k = self.keys
        article_id, author = self.redis.hmget(k.comment(comment_id), ["article_id", "author_key"])
        if article_id is None:
            raise NotFound(comment_id)
        result = self._decide(
            keys=[
                k.comment(comment_id),
                k.queue("pending"),
                k.queue("reported"),
                k.queue("rejected"),
                k.queue("approved"),
                k.article_published(str(article_id)),
                k.author(str(author)),
                k.events,
                k.stats,
                *k.scored_queue_keys("pending"),
                *k.scored_queue_keys("reported"),
            ],
            args=[
                comment_id,
                action,
                moderator,
                reason or "",
                note or "",
                "" if version is None else str(version),
                int(time.time() * 1000),
                now_iso(),
                EVENTS_MAXLEN,
                k.prefix,
                str(author),
                "1" if action == "reject" and reason in policy.reputation_reasons else "",
                max(policy.reputation_window_days, 1) * 86_400_000,
                ground or "",
                k.dsa_day(now_iso()[:10]),
            ],
        )
        if result[0] == "not_found":
            raise NotFound(comment_id)
        if result[0] == "conflict":
            raise Conflict(result[1])
        return Decided(comment_id, result[2], int(result[1]))

    # -- stats and erasure ----------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """Queue depths, oldest pending age, and decision counters."""
        pipe = self.redis.pipeline(transaction=False)
        for queue in QUEUES:
            pipe.zcard(self.keys.queue(queue))
        pipe.zrangebylex(self.keys.queue("pending"), "-", "+", 0, 1)
        pipe.hgetall(self.keys.stats)
        *depths, oldest, counters = pipe.execute()
        oldest_age = None
        if oldest:
            oldest_age = round(time.time() - ULID.from_str(oldest[0]).timestamp, 3)
        return {
            "queues": dict(zip(QUEUES, (int(d) for d in depths), strict=True)),
            "oldest_pending_age_seconds": oldest_age,
            "counters": {name: int(value) for name, value in counters.items()},
        }

    def pending_languages(self, limit: int = SCAN_LIMIT) -> tuple[dict[str, int], int]:
        """The pending queue's oldest `limit` items counted by language, and how many were counted.

        Two round trips, whatever the queue holds; a comment stored before languages were counts as English.
        """
        ids: list[str] = self.redis.zrangebylex(self.keys.queue("pending"), "-", "+", 0, limit)  # type: ignore[assignment]
        pipe = self.redis.pipeline(transaction=False)
        for comment_id in ids:
            pipe.hmget(self.keys.comment(comment_id), ["id", "language"])
        counts: dict[str, int] = {}
        for found, language in pipe.execute():
            if found is not None:  # not decided and gone meanwhile
                counts[language or ENGLISH] = counts.get(language or ENGLISH, 0) + 1
        return counts, sum(counts.values())

    def erase_author(self, author_key: str, admin: str) -> int:
        """Blank an author's name, email, website and network data on every comment; returns how many."""
        k = self.keys
        count: int = self._erase(
            keys=[k.author_comments(author_key), k.author(author_key), k.events],
            args=[k.prefix, now_iso(), EVENTS_MAXLEN, "[erased]", admin, author_key],
        )
        return count

    def purge_origins(self, older_than_seconds: float, batch: int = 1000, max_batches: int | None = None) -> int:
        """Blank IP, User-Agent and Referer of comments older than the retention; returns how many."""
        cutoff = id_prefix(int((time.time() - older_than_seconds) * 1000))
        total, batches = 0, 0
        while max_batches is None or batches < max_batches:
            batches += 1
            purged = int(self._purge_origins(keys=[self.keys.all_comments, self.keys.origins_purged],
                                             args=[self.keys.prefix, cutoff, batch]))
            total += purged
            if purged < batch:
                break
        return total
