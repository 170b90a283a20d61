"""The Flask app: `create_app()` builds the services once and registers one blueprint per area."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import os
import secrets
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from types import FunctionType
from typing import Any

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer
from redis.backoff import ExponentialBackoff
from redis.retry import Retry
from werkzeug.middleware.proxy_fix import ProxyFix

from api import (
    admin,
    akismet,
    authors,
    console,
    coral,
    demo,
    dsa,
    edge,
    embed,
    limits,
    logs,
    metrics,
    perspective,
    problems,
    public,
    review,
    service,
    sites,
)
from api.inputs import ArticleIdConverter
from api.services import Services
from moderation.api_keys import ApiKeys
from moderation.authors.notes import Notes
from moderation.authors.standing import Standings
from moderation.coral import signing_secrets
from moderation.dsa.appeals import Appeals
from moderation.dsa.notices import Notices
from moderation.intake import Intake, Scorer
from moderation.keys import DEFAULT_PREFIX, Keys
from moderation.moderators import Moderators
from moderation.policy_store import PolicyStore
from moderation.rate_limits import PostingLimits
from moderation.redis_client import config_advice, connect
from moderation.registry import LiveModels, ModelRegistry
from moderation.retention import ORIGIN_RETENTION_DAYS, REJECTED_RETENTION_DAYS, Retention
from moderation.store import CommentStore

log = logging.getLogger(__name__)

DEFAULTS: dict[str, Any] = {
    "ENV": "development",
    "SECRET_KEY": None,
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "REDIS_TIMEOUT_SECONDS": 2.0,
    "KEY_PREFIX": DEFAULT_PREFIX,
    "MODEL_PATH": None,
    "MODEL": None,
    "MODEL_CACHE_DIR": None,
    "ALLOWED_ORIGINS": [],
    "TRUSTED_PROXIES": 0,
    "MAX_CONTENT_LENGTH": 64 * 1024,
    "LEASE_SECONDS": 300,
    "ORIGIN_RETENTION_DAYS": ORIGIN_RETENTION_DAYS,
    # Comments the model rejected on its own are dropped after this many days (moderation.retention).
    "REJECTED_RETENTION_DAYS": REJECTED_RETENTION_DAYS,
    # Flask-Limiter syntax, per IP and per email; `off` turns them off for benchmarks and load tests.
    "RATE_LIMITS": "5/minute;50/day",
    "REPORT_RATE_LIMITS": "10/minute;100/day",
    # Per API key, on the drop-in surfaces (Perspective, Akismet); Flask-Limiter syntax, `off` as above.
    "API_KEY_RATE_LIMITS": "3000/minute",
    # Coral's external moderation phase: the phase's signing secrets, comma-separated (old and new while Coral
    # rotates one). None: the route answers 503, never accepting an unsigned request.
    "CORAL_SIGNING_SECRETS": "",
    # DSA Art. 22: the `moderation api-keys` names whose notices are trusted flaggers' (comma-separated); unset,
    # every valid key sent with a notice is a trusted flagger's.
    "TRUSTED_FLAGGERS": "",
}


@lru_cache(maxsize=4)
def load_model(path: str | None) -> Scorer:
    """Load a model artifact once per process; with preload_app, once before gunicorn forks."""
    from moderation.model.classifier import DEFAULT_MODEL_PATH, Classifier

    model = Classifier.load(Path(path) if path else DEFAULT_MODEL_PATH)
    _release_loading_garbage()
    return model


def _release_loading_garbage() -> None:
    """Hand the memory freed after loading back to the OS before gunicorn forks (saves ~50 MB a worker)."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to trim
        ctypes.CDLL("libc.so.6").malloc_trim(0)


class _SessionInterface(SecureCookieSessionInterface):
    """Flask's cookie sessions, with one signing serializer per key instead of one per request."""

    def __init__(self) -> None:
        self._serializer: tuple[tuple[Any, ...], URLSafeTimedSerializer | None] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        key = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        cached = self._serializer
        if cached is None or cached[0] != key:
            cached = self._serializer = (key, super().get_signing_serializer(app))
        return cached[1]

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        # No console cookie (every /v1 request): what the parent answers, without the KeyError that
        # werkzeug raises and catches inside `request.cookies.get` for an absent cookie.
        if self.get_cookie_name(app) not in request.cookies:
            return None if self.get_signing_serializer(app) is None else self.session_class()
        return super().open_session(app, request)


