"""Posting limits (per IP address and per email) counted in the same round trip as intake's reads.

Flask-Limiter counted each of the four counters of `5/minute;50/day` per IP and per email with its
own round trips to Redis before the comment was even parsed: 0.6 ms of a worker's CPU per post, more
than scoring. Here the counters are one script queued with intake's early reads (see
moderation.redis_client.EarlyReads), so they cost no round trip of their own. The windows are
Flask-Limiter's fixed windows (a window starts at its first hit), the syntax the same (the `limits`
package parses it), and a refused post counts, as there.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, parse_many

from moderation.keys import Keys
from moderation.store import lua_script

COUNT_HITS = lua_script("count_hits.lua")


@dataclass(frozen=True, slots=True)
class LimitState:
    """The most constrained counter after a post: what the X-RateLimit-* headers report."""

    limit: str  # as the setting wrote it, e.g. "5 per 1 minute"
    amount: int
    remaining: int
    reset_at: int  # Unix time (seconds) when its window ends
    refused: bool

    @property
    def retry_after(self) -> int:
        """Whole seconds until the window ends (at least 1)."""
        return max(1, self.reset_at - int(time.time()))


class RateLimited(Exception):
    """A post over one of its limits: nothing was stored."""

    def __init__(self, state: LimitState) -> None:
        super().__init__(state.limit)
        self.state = state


def parse(setting: str) -> tuple[RateLimitItem, ...]:
    """The limits of a setting in Flask-Limiter syntax (`5/minute;50/day`); `off` is none. ValueError if malformed."""
    if setting.strip().lower() == "off":
        return ()
    return tuple(parse_many(setting))


def email_identity(email: str) -> str:
    """The poster's email as a counter's identity, hashed: counters must not hold personal data."""
    return "email:" + hashlib.sha256(email.strip().casefold().encode()).hexdigest()[:24]


def ip_identity(ip: str) -> str:
    return "ip:" + (ip or "unknown")


class PostingLimits:
    """The posting limits of one setting, counted for each identity (an IP address, an email) of a post."""

    def __init__(self, limits: tuple[RateLimitItem, ...], keys: Keys, scope: str = "post") -> None:
        self.limits = limits
        self.keys = keys
        self.scope = scope

    def counters(self, identities: tuple[str, ...]) -> tuple[list[str], list[int]]:
        """The counters' keys and windows (ms) for a post by these identities, every limit of each."""
        names, windows = [], []
        for identity in identities:
            for item in self.limits:
                names.append(f"{self.keys.prefix}rate:{self.scope}:{identity}:{item.amount}/{item.get_expiry()}")
                windows.append(item.get_expiry() * 1000)
        return names, windows

    def state(self, replies: list[Any], now: float | None = None) -> LimitState | None:
        """The most constrained counter from the script's answer (refused if any is over); None without limits."""
        if not self.limits:
            return None
        now = time.time() if now is None else now
        items = self.limits * (len(replies) // (2 * len(self.limits)))
        states = []
        for item, hits, left in zip(items, replies[::2], replies[1::2], strict=True):
            states.append(LimitState(str(item), item.amount, max(0, item.amount - int(hits)),
                                     int(now + int(left) / 1000), int(hits) > item.amount))
        # A refusal first; else the counter nearest its limit, the sooner reset on a tie.
        return min(states, key=lambda s: (not s.refused, s.remaining, s.reset_at))
