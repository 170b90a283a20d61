"""Prometheus metrics, correct under several gunicorn workers (prometheus-client multiprocess mode)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

from api.services import Services
from moderation.model.languages import SUPPORTED_LANGUAGES, UNDETERMINED

# Each worker writes its samples to PROMETHEUS_MULTIPROC_DIR (set by `moderation serve`);
# /metrics adds them up. Without the variable (tests, one process) the default registry serves.
REQUESTS = Counter("moderation_http_requests_total", "HTTP requests", ["route", "method", "status"])
LATENCY = Histogram(
    "moderation_http_request_duration_seconds",
    "HTTP request latency",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
DECISIONS = Counter("moderation_decisions_total", "Decisions", ["kind", "outcome", "reason"])
# Comments taken in by POST /v1/comments, by language and the automatic decision. `language` is one of
# the model's languages, `und` (nobody could tell) or `other`, so the series stay few whatever is posted.
RECEIVED = Counter("moderation_comments_received_total", "Comments received, by language and automatic decision",
                   ["language", "status"])
SCORING = Histogram(
    "moderation_scoring_seconds",
    "Time to score one comment",
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05),
)

bp = Blueprint("metrics", __name__)


class QueueCollector(Collector):
    """Queue depths, oldest pending age and the live model, read from Redis at scrape time."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def collect(self) -> Iterator[GaugeMetricFamily]:
        stats = self.services.store.stats()
        depth = GaugeMetricFamily("moderation_queue_depth", "Items in each review queue", labels=["queue"])
        for queue, count in stats["queues"].items():
            depth.add_metric([queue], count)
        yield depth
        yield GaugeMetricFamily(
            "moderation_oldest_pending_age_seconds",
            "Age of the oldest comment waiting for review",
            value=stats["oldest_pending_age_seconds"] or 0,
        )
        model = GaugeMetricFamily("moderation_model_info", "The live model", labels=["version"])
        model.add_metric([self.services.models.version], 1)
        yield model


def record_decision(kind: str, outcome: str, reasons: tuple[str, ...] | list[str]) -> None:
    for reason in reasons or ("none",):
        _child(_decisions, DECISIONS, (kind, outcome, reason), kind, outcome, reason).inc()


def metric_language(code: str) -> str:
    """A language's `language` label: its code for the model's languages and `und`, else `other`."""
    return code if code in SUPPORTED_LANGUAGES or code == UNDETERMINED else "other"


def record_received(language: str, status: str) -> None:
    label = metric_language(language)
    _child(_received, RECEIVED, (label, status), label, status).inc()


@bp.get("/metrics")
def metrics() -> Response:
    from flask import current_app

    services: Services = current_app.extensions["moderation"]
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        workers = CollectorRegistry()
        multiprocess.MultiProcessCollector(workers)
    else:
        workers = REGISTRY
    shared = CollectorRegistry()
    shared.register(QueueCollector(services))
    return Response(generate_latest(workers) + generate_latest(shared), content_type=CONTENT_TYPE_LATEST)


# Labelled children by label values: `labels()` validates and looks them up under a lock each call.
_requests: dict[tuple[str, str, int], Any] = {}
_latency: dict[str, Any] = {}
_decisions: dict[tuple[str, str, str], Any] = {}
_received: dict[tuple[str, str], Any] = {}


def _child(cache: dict[Any, Any], metric: Any, key: Any, *labels: str) -> Any:
    child = cache.get(key)
    if child is None:
        child = metric.labels(*labels)
        if len(cache) < 10_000:  # label values come from routes, methods, statuses, reasons: few
            cache[key] = child
    return child


def init_app(app: Flask) -> None:
    @app.before_request
    def _start_timer() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def _count(response: Response) -> Response:
        now = time.perf_counter()
        req = request._get_current_object()  # type: ignore[attr-defined]
        rule = req.url_rule
        route = rule.rule if rule else "unmatched"
        if route != "/metrics":
            method, status = req.method, response.status_code
            _child(_requests, REQUESTS, (route, method, status), route, method, str(status)).inc()
            _child(_latency, LATENCY, route, route).observe(now - g.get("started", now))
        return response

    app.register_blueprint(bp)
