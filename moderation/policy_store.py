"""The live policy and per-article modes in Redis, changed by admins and audited."""

from __future__ import annotations

import json
from typing import Any, cast

from redis import Redis

from moderation.comments import now_iso
from moderation.keys import Keys
from moderation.policy import ArticleMode, Policy

POLICY_AUDIT_MAXLEN = 100_000


class PolicyStore:
    """Reads the policy on every use, so an admin's change applies at once on every worker."""

    def __init__(self, redis: Redis, keys: Keys | None = None) -> None:
        self.redis = redis
        self.keys = keys or Keys()

    def load(self) -> Policy:
        raw = self.redis.get(self.keys.policy)
        return Policy.model_validate_json(cast(str, raw)) if raw else Policy()

    def for_article(self, article_id: str) -> tuple[Policy, ArticleMode]:
        """The policy and the article's mode, in one round trip."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.get(self.keys.policy)
        pipe.hget(self.keys.article_modes, article_id)
        raw, mode = pipe.execute()
        policy = Policy.model_validate_json(raw) if raw else Policy()
        return policy, cast(ArticleMode, mode or policy.default_article_mode)

    def update(self, changes: dict[str, Any], actor: str) -> Policy:
        """Apply a partial change (validated as a whole) and audit who made it."""
        current = self.load()
        policy = Policy.model_validate({**current.model_dump(), **changes})
        with self.redis.pipeline() as pipe:
            pipe.set(self.keys.policy, policy.model_dump_json())
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

    def audit(self, count: int = 100) -> list[dict[str, str]]:
        entries = self.redis.xrevrange(self.keys.policy_audit, count=count)
        return [cast(dict[str, str], fields) for _, fields in entries]  # type: ignore[union-attr]
