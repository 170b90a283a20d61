"""Posting and reporting limits per IP address and per email, counted in Redis by Flask-Limiter."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, current_app, request
from flask_limiter import Limiter

from api.inputs import json_body

F = TypeVar("F", bound=Callable[..., Any])

# One limiter per process, bound to each app by init_app (the usual Flask extension pattern);
# its counters live in the app's Redis, so every worker and machine shares them.
limiter = Limiter(key_func=lambda: request.remote_addr or "unknown")


def limited(*limits: Callable[[F], F]) -> Callable[[F], F]:
    """Apply Flask-Limiter decorators, and skip them while the limiter is off.

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
            if limiter.enabled:
                return checked(*args, **kwargs)
            return view(*args, **kwargs)

        return cast(F, route)

    return wrap


def client_ip() -> str:
    """The client's address; ProxyFix has already applied the trusted proxy hops."""
    return "ip:" + (request.remote_addr or "unknown")


def client_email() -> str:
    """The poster's email, hashed: the limiter's keys must not hold personal data."""
    email = ""
    if request.mimetype == "application/json":
        try:
            data = json_body() if request.get_data(cache=True) else {}
            email = str(data.get("email", "")) if isinstance(data, dict) else ""
        except (ValueError, UnicodeDecodeError):
            email = ""
    else:
        email = request.form.get("email", "")
    return "email:" + hashlib.sha256(email.strip().casefold().encode()).hexdigest()[:24]


def posting_limits() -> str:
    return str(current_app.config["RATE_LIMITS"])


def reporting_limits() -> str:
    return str(current_app.config["REPORT_RATE_LIMITS"])


def api_key_limits_off() -> bool:
    return str(current_app.config["API_KEY_RATE_LIMITS"]).strip().lower() == "off"


def api_key_limits() -> str:
    """Requests per API key on the drop-in surfaces; while `off`, api_key_limits_off exempts every request."""
    return "1/second" if api_key_limits_off() else str(current_app.config["API_KEY_RATE_LIMITS"])


def init_app(app: Flask) -> None:
    """Counters in the app's Redis; the value `off` turns every limit off (for load tests)."""
    url = str(app.config["REDIS_URL"])
    if url.startswith("redis+cluster://"):
        url = url.rsplit("/", 1)[0] if url.count("/") > 2 else url  # a cluster has no database number
    app.config.setdefault("RATELIMIT_STORAGE_URI", url)
    app.config.setdefault("RATELIMIT_KEY_PREFIX", app.config["KEY_PREFIX"] + "rate")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    app.config.setdefault("RATELIMIT_ENABLED", str(app.config["RATE_LIMITS"]).strip().lower() != "off")
    limiter.init_app(app)
