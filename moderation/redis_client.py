"""Connecting to Redis: one server (redis://, rediss://, unix://) or a cluster (redis+cluster://)."""

from __future__ import annotations

import os
from typing import Any, cast

from redis import Redis
from redis.cluster import RedisCluster

CLUSTER_SCHEME = "redis+cluster://"


def connect(url: str, **options: Any) -> Redis:
    """A client for `url`; a cluster client quacks like a single-server one for our single-slot keys."""
    if url.startswith(CLUSTER_SCHEME):
        options.pop("health_check_interval", None)
        return cast(Redis, RedisCluster.from_url("redis://" + url.removeprefix(CLUSTER_SCHEME), **options))
    return Redis.from_url(url, **options)


def from_environment() -> Redis:
    """The commands' Redis: REDIS_URL, which must be set (the server `moderation serve` uses)."""
    url = os.environ.get("REDIS_URL")
    if not url:
        raise SystemExit("REDIS_URL is not set: point it at the Redis server that `moderation serve` uses")
    return connect(url, decode_responses=True)
