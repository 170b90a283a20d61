"""API keys for the drop-in surfaces (Perspective, Akismet): shown once, stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import string
from dataclasses import dataclass

from redis import Redis

from moderation.comments import now_iso
from moderation.keys import Keys
from moderation.redis_client import ReadQueue

NAME_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
KEY_PREFIX = "mk_"
# WordPress's Akismet plugin refuses a key that is not 12 characters long before it sends anything, and can send
# the key as a host name label: such keys are 12 lower-case letters and digits (62 bits; revocable like any key).
AKISMET_KEY_LENGTH = 12
_AKISMET_ALPHABET = string.ascii_lowercase + string.digits


@dataclass(frozen=True, slots=True)
class ApiKey:
    """Who a key belongs to: a name an admin chose (a site, a Coral install), and when it was made."""

    name: str
    created_at: str


class ApiKeyExists(Exception):
    """A key of that name is live; revoke it first."""


class BadKeyName(ValueError):
    """Names are 1-64 letters, digits, dots, dashes or underscores: they appear in rate-limit keys and logs."""


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKeys:
    """Adds, lists, revokes and authenticates API keys."""

    def __init__(self, redis: Redis, keys: Keys | None = None) -> None:
        self.redis = redis
        self.keys = keys or Keys()

    def add(self, name: str, *, akismet: bool = False) -> str:
        """Create a key named `name` and return it; only its hash is kept. With `akismet`, a key shaped like
        Akismet's own, for clients that check the shape (WordPress's plugin)."""
        if not NAME_PATTERN.match(name):
            raise BadKeyName(name)
        if akismet:
            key = "".join(secrets.choice(_AKISMET_ALPHABET) for _ in range(AKISMET_KEY_LENGTH))
        else:
            key = KEY_PREFIX + secrets.token_urlsafe(32)
        digest = _digest(key)
        record = json.dumps({"name": name, "created_at": now_iso()})
        # Both writes or neither: a name claimed by a concurrent add leaves no orphaned key behind.
        script = """
        if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
        redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
        return 1
        """
        created = self.redis.eval(script, 2, self.keys.api_key_names, self.keys.api_keys, name, digest, record)
        if not created:
            raise ApiKeyExists(name)
        return key

    def authenticate(self, key: str) -> ApiKey | None:
        """The key's owner, or None; looked up by hash, so the timing says nothing about the key."""
        if not key:
            return None
        return self.from_reply(self.redis.hget(self.keys.api_keys, _digest(key)))  # type: ignore[arg-type]

    def queue_lookup(self, reads: ReadQueue, key: str) -> None:
        """Queue the read authenticate() makes (for EarlyReads: Redis answers while the request is worked on)."""
        reads.hget(self.keys.api_keys, _digest(key))

    @staticmethod
    def from_reply(record: str | None) -> ApiKey | None:
        """The key's owner from the queued read's reply, or None."""
        return ApiKey(**json.loads(record)) if record else None

    def list(self) -> list[ApiKey]:
        records = self.redis.hvals(self.keys.api_keys)
        return sorted((ApiKey(**json.loads(record)) for record in records), key=lambda k: k.name)

    def revoke(self, name: str) -> bool:
        """Stop a key working at once; False if there was none of that name."""
        script = """
        local digest = redis.call('HGET', KEYS[1], ARGV[1])
        if not digest then return 0 end
        redis.call('HDEL', KEYS[2], digest)
        redis.call('HDEL', KEYS[1], ARGV[1])
        return 1
        """
        return bool(self.redis.eval(script, 2, self.keys.api_key_names, self.keys.api_keys, name))
