"""Service routes, the OpenAPI description, and state that survives an app restart."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from redis import Redis

from api import create_app
from api.openapi import build


def test_health_and_readiness(client: FlaskClient) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["checks"] == {"redis": True, "model": True}


def test_not_ready_when_redis_is_unreachable(model) -> None:  # type: ignore[no-untyped-def]
    app = create_app({"TESTING": True, "REDIS_URL": "redis://127.0.0.1:1/0", "SECRET_KEY": "k", "MODEL": model,
                      "REDIS_TIMEOUT_SECONDS": 0.2})
    client = app.test_client()
    assert client.get("/readyz").status_code == 503
    down = client.post("/v1/comments", json={"article_id": "a", "name": "A", "email": "a@example.com",
                                              "body": "hello"})
    assert down.status_code == 503 and down.headers["Retry-After"]
    assert down.mimetype == "application/problem+json"


def test_openapi_documents_every_route(app: Flask, client: FlaskClient) -> None:
    spec = client.get("/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1")
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(("/v1/", "/v1alpha1/", "/$discovery/", "/healthz", "/readyz", "/metrics")):
            continue  # HTML pages (console, demo) and static files are not part of the JSON API
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:  # type: ignore[operator]
            assert (path, method.lower()) in documented, f"{method} {path} is not in /openapi.json"


def test_openapi_request_schemas_are_the_validating_ones() -> None:
    schema = build()["components"]["schemas"]["CommentIn"]
    assert schema["properties"]["name"]["maxLength"] == 80
    assert schema["properties"]["body"]["maxLength"] == 5000
    assert set(schema["required"]) == {"article_id", "name", "email", "body"}


def test_restarting_the_app_loses_nothing(app: Flask, redis_url: str, model, redis: Redis) -> None:  # type: ignore[no-untyped-def]
    from moderation.keys import Keys
    from moderation.policy_store import PolicyStore

    PolicyStore(redis, Keys()).update({"hold_new_authors": False}, "test")
    posted = app.test_client().post("/v1/comments", json={
        "article_id": "a", "name": "A", "email": "a@example.com", "body": "A calm and kind remark."}).get_json()
    fresh = create_app({"TESTING": True, "REDIS_URL": redis_url, "SECRET_KEY": "test-secret-key", "MODEL": model})
    listed = fresh.test_client().get("/v1/articles/a/comments").get_json()["comments"]
    assert [c["id"] for c in listed] == [posted["id"]]


def test_production_refuses_to_start_without_secret(redis_url: str, model) -> None:  # type: ignore[no-untyped-def]
    import pytest

    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"ENV": "production", "REDIS_URL": redis_url, "MODEL": model, "SECRET_KEY": None})