class ServiceFlask(Flask):
    """Flask, minus two per-request costs that never change an answer.

    - `ensure_sync` asks `inspect.iscoroutinefunction` about every hook and view on every request
      (eight times a post); the answer for a given function never changes, so it is kept.
    - The session interface builds its signing serializer once per key (see `_SessionInterface`).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.session_interface = _SessionInterface()
        self._sync: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        if type(func) is not FunctionType:  # bound methods, partials: made anew, so not kept
            return super().ensure_sync(func)
        known = self._sync.get(func)
        if known is None:
            known = super().ensure_sync(func)
            if len(self._sync) < 4096:
                self._sync[func] = known
        return known


def _origins(value: Any) -> list[str]:
    if isinstance(value, str):
        return [origin.strip() for origin in value.split(",") if origin.strip()]
    return list(value or [])


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app from MODERATION_* variables (and REDIS_URL), or from `test_config`."""
    app = ServiceFlask(__name__)
    app.url_map.converters["article"] = ArticleIdConverter  # article ids that are paths or URLs
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env("MODERATION")
    if os.environ.get("REDIS_URL"):
        app.config["REDIS_URL"] = os.environ["REDIS_URL"]
    if test_config:
        app.config.update(test_config)
    app.config["ALLOWED_ORIGINS"] = _origins(app.config["ALLOWED_ORIGINS"])
    app.config["CORAL_SIGNING_SECRETS"] = signing_secrets(app.config["CORAL_SIGNING_SECRETS"])
    app.config["TRUSTED_FLAGGERS"] = tuple(_origins(app.config["TRUSTED_FLAGGERS"]))
    app.json.sort_keys = False  # type: ignore[attr-defined]

    if not app.config["SECRET_KEY"]:
        if app.config["ENV"] == "production":
            raise RuntimeError("MODERATION_SECRET_KEY must be set in production")
        log.warning("MODERATION_SECRET_KEY is unset: using a random key; author keys change on restart")
        app.config["SECRET_KEY"] = secrets.token_hex(32)

    timeout = float(app.config["REDIS_TIMEOUT_SECONDS"])
    redis = connect(
        app.config["REDIS_URL"],
        decode_responses=True,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        health_check_interval=30,
        # One quick retry rides over a dropped connection; more would only delay the 503.
        retry=Retry(ExponentialBackoff(cap=0.2, base=0.02), retries=1),
    )
    for advice in config_advice(redis):
        log.warning(advice)
    keys = Keys(app.config["KEY_PREFIX"])
    store = CommentStore(redis, keys)
    policies = PolicyStore(redis, keys)
    shipped: Scorer = app.config["MODEL"] or load_model(app.config["MODEL_PATH"])
    cache = app.config["MODEL_CACHE_DIR"]
    registry = ModelRegistry(redis, keys, Path(cache) if cache else None)
    models = LiveModels(registry, shipped)
    secret = str(app.config["SECRET_KEY"]).encode()
    standings = Standings(redis, keys)
    app.extensions["moderation"] = Services(
        redis=redis,
        store=store,
        policies=policies,
        moderators=Moderators(redis, keys),
        api_keys=ApiKeys(redis, keys),
        models=models,
        registry=registry,
        intake=Intake(store, policies, models, secret, Retention(
            store, origin_days=float(app.config["ORIGIN_RETENTION_DAYS"]),
            rejected_days=float(app.config["REJECTED_RETENTION_DAYS"])),
            limits=PostingLimits(limits.parsed(app, "RATE_LIMITS"), keys), standings=standings),
        standings=standings,
        notes=Notes(redis, keys),
        notices=Notices(redis, keys),
        appeals=Appeals(redis, keys),
    )

    hops = int(app.config["TRUSTED_PROXIES"])
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    logs.init_app(app)
    metrics.init_app(app)
    edge.init_app(app)
    limits.init_app(app)
    problems.register(app)
    for blueprint in (public.bp, review.bp, authors.bp, dsa.bp, dsa.pages, admin.bp, service.bp, console.bp,
                      embed.bp, coral.bp, akismet.bp, sites.bp):
        app.register_blueprint(blueprint)
    perspective.init_app(app)
    if app.config["ENV"] != "production":
        app.register_blueprint(demo.bp)  # the widget's example article page, for development only
    return app
