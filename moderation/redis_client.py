"""Connecting to Redis: one server (redis://, rediss://, unix://) or a cluster (redis+cluster://)."""

from __future__ import annotations

import logging
import os
from typing import Any, Protocol, cast

from redis import Redis
from redis.cluster import RedisCluster
from redis.connection import Connection
from redis.exceptions import ConnectionError, RedisError, TimeoutError

log = logging.getLogger(__name__)

CLUSTER_SCHEME = "redis+cluster://"
# The server settings the store is sized for (docs/DEPLOY.md, "Sizing"). A comment's hash, its history
# included, keeps Redis's compact encoding (a listpack) while no field is longer than this many bytes:
# at the default, 64, any comment longer than a sentence turns its hash into a hash table about twice
# the size. And no eviction, since an evicted key is a lost comment. Redis 6 and 7 both know the
# `ziplist` name (7 calls the encoding listpack).
STORE_CONFIG = {"hash-max-ziplist-value": "8192", "maxmemory-policy": "noeviction"}


def connect(url: str, **options: Any) -> Redis:
    """A client for `url`; a cluster client quacks like a single-server one for our single-slot keys."""
    if url.startswith(CLUSTER_SCHEME):
        options.pop("health_check_interval", None)
        return cast(Redis, RedisCluster.from_url("redis://" + url.removeprefix(CLUSTER_SCHEME), **options))
    return Redis.from_url(url, **options)


def config_advice(redis: Redis) -> list[str]:
    """What the server's settings lack of STORE_CONFIG, a sentence each (none when all is well)."""
    advice = []
    try:
        found = {name: str(next(iter(redis.config_get(name).values()), "")) for name in STORE_CONFIG}
    except (ConnectionError, TimeoutError):
        return []  # not up yet: /readyz says so, and this is asked again at the next start
    except RedisError as error:  # CONFIG renamed or refused, as managed services do
        return [f"could not read the Redis server's settings ({error}); set {STORE_CONFIG} there (docs/DEPLOY.md)"]
    for name, wanted in STORE_CONFIG.items():
        value = found[name]
        short = value.isdigit() and wanted.isdigit() and int(value) < int(wanted)
        if short or (not wanted.isdigit() and value != wanted):
            advice.append(f"Redis has {name} {value or '(unset)'}, the store is sized for {wanted} (docs/DEPLOY.md)")
    return advice


def from_environment() -> Redis:
    """The commands' Redis: REDIS_URL, which must be set (the server `moderation serve` uses)."""
    url = os.environ.get("REDIS_URL")
    if not url:
        raise SystemExit("REDIS_URL is not set: point it at the Redis server that `moderation serve` uses")
    return connect(url, decode_responses=True)


class ReadQueue(Protocol):
    """The read commands intake queues: a redis-py pipeline has them, and so has EarlyReads."""

    def get(self, name: str) -> Any: ...
    def hget(self, name: str, key: str) -> Any: ...
    def hmget(self, name: str, keys: list[str]) -> Any: ...
    def exists(self, *names: str) -> Any: ...
    def scard(self, name: str) -> Any: ...
    def sismember(self, name: str, value: str) -> Any: ...
    def zcount(self, name: str, min: float | str, max: float | str) -> Any: ...
    def zscore(self, name: str, value: str) -> Any: ...


class EarlyReads:
    """Commands sent to Redis at once, their replies collected later.

    Intake queues the reads it needs (an idempotency key, the policy's version, the article's mode,
    the author's history) and the posting limits' counters, calls `send()`, scores the comment
    while Redis answers, then calls `replies()`. On a single server the commands go out in one
    write on a connection taken from the client's pool, and the replies are read from it
    afterwards: no wait for the round trip and none of redis-py's per-pipeline bookkeeping. On a
    cluster client, or if anything at all goes wrong on that connection, `replies()` runs the same
    commands as an ordinary pipeline, with redis-py's retry and errors. The reads change nothing,
    so running them twice is harmless; the counters may then count one post twice (as redis-py's
    own retry of a command would), which refuses a poster sooner, never later.
    """

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.commands: list[tuple[str, ...]] = []
        self._connection: Connection | None = None

    def get(self, name: str) -> None:
        self.commands.append(("GET", name))

    def hget(self, name: str, key: str) -> None:
        self.commands.append(("HGET", name, key))

    def hmget(self, name: str, keys: list[str]) -> None:
        self.commands.append(("HMGET", name, *keys))

    def exists(self, *names: str) -> None:
        self.commands.append(("EXISTS", *names))

    def scard(self, name: str) -> None:
        self.commands.append(("SCARD", name))

    def sismember(self, name: str, value: str) -> None:
        self.commands.append(("SISMEMBER", name, value))

    def zcount(self, name: str, min: float | str, max: float | str) -> None:
        self.commands.append(("ZCOUNT", name, str(min), str(max)))

    def zscore(self, name: str, value: str) -> None:
        self.commands.append(("ZSCORE", name, value))

    def eval(self, script: str, keys: list[str], args: list[Any]) -> None:
        # EVAL, not EVALSHA: a server that restarted and lost its scripts cannot answer NOSCRIPT.
        self.commands.append(("EVAL", script, str(len(keys)), *keys, *(str(arg) for arg in args)))

    def send(self) -> None:
        pool = getattr(self.redis, "connection_pool", None)
        if type(self.redis) is not Redis or pool is None or self.redis.connection is not None:
            return  # a cluster, or a single-connection client: replies() uses a pipeline
        try:
            connection = pool.get_connection()
        except Exception:
            return
        try:
            connection.send_packed_command(connection.pack_commands(self.commands))
        except Exception:
            connection.disconnect()
            pool.release(connection)
            return
        self._connection = connection

    def replies(self) -> list[Any]:
        connection, self._connection = self._connection, None
        if connection is not None:
            pool = self.redis.connection_pool
            try:
                return [connection.read_response() for _ in self.commands]
            except Exception as error:  # an error reply or a dropped connection: the pipeline decides
                log.debug("early reads failed (%s); reading again through a pipeline", type(error).__name__)
                connection.disconnect()
            finally:
                pool.release(connection)
        pipe = self.redis.pipeline(transaction=False)
        for command in self.commands:
            pipe.execute_command(*command)
        return cast(list[Any], pipe.execute())

    def close(self) -> None:
        """Give the connection back if `replies()` was never called (its replies are unread)."""
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.disconnect()
            self.redis.connection_pool.release(connection)
