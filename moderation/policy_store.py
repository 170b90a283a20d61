"""The live policy and per-article modes and languages in Redis, changed by admins and audited."""

from __future__ import annotations

import json
import secrets
import threading
import time
from typing import Any, cast

from redis import Redis

from moderation.comments import now_iso
from moderation.keys import Keys
from moderation.policy import ArticleMode, Policy
from moderation.redis_client import ReadQueue

POLICY_AUDIT_MAXLEN = 100_000
# How old the in-process copy of the policy may get before intake reads the whole policy again, even
# when its version token has not changed: a backstop for writes that bypass `update` (a restore, a
# hand edit, a flushed database). Changes made through `update` are seen by the very next post.
POLICY_RECHECK_SECONDS = 1.0


class PolicyStore:
    """The live policy, kept parsed in each process and revalidated on every use.

    `update` writes the policy and a new random version token in one transaction. Intake reads the
    token (one GET in the pipeline it already sends for the article mode and the author's history)
    and reloads the policy only when the token differs from the one its copy was loaded with, so an
    admin's change applies to the next post on every worker. Every POLICY_RECHECK_SECONDS the
    pipeline also carries the policy itself, so even a write that skips `update` applies within
    about a second.
    """

    def __init__(self, redis: Redis, keys: Keys | None = None,
                 recheck_seconds: float = POLICY_RECHECK_SECONDS) -> None:
        self.redis = redis
        self.keys = keys or Keys()
        self.recheck_seconds = recheck_seconds
        # (version token, raw JSON, parsed policy): what this process last read, and when.
        self._cached: tuple[str | None, str | None, Policy] | None = None
        self._checked_at = 0.0
        # When `current` last confirmed its copy against the version token.
        self._confirmed_at = 0.0
        self._lock = threading.Lock()

    def load(self) -> Policy:
        raw = self.redis.get(self.keys.policy)
        return Policy.model_validate_json(cast(str, raw)) if raw else Policy()

    # -- the cached policy, for intake ----------------------------------------------------------

    def cached(self) -> Policy:
        """The policy as this process last read it (the defaults before the first read); no round trip."""
        cached = self._cached
        return cached[2] if cached is not None else Policy()

    def queue_for_article(self, pipe: ReadQueue, article_id: str) -> int:
        """Add the reads `for_article_from` needs to `pipe`; returns how many replies they take."""
        pipe.get(self.keys.policy_version)
        pipe.hget(self.keys.article_modes, article_id)
        if self._cached is None or time.monotonic() - self._checked_at >= self.recheck_seconds:
            pipe.get(self.keys.policy)
            return 3
        return 2

    def for_article_from(self, replies: list[Any]) -> tuple[Policy, ArticleMode]:
        """The policy and the article's mode from the replies to `queue_for_article`'s reads."""
        version, mode = replies[0], replies[1]
        if len(replies) > 2:
            policy = self._remember(version, replies[2])
        else:
            cached = self._cached
            policy = cached[2] if cached is not None and cached[0] == version else self._reload()
        return policy, cast(ArticleMode, mode or policy.default_article_mode)

    def queue_article_language(self, pipe: ReadQueue, article_id: str) -> int:
        """Add the read of the article's own language (`article_language_from`) to `pipe`; returns how many."""
        pipe.hget(self.keys.article_languages, article_id)
        return 1

    @staticmethod
    def article_language_from(replies: list[Any]) -> str | None:
        """The article's language from the reply to `queue_article_language`'s read; None: the site's."""
        return str(replies[0]) if replies[0] else None

    def for_article(self, article_id: str) -> tuple[Policy, ArticleMode]:
        """The policy and the article's mode, in one round trip (two after a policy change)."""
        pipe = self.redis.pipeline(transaction=False)
        self.queue_for_article(pipe, article_id)
        return self.for_article_from(pipe.execute())

    def current(self, fresh_within: float = 0.0) -> Policy:
        """The live policy for scoring outside intake (the drop-in surfaces): this process's copy while its
        version token holds, so usually one GET; none at all while the copy was confirmed less than
        `fresh_within` seconds ago (for callers whose latency matters more than a change applying at once)."""
        now = time.monotonic()
        cached = self._cached
        if cached is not None and now - self._confirmed_at < fresh_within:
            return cached[2]
        recheck = cached is None or now - self._checked_at >= self.recheck_seconds
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.get(self.keys.policy_version)
            if recheck:
                pipe.get(self.keys.policy)
            replies = pipe.execute()
        if recheck:
            policy = self._remember(replies[0], replies[1])
        else:
            policy = cached[2] if cached is not None and cached[0] == replies[0] else self._reload()
        self._confirmed_at = now
        return policy

    def _remember(self, version: str | None, raw: str | None) -> Policy:
        """Keep the policy read with `version`; parses it again only when its text changed."""
        with self._lock:
            cached = self._cached
            if cached is not None and cached[1] == raw:
                policy = cached[2]
            else:
                policy = Policy.model_validate_json(raw) if raw else Policy()
            self._cached = (version, raw, policy)
            self._checked_at = time.monotonic()
            return policy

    def _reload(self) -> Policy:
        """The version token changed: read the policy and its token together (one transaction)."""
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.get(self.keys.policy_version)
            pipe.get(self.keys.policy)
            version, raw = pipe.execute()
        return self._remember(version, raw)

    def update(self, changes: dict[str, Any], actor: str) -> Policy:
        """Apply a partial change (validated as a whole) and audit who made it."""
        current = self.load()
        policy = Policy.model_validate({**current.model_dump(), **changes})
        with self.redis.pipeline() as pipe:
            pipe.set(self.keys.policy, policy.model_dump_json())
            # A random token, not a counter: a flushed and rebuilt database cannot repeat an old one.
            pipe.set(self.keys.policy_version, secrets.token_hex(8))
            pipe.xadd(
                self.keys.policy_audit,
                {"event": "policy_changed", "actor": actor, "at": now_iso(), "changes": json.dumps(changes)},
                maxlen=POLICY_AUDIT_MAXLEN,
                approximate=True,
            )
            pipe.execute()
        return policy

    def set_article_mode(self, article_id: str, mode: ArticleMode, actor: str) -> None:
        with self.redis.pipeline() as pipe:
            pipe.hset(self.keys.article_modes, article_id, mode)
            pipe.xadd(
                self.keys.policy_audit,
                {"event": "article_mode", "actor": actor, "at": now_iso(), "article_id": article_id,
                 "mode": mode},
                maxlen=POLICY_AUDIT_MAXLEN,
                approximate=True,
            )
            pipe.execute()

    def article_modes(self) -> dict[str, str]:
        return cast(dict[str, str], self.redis.hgetall(self.keys.article_modes))

    def set_article_language(self, article_id: str, language: str | None, actor: str) -> None:
        """Set the language an article's comments are taken to be in when too short to tell (None: the site's)."""
        with self.redis.pipeline() as pipe:
            if language:
                pipe.hset(self.keys.article_languages, article_id, language)
            else:
                pipe.hdel(self.keys.article_languages, article_id)
            pipe.xadd(
                self.keys.policy_audit,
                {"event": "article_language", "actor": actor, "at": now_iso(), "article_id": article_id,
                 "language": language or ""},
                maxlen=POLICY_AUDIT_MAXLEN,
                approximate=True,
            )
            pipe.execute()

    def article_languages(self) -> dict[str, str]:
        return cast(dict[str, str], self.redis.hgetall(self.keys.article_languages))

    def audit(self, count: int = 100) -> list[dict[str, str]]:
        entries = self.redis.xrevrange(self.keys.policy_audit, count=count)
        return [cast(dict[str, str], fields) for _, fields in entries]  # type: ignore[union-attr]
