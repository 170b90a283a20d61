"""Moderator accounts: tokens are shown once and stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Literal

from redis import Redis

from moderation.comments import now_iso
from moderation.keys import Keys

Role = Literal["moderator", "admin"]
ROLES: tuple[Role, ...] = ("moderator", "admin")


@dataclass(frozen=True, slots=True)
class Moderator:
    name: str
    role: Role
    created_at: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class ModeratorExists(Exception):
    """A moderator of that name already has a token; revoke it first."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Moderators:
    """Adds, lists, revokes and authenticates moderators."""

    def __init__(self, redis: Redis, keys: Keys | None = None) -> None:
        self.redis = redis
        self.keys = keys or Keys()

    def add(self, name: str, role: Role) -> str:
        """Create a moderator and return their new token; only its hash is kept."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        token = "mod_" + secrets.token_urlsafe(32)
        digest = _digest(token)
        record = json.dumps({"name": name, "role": role, "created_at": now_iso()})
        with self.redis.pipeline() as pipe:
            pipe.hsetnx(self.keys.moderator_names, name, digest)
            pipe.hset(self.keys.moderators, digest, record)
            created, _ = pipe.execute()
        if not created:
            self.redis.hdel(self.keys.moderators, digest)
            raise ModeratorExists(name)
        return token

    def authenticate(self, token: str) -> Moderator | None:
        """The moderator holding `token`, or None.

        The lookup is by SHA-256 of the token, so its timing says nothing about the token itself.
        """
        record = self.redis.hget(self.keys.moderators, _digest(token))
        if record is None:
            return None
        data = json.loads(record)
        return Moderator(data["name"], data["role"], data["created_at"])

    def get(self, name: str) -> Moderator | None:
        """The moderator of that name while their token is live, in one round trip."""
        digest = self.redis.hget(self.keys.moderator_names, name)
        record = self.redis.hget(self.keys.moderators, digest) if digest else None
        return Moderator(**json.loads(record)) if record else None

    def list(self) -> list[Moderator]:
        records = self.redis.hvals(self.keys.moderators)
        moderators = [Moderator(**json.loads(record)) for record in records]
        return sorted(moderators, key=lambda m: m.name)

    def revoke(self, name: str) -> bool:
        """Remove a moderator's token at once; False if there was none."""
        digest = self.redis.hget(self.keys.moderator_names, name)
        if digest is None:
            return False
        with self.redis.pipeline() as pipe:
            pipe.hdel(self.keys.moderators, digest)
            pipe.hdel(self.keys.moderator_names, name)
            pipe.execute()
        return True
