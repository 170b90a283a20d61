"""Floods, duplicates, the web edge and privacy, against the real app and Redis."""

from __future__ import annotations

import logging
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis

from api import create_app
from moderation.keys import Keys
from moderation.policy_store import PolicyStore
from moderation.store import CommentStore
from tests.conftest import ALLOWED_ORIGIN, EMAIL

BODY = "The council should publish the full budget figures before the vote."


def post(client: FlaskClient, body: str = BODY, email: str = "ann@example.com", **headers: str):  # type: ignore[no-untyped-def]
    return client.post("/v1/comments", json={"article_id": "a1", "name": "Ann", "email": email, "body": body},
                       headers=headers)


@pytest.fixture
def limited_app(redis: Redis, redis_url: str, model) -> Flask:  # type: ignore[no-untyped-def]
    return create_app({"TESTING": True, "REDIS_URL": redis_url, "SECRET_KEY": "k", "MODEL": model,
                       "RATE_LIMITS": "3/minute", "REPORT_RATE_LIMITS": "2/minute"})


def test_posting_is_limited_per_ip_with_retry_after(limited_app: Flask, redis: Redis) -> None:
    client = limited_app.test_client()
    statuses = [post(client, f"{BODY} ({n})", email=f"r{n}@example.com").status_code for n in range(5)]
    assert statuses == [201, 201, 201, 429, 429]
    refused = post(client, "Another one.", email="new@example.com")
    assert refused.mimetype == "application/problem+json"
    assert int(refused.headers["Retry-After"]) > 0
    assert redis.zcard(Keys().queue("pending")) == 3  # refused posts stored nothing


def test_posts_report_the_limit_nearest_to_refusing_them(limited_app: Flask, redis: Redis) -> None:
    client = limited_app.test_client()
    first, second = (post(client, f"{BODY} ({n})", email=f"h{n}@example.com") for n in range(2))
    assert (first.headers["X-RateLimit-Limit"], first.headers["X-RateLimit-Remaining"]) == ("3", "2")
    assert second.headers["X-RateLimit-Remaining"] == "1"
    assert 0 < int(first.headers["X-RateLimit-Reset"]) - time.time() <= 60
    assert "Retry-After" not in first.headers  # only a refusal says when to come back
    # The counters expire with their windows: nothing of a poster's is kept longer.
    counters = list(redis.scan_iter(match=Keys().prefix + "rate:post:*"))
    assert counters and all(0 < redis.pttl(key) <= 60_000 for key in counters)


def test_invalid_posts_count_against_the_limit_too(limited_app: Flask, redis: Redis) -> None:
    client = limited_app.test_client()
    invalid = [client.post("/v1/comments", json={"article_id": "a1", "name": "", "body": ""}).status_code
               for _ in range(3)]
    refused = post(client)
    assert invalid == [422, 422, 422] and refused.status_code == 429
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert redis.zcard(Keys().queue("pending")) == 0


def test_posting_is_limited_per_email_across_addresses(limited_app: Flask) -> None:
    client = limited_app.test_client()
    statuses = [
        client.post("/v1/comments", json={"article_id": "a1", "name": "A", "email": "same@example.com",
                                          "body": f"Point {n} on the plan."},
                    environ_base={"REMOTE_ADDR": f"198.51.100.{n}"}).status_code
        for n in range(4)
    ]
    assert statuses == [201, 201, 201, 429]


def test_reports_are_limited(limited_app: Flask, redis: Redis) -> None:
    PolicyStore(redis, Keys()).update({"hold_new_authors": False}, "test")
    client = limited_app.test_client()
    comment_id = post(client).get_json()["id"]
    statuses = [client.post(f"/v1/comments/{comment_id}/reports", json={"reason": "spam"}).status_code
                for _ in range(3)]
    assert statuses == [201, 201, 429]


def test_rate_limits_off_for_load_tests(client: FlaskClient) -> None:
    assert all(post(client, f"{BODY} {n}", email=f"x{n}@example.com").status_code == 201 for n in range(12))


def test_same_author_same_text_is_rejected_as_duplicate(client: FlaskClient, app: Flask, redis: Redis) -> None:
    PolicyStore(redis, Keys()).update({"hold_new_authors": False}, "test")
    first = post(client).get_json()
    again = post(client, BODY.upper() + "!!").get_json()
    assert first["status"] == "published" and again["status"] == "pending"
    record = CommentStore(redis).get(again["id"]) or {}
    assert record["status"] == "rejected" and "duplicate" in record["reason_codes"]


def test_same_text_from_many_authors_is_held_as_coordinated(client: FlaskClient, redis: Redis) -> None:
    PolicyStore(redis, Keys()).update({"hold_new_authors": False, "coordinated_authors": 3}, "test")
    statuses = [post(client, f"{BODY} #{n}", email=f"bot{n}@example.com").get_json()["status"] for n in range(4)]
    assert statuses == ["published", "published", "pending", "pending"]
    store = CommentStore(redis)
    held = store.queue_page("pending", None, 10, reason="duplicate")[0]
    assert len(held) == 2


def test_cors_only_for_allowed_origins_on_public_routes(client: FlaskClient) -> None:
    allowed = client.options("/v1/comments", headers={"Origin": ALLOWED_ORIGIN,
                                                      "Access-Control-Request-Method": "POST"})
    assert allowed.headers.get("Access-Control-Allow-Origin") == ALLOWED_ORIGIN
    other = client.options("/v1/comments", headers={"Origin": "https://evil.example",
                                                    "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in other.headers
    review = client.options("/v1/review/queue", headers={"Origin": ALLOWED_ORIGIN,
                                                         "Access-Control-Request-Method": "GET"})
    assert "Access-Control-Allow-Origin" not in review.headers


def test_security_headers(client: FlaskClient, app: Flask) -> None:
    @app.get("/test-page")
    def page():  # type: ignore[no-untyped-def]
        return "<p>hi</p>", 200, {"Content-Type": "Text/HTML; charset=utf-8", "referrer-policy": "no-referrer"}

    response = client.get("/healthz")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "X-Frame-Options" not in response.headers and "Content-Security-Policy" not in response.headers
    html = client.get("/test-page")
    assert html.headers["X-Frame-Options"] == "DENY" and "frame-ancestors 'none'" in html.headers[
        "Content-Security-Policy"]
    assert html.headers.getlist("Referrer-Policy") == ["no-referrer"]  # one the view set is kept, not doubled


def test_no_email_in_logs(client: FlaskClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    post(client, email="private.person@example.com")
    post(client, email="not-an-email")
    assert not EMAIL.findall(caplog.text)


def test_old_network_data_is_purged(redis: Redis) -> None:
    from moderation.comments import NewComment, Origin, new_comment_id
    from moderation.policy import Assessment, Decision

    store = CommentStore(redis)
    comment_id, created = new_comment_id()
    store.submit(NewComment(comment_id, created, "a1", None, "A", "a@example.com", "k", "text",
                            Origin("192.0.2.1", "UA", "https://news.example/")),
                 Assessment(0.1, 0.1), Decision("published"), "m", text_fingerprint="f")
    assert store.purge_origins(older_than_seconds=3600) == 0
    time.sleep(0.01)
    assert store.purge_origins(older_than_seconds=0) == 1
    record = store.get(comment_id) or {}
    assert (record["ip"], record["user_agent"], record["referer"]) == ("", "", "")
    assert record["body"] == "text"
    assert store.purge_origins(older_than_seconds=0) == 0  # the next purge goes on from where this one stopped
