"""Metrics and logs as the people who run the service read them."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from api.logs import LOGGING, RequestIdFilter
from moderation.redis_server import free_port
from tests.conftest import EMAIL, ROOT


def test_metrics_count_requests_decisions_and_queues(client: FlaskClient, moderator: dict[str, str]) -> None:
    comment = client.post("/v1/comments", json={"article_id": "a1", "name": "A", "email": "a@example.com",
                                                "body": "A calm remark."}).get_json()
    client.post(f"/v1/review/{comment['id']}/decision", json={"action": "reject", "reason": "abuse"},
                headers=moderator)
    text = client.get("/metrics").get_data(as_text=True)
    assert 'moderation_http_requests_total{method="POST",route="/v1/comments",status="201"}' in text
    assert 'moderation_decisions_total{kind="human",outcome="reject",reason="abuse"}' in text
    assert 'moderation_queue_depth{queue="rejected"} 1.0' in text
    assert "moderation_oldest_pending_age_seconds" in text
    assert "moderation_scoring_seconds_bucket" in text
    assert "moderation_model_info{version=" in text


def test_every_log_line_is_json_with_a_request_id_and_no_personal_data(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    caplog.handler.addFilter(RequestIdFilter())
    response = client.post("/v1/comments", json={"article_id": "a1", "name": "Secret Name",
                                                 "email": "secret.person@example.com", "body": "Hello there."},
                           headers={"X-Request-ID": "req-123", "User-Agent": "Agent/9"},
                           environ_base={"REMOTE_ADDR": "203.0.113.77"})
    assert response.headers["X-Request-ID"] == "req-123"
    access = [r for r in caplog.records if r.name == "moderation.access"]
    assert access and all(getattr(r, "request_id", None) == "req-123" for r in access)
    assert access[0].route == "/v1/comments" and access[0].status == 201  # type: ignore[attr-defined]
    # Made without Logger.findCaller, the record still names where it was logged from.
    assert access[0].funcName == "_access" and access[0].pathname.endswith("logs.py") and access[0].lineno > 0
    logged = caplog.text + " ".join(str(r.__dict__) for r in caplog.records)
    assert not EMAIL.findall(logged)
    assert "203.0.113.77" not in logged and "Secret Name" not in logged and "Agent/9" not in logged


def test_served_logs_are_json_lines_and_metrics_add_up_over_workers(tmp_path: Path) -> None:
    """`moderation serve` with two workers: JSON lines on stderr, one /metrics for the whole server."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(MODERATION_DATA_DIR=str(tmp_path), MODERATION_BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="2",
               MODERATION_RATE_LIMITS="off")
    log_file = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen([sys.executable, "-m", "moderation_cli", "serve"], cwd=ROOT, env=env,
                              stdout=log_file, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        for _ in range(20):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).close()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            metrics = response.read().decode()
    finally:
        server.terminate()
        server.wait(timeout=30)
        log_file.close()
    line = 'moderation_http_requests_total{method="GET",route="/healthz",status="200"} 20.0'
    assert line in metrics, "the workers' counts must add up on /metrics"
    lines = [ln for ln in (tmp_path / "serve.log").read_text().splitlines() if ln.startswith("{")]
    records = [json.loads(ln) for ln in lines]
    assert any(r.get("logger") == "moderation.access" and r.get("request_id") not in (None, "-") for r in records)
    assert LOGGING["loggers"]["gunicorn.access"]["level"] == "WARNING"


def test_json_lines_formatter_writes_what_python_json_logger_writes() -> None:
    """api.logs.JsonLines keeps one encoder and the last second's text: the lines must not change."""
    import datetime

    from pythonjsonlogger.json import JsonFormatter

    from api.logs import JsonLines

    options = {k: v for k, v in LOGGING["formatters"]["json"].items() if k != "()"}
    stock, ours = JsonFormatter(**options), JsonLines(**options)
    assert ours._plain  # the one-pass path is the one under test
    logger = logging.getLogger("tests.formatter")
    records = [
        logger.makeRecord("x", logging.INFO, "f", 1, "hello %s", ("world",), None,
                          extra={"method": "POST", "status": 201, "duration_ms": 1.5}),
        logger.makeRecord("x", logging.WARNING, "f", 1, "odd", (), None,
                          extra={"when": datetime.datetime(2026, 1, 1), "kind": object, "text": "é \u2028"}),
        logger.makeRecord("x", logging.INFO, "f", 1, {"a": 1}, (), None),
    ]
    try:
        raise ZeroDivisionError("boom")
    except ZeroDivisionError:
        records.append(logger.makeRecord("x", logging.ERROR, "f", 1, "failed", (), sys.exc_info()))
    for record in records:
        record.request_id = "req-1"
        assert ours.format(record) == stock.format(record)
        assert ours.format(record) == stock.format(record)  # the cached second and encoder, again


def test_generated_request_ids_are_32_hex_digits(client: FlaskClient) -> None:
    first, second = (client.get("/healthz").headers["X-Request-ID"] for _ in range(2))
    assert first != second and all(len(i) == 32 and int(i, 16) >= 0 for i in (first, second))
    assert client.get("/healthz", headers={"X-Request-ID": "bad id!"}).headers["X-Request-ID"] != "bad id!"
