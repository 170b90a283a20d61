"""A site that has used the people tools for years: long policy lists and many authors with a standing.

bench/intake.py seeds these under a key prefix of their own and runs a second service on them beside the
service on today's empty lists, so the cost of the lists and of the standing read shows as a ratio measured
in the same run (issue 25: within 5%).
"""

from __future__ import annotations

import ipaddress
import random
import secrets

from redis import Redis

from moderation.authors.standing import STATES
from moderation.keys import Keys
from moderation.policy_store import PolicyStore

PREFIX = "{authors}:"


def _networks(rng: random.Random, count: int) -> list[str]:
    """Networks of the lengths blocklists use: v4 /16 to /32, v6 /32 to /64; none covers loopback."""
    found: set[str] = set()
    while len(found) < count:
        if rng.random() < 0.8:
            length = rng.choice((16, 20, 22, 24, 24, 24, 28, 32))
            address = ipaddress.IPv4Address(rng.randrange(0x0B000000, 0xDF000000))  # 11.0.0.0 to 222.255.255.255
        else:
            length = rng.choice((32, 48, 56, 64))
            address = ipaddress.IPv6Address((0x2001 << 112) | rng.getrandbits(112))
        found.add(str(ipaddress.ip_network(f"{address}/{length}", strict=False)))
    return sorted(found)


def seed(redis: Redis, keys: Keys, *, list_entries: int, standings: int, open_policy: bool,
         seed_value: int = 25) -> dict[str, int]:
    """Write the policy (half domains, half networks, each half blocked and half held) and the standings."""
    rng = random.Random(seed_value)
    half = list_entries // 2
    domains = [f"{secrets.token_hex(5)}-{n}.example" for n in range(half)]
    networks = _networks(rng, list_entries - half)
    hosts = [f"shop-{n}.example" for n in range(max(1, list_entries // 10))]
    policy = {
        "blocked_email_domains": domains[: half // 2], "held_email_domains": domains[half // 2:],
        "blocked_networks": networks[: len(networks) // 2], "held_networks": networks[len(networks) // 2:],
        "blocked_website_hosts": hosts[: len(hosts) // 2], "held_website_hosts": hosts[len(hosts) // 2:],
    }
    if open_policy:
        policy["hold_new_authors"] = False  # type: ignore[assignment]
    PolicyStore(redis, keys).update(policy, "bench")
    states = [state for state in STATES if state != "normal"]
    pipe = redis.pipeline(transaction=False)
    for n in range(standings):
        identity = secrets.token_hex(16)
        state = states[n % len(states)]
        fields = {"state": state, "reason": "bench", "set_by": "bench", "set_at": "2026-12-01T00:00:00.000Z",
                  "set_at_ms": 1_764_547_200_000, "version": 1, "author_key": identity}
        if state == "suspended":
            fields |= {"until": "2099-01-01T00:00:00.000Z", "until_ms": 4_070_908_800_000}
        pipe.hset(keys.standing(identity), mapping=fields)
        pipe.zadd(keys.standings(state), {identity: 0})
        if n % 5000 == 4999:
            pipe.execute()
    pipe.execute()
    return {"domains": len(domains), "networks": len(networks), "hosts": len(hosts), "standings": standings}
