"""Reporting limits per IP address, and per API key on the drop-in surfaces, counted in Redis by Flask-Limiter;
the posting limits' settings and headers (intake counts those itself: moderation.rate_limits)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, current_app, request
from flask_limiter import Limiter
from limits import RateLimitItem

from moderation import rate_limits
from moderation.rate_limits import LimitState

F = TypeVar("F", bound=Callable[..., Any])

# One limiter per process, bound to each app by init_app (the usual Flask extension pattern);
# its counters live in the app's Redis, so every worker and machine shares them.
limiter = Limiter(key_func=lambda: request.remote_addr or "unknown")


def is_on(setting: str) -> bool:
    """Whether a limits setting (RATE_LIMITS, API_KEY_RATE_LIMITS) is on: any value but `off`."""
    return str(current_app.config[setting]).strip().lower() != "off"


def limited(*limits: Callable[[F], F], setting: str = "RATE_LIMITS") -> Callable[[F], F]:
    """Apply Flask-Limiter decorators, and skip them while the limiter or their setting is off.

    Off (`MODERATION_RATE_LIMITS=off`), the decorators would still run Flask-Limiter's checks on every
    request (about 15 us) only to find every limit exempt; the view is then called directly. On,
    they run exactly as if applied with @limiter.limit.
    """

    def wrap(view: F) -> F:
        checked = view
        for limit in reversed(limits):
            checked = limit(checked)

        @wraps(view)
        def route(*args: Any, **kwargs: Any) -> Any:
            if limiter.enabled and is_on(setting):
                return checked(*args, **kwargs)
            return view(*args, **kwargs)

        return cast(F, route)

    return wrap


def client_ip() -> str:
    """The client's address; ProxyFix has already applied the trusted proxy hops."""
    return "ip:" + (request.remote_addr or "unknown")


def api_key_limits() -> str:
    return str(current_app.config["API_KEY_RATE_LIMITS"])


def api_key_identity() -> str:
    """The caller's API key, hashed (the key itself is a secret, and stays out of Redis)."""
    key = request.args.get("key") or request.environ.get("HTTP_X_GOOG_API_KEY", "")
    return "key:" + hashlib.sha256(key.encode()).hexdigest()[:32]


def reporting_limits() -> str:
    return str(current_app.config["REPORT_RATE_LIMITS"])


def parsed(app: Flask, name: str) -> tuple[RateLimitItem, ...]:
    """A limits setting's limits (none for `off`); a value that does not parse refuses to start."""
    value = str(app.config[name]).strip()
    try:
        return rate_limits.parse(value)
    except ValueError:
        # A limit that does not parse would fail every request it guards.
        raise RuntimeError(f"MODERATION_{name}={value!r} is not Flask-Limiter syntax "
                           "(for example 5/minute;50/day) nor off") from None


def posting_headers(state: LimitState | None) -> dict[str, str]:
    """The X-RateLimit-* headers Flask-Limiter sends, for the posting limit nearest to refusing."""
    if state is None:
        return {}
    headers = {"X-RateLimit-Limit": str(state.amount), "X-RateLimit-Remaining": str(state.remaining),
               "X-RateLimit-Reset": str(state.reset_at)}
    if state.refused:
        headers["Retry-After"] = str(state.retry_after)
    return headers


def init_app(app: Flask) -> None:
    """Counters in the app's Redis; the value `off` turns every limit off (for load tests)."""
    url = str(app.config["REDIS_URL"])
    if url.startswith("redis+cluster://"):
        url = url.rsplit("/", 1)[0] if url.count("/") > 2 else url  # a cluster has no database number
    app.config.setdefault("RATELIMIT_STORAGE_URI", url)
    app.config.setdefault("RATELIMIT_KEY_PREFIX", app.config["KEY_PREFIX"] + "rate")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    # On while any limits are: each route's limits also check their own setting (see `limited`).
    on = any(str(app.config[name]).strip().lower() != "off" for name in ("RATE_LIMITS", "API_KEY_RATE_LIMITS"))
    app.config.setdefault("RATELIMIT_ENABLED", on)
    for name in ("RATE_LIMITS", "REPORT_RATE_LIMITS", "API_KEY_RATE_LIMITS"):
        parsed(app, name)
    limiter.init_app(app)
