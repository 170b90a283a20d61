"""POST /v1/comments and the public reads, through the real app, model and Redis."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis

from moderation.keys import Keys
from moderation.policy_store import PolicyStore

CIVIL = "Thanks for the clear reporting on the council budget; I hope they publish the full figures."


def comment(**fields: str) -> dict[str, str]:
    return {"article_id": "budget-2026", "name": "Ann Reader", "email": "ann@example.com", "body": CIVIL,
            **fields}


@pytest.fixture
def open_policy(redis: Redis) -> PolicyStore:
    policies = PolicyStore(redis, Keys())
    policies.update({"hold_new_authors": False}, "test")
    return policies


def problem(response) -> dict:  # type: ignore[no-untyped-def]
    assert response.mimetype == "application/problem+json", response.get_data(as_text=True)
    body = response.get_json()
    assert body["status"] == response.status_code and body["title"]
    return body


def test_civil_comment_is_published_and_listed_without_email(client: FlaskClient, open_policy: PolicyStore) -> None:
    response = client.post("/v1/comments", json=comment())
    assert response.status_code == 201
    receipt = response.get_json()
    assert set(receipt) == {"id", "article_id", "status", "created_at", "status_token"}
    assert receipt["status"] == "published"
    page = client.get("/v1/articles/budget-2026/comments").get_json()
    assert [c["id"] for c in page["comments"]] == [receipt["id"]]
    assert set(page["comments"][0]) == {"id", "parent_id", "name", "website", "body", "created_at"}
    assert page["comments"][0]["website"] is None
    assert client.get(f"/v1/comments/{receipt['id']}").get_json()["body"] == CIVIL


def test_new_author_is_held_by_default(client: FlaskClient) -> None:
    response = client.post("/v1/comments", json=comment())
    assert response.get_json()["status"] == "pending"
    assert client.get("/v1/articles/budget-2026/comments").get_json()["comments"] == []
    assert client.get(f"/v1/comments/{response.get_json()['id']}").status_code == 404


def test_replies_carry_parent_and_parent_must_exist(client: FlaskClient, open_policy: PolicyStore) -> None:
    parent = client.post("/v1/comments", json=comment()).get_json()["id"]
    reply = client.post("/v1/comments", json=comment(parent_id=parent, body="I agree with this point."))
    assert reply.status_code == 201
    listed = client.get("/v1/articles/budget-2026/comments").get_json()["comments"]
    assert listed[1]["parent_id"] == parent
    elsewhere = client.post("/v1/comments", json=comment(article_id="other", parent_id=parent))
    assert elsewhere.status_code == 422
    assert [e["field"] for e in problem(elsewhere)["errors"]] == ["parent_id"]


def test_cursor_pagination(client: FlaskClient, open_policy: PolicyStore) -> None:
    words = ["first", "second", "third", "fourth", "fifth"]
    ids = [client.post("/v1/comments", json=comment(email=f"r{n}@example.com", body=f"My {word} point on the budget.")
                       ).get_json()["id"] for n, word in enumerate(words)]
    first = client.get("/v1/articles/budget-2026/comments?limit=2").get_json()
    second = client.get(f"/v1/articles/budget-2026/comments?limit=2&cursor={first['next_cursor']}").get_json()
    third = client.get(f"/v1/articles/budget-2026/comments?limit=2&cursor={second['next_cursor']}").get_json()
    got = [c["id"] for page in (first, second, third) for c in page["comments"]]
    assert got == ids and third["next_cursor"] is None
    assert client.get("/v1/articles/budget-2026/comments?limit=0").status_code == 422
    assert client.get("/v1/articles/budget-2026/comments?cursor=bogus").status_code == 422


def test_idempotency_key_gives_one_comment(client: FlaskClient, redis: Redis) -> None:
    headers = {"Idempotency-Key": "form-7f3a"}
    first = client.post("/v1/comments", json=comment(), headers=headers)
    again = client.post("/v1/comments", json=comment(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert redis.zcard(Keys().queue("pending")) == 1
    other = client.post("/v1/comments", json=comment(body="Something else entirely."), headers=headers)
    assert other.status_code == 409
    assert redis.zcard(Keys().queue("pending")) == 1


def test_form_post_redirects_to_allowed_origin_only(client: FlaskClient, redis: Redis) -> None:
    form = {**comment(), "return_to": "https://news.example/budget?x=1"}
    html = {"Accept": "text/html,application/xhtml+xml"}
    response = client.post("/v1/comments", data=form, headers=html)
    assert response.status_code == 303
    target = urlsplit(response.headers["Location"])
    assert target.netloc == "news.example"
    assert parse_qs(target.query)["comment_status"] == ["pending"]
    assert parse_qs(target.query)["x"] == ["1"]
    evil = client.post("/v1/comments", data={**form, "return_to": "https://evil.example/"}, headers=html)
    assert evil.status_code == 422
    assert [e["field"] for e in problem(evil)["errors"]] == ["return_to"]
    assert redis.zcard(Keys().queue("pending")) == 1  # the refused post stored nothing


def test_form_post_without_html_accept_gets_json(client: FlaskClient) -> None:
    response = client.post("/v1/comments", data={**comment(), "comment": "From the widget."} | {"body": ""})
    assert response.status_code == 422  # an explicit empty body field wins over the alias
    response = client.post("/v1/comments", data={k: v for k, v in comment().items() if k != "body"}
                           | {"comment": "From the widget, named for readers."})
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"data": "{not json", "content_type": "application/json"}, 400),
        ({"data": "[1, 2]", "content_type": "application/json"}, 400),
        ({"data": "hello", "content_type": "text/plain"}, 415),
        ({"data": "x" * 70_000, "content_type": "application/json"}, 413),
    ],
)
def test_malformed_requests_get_problem_json(
    client: FlaskClient, redis: Redis, kwargs: dict[str, str], status: int
) -> None:
    response = client.post("/v1/comments", **kwargs)  # type: ignore[arg-type]
    assert response.status_code == status
    problem(response)
    assert redis.dbsize() == 0


def test_invalid_fields_get_one_entry_each(client: FlaskClient, redis: Redis) -> None:
    response = client.post("/v1/comments", json={"article_id": "bad\u0000id", "name": "x" * 81,
                                                 "email": "no-at-sign", "body": " \t "})
    assert response.status_code == 422
    fields = sorted(e["field"] for e in problem(response)["errors"])
    assert fields == ["article_id", "body", "email", "name"]
    assert redis.dbsize() == 0


def test_closed_article_refuses_and_premoderated_holds(client: FlaskClient, admin: dict[str, str],
                                                       open_policy: PolicyStore) -> None:
    assert client.put("/v1/articles/budget-2026/mode", json={"mode": "closed"}, headers=admin).status_code == 200
    closed = client.post("/v1/comments", json=comment())
    assert closed.status_code == 403
    problem(closed)
    client.put("/v1/articles/budget-2026/mode", json={"mode": "premoderated"}, headers=admin)
    assert client.post("/v1/comments", json=comment()).get_json()["status"] == "pending"


def test_report_moves_published_comment_to_reported_queue(
    client: FlaskClient, moderator: dict[str, str], open_policy: PolicyStore
) -> None:
    comment_id = client.post("/v1/comments", json=comment()).get_json()["id"]
    response = client.post(f"/v1/comments/{comment_id}/reports", json={"reason": "abuse", "note": "rude"})
    assert response.status_code == 201
    assert client.post(f"/v1/comments/{comment_id}/reports", json={"reason": "bogus"}).status_code == 422
    queue = client.get("/v1/review/queue?queue=reported", headers=moderator).get_json()
    assert queue["items"][0]["id"] == comment_id
    assert queue["items"][0]["reports"] == {"abuse": 1, "total": 1}
    missing = client.post("/v1/comments/01ARZ3NDEKTSV4RRFFQ69G5FAV/reports", json={"reason": "spam"})
    assert missing.status_code == 404


def test_ip_and_user_agent_recorded_for_moderators(
    client: FlaskClient, moderator: dict[str, str]
) -> None:
    comment_id = client.post("/v1/comments", json=comment(), headers={"User-Agent": "TestBrowser/1"},
                             environ_base={"REMOTE_ADDR": "198.51.100.7"}).get_json()["id"]
    item = client.get(f"/v1/comments/{comment_id}", headers=moderator).get_json()
    assert (item["ip"], item["user_agent"], item["email"]) == ("198.51.100.7", "TestBrowser/1", "ann@example.com")


def test_trusted_proxy_hops(redis_url: str, model, redis: Redis) -> None:  # type: ignore[no-untyped-def]
    from api import create_app

    app: Flask = create_app({"TESTING": True, "REDIS_URL": redis_url, "SECRET_KEY": "k", "MODEL": model,
                             "TRUSTED_PROXIES": 1})
    client = app.test_client()
    comment_id = client.post("/v1/comments", json=comment(),
                             headers={"X-Forwarded-For": "203.0.113.9"}).get_json()["id"]
    assert redis.hget(Keys().comment(comment_id), "ip") == "203.0.113.9"


def test_unknown_route_and_method_are_problem_json(client: FlaskClient) -> None:
    assert problem(client.get("/v1/nothing-here"))["status"] == 404
    assert problem(client.delete("/v1/comments"))["status"] == 405


def test_policy_change_applies_to_the_next_post(client: FlaskClient, app: Flask, open_policy: PolicyStore) -> None:
    """Workers keep the policy parsed in memory; a change through the admin API or any other
    process's PolicyStore (another worker) must still decide the very next post."""
    assert client.post("/v1/comments", json=comment()).get_json()["status"] == "published"
    open_policy.update({"hold_new_authors": True}, "another-worker")
    assert client.post("/v1/comments", json=comment(body="Second thoughts on the budget.")).get_json()[
        "status"] == "pending"
    open_policy.update({"hold_new_authors": False, "blocked_terms": ["budget"]}, "another-worker")
    held = client.post("/v1/comments", json=comment(body="More on the budget."))
    assert held.get_json()["status"] == "pending"
    record = app.extensions["moderation"].store.get(held.get_json()["id"])
    assert record["status"] == "rejected" and "blocked_term" in record["reason_codes"]


def test_policy_written_around_the_store_applies_within_the_recheck(
    client: FlaskClient, app: Flask, redis: Redis, open_policy: PolicyStore
) -> None:
    """A write that skips PolicyStore.update (a restore, a hand edit) changes no version token;
    the cached copy is still read again after `recheck_seconds` (about a second in production)."""
    from moderation.policy import Policy

    policies: PolicyStore = app.extensions["moderation"].policies
    policies.recheck_seconds = 0.2
    assert client.post("/v1/comments", json=comment()).get_json()["status"] == "published"
    redis.set(Keys().policy, Policy(hold_new_authors=True).model_dump_json())
    time.sleep(0.25)
    assert client.post("/v1/comments", json=comment(body="Another view.")).get_json()["status"] == "pending"
    redis.delete(Keys().policy)  # back to the defaults, which hold new authors too
    open_policy.update({"hold_new_authors": False}, "admin")
    assert client.post("/v1/comments", json=comment(body="A third view.")).get_json()["status"] == "published"


def test_policy_is_read_once_until_it_changes(app: Flask, redis: Redis, open_policy: PolicyStore) -> None:
    """Intake's cached policy: one parse per version, not one per post."""
    policies: PolicyStore = app.extensions["moderation"].policies
    first, mode = policies.for_article("budget-2026")
    assert mode == "open" and first.hold_new_authors is False
    assert policies.for_article("budget-2026")[0] is first
    open_policy.update({"max_links": 5}, "admin")
    changed, _ = policies.for_article("budget-2026")
    assert changed.max_links == 5 and changed is not first
    open_policy.set_article_mode("budget-2026", "closed", "admin")
    assert policies.for_article("budget-2026") == (changed, "closed")


def test_a_threat_is_held_with_the_phrase_marked(client: FlaskClient, app: Flask, open_policy: PolicyStore) -> None:
    body = "Nice article. I know where you live, journalist."
    receipt = client.post("/v1/comments", json=comment(body=body)).get_json()
    assert receipt["status"] == "pending"
    record = app.extensions["moderation"].store.get(receipt["id"])
    assert record["status"] == "pending" and "threat" in record["reason_codes"].split(",")
    threat = next(reason for reason in json.loads(record["reasons"]) if reason["code"] == "threat")
    assert [body[w["start"]:w["end"]] for w in threat["words"]] == ["I know where you live"]


def test_an_author_commenting_on_many_articles_at_once_is_held_for_burst(client: FlaskClient, redis: Redis,
                                                                          open_policy: PolicyStore) -> None:
    open_policy.update({"burst_articles": 3, "burst_window_seconds": 600}, "admin")
    statuses = []
    for n, topic in enumerate(("schools", "bridges", "parks", "libraries")):
        body = f"{CIVIL} The part on {topic} was the best."
        response = client.post("/v1/comments", json=comment(article_id=f"story-{n}", body=body))
        statuses.append(response.get_json()["status"])
    # A second comment on an article already counted adds nothing; another author is counted apart.
    again = client.post("/v1/comments", json=comment(article_id="story-0", body=CIVIL + " And another thought."))
    other = client.post("/v1/comments", json=comment(article_id="story-3", email="bo@example.com", name="Bo"))
    assert statuses == ["published", "published", "pending", "pending"]
    assert again.get_json()["status"] == "pending" and other.get_json()["status"] == "published"
    held = json.loads(redis.hget(Keys().comment(client.post("/v1/comments", json=comment(
        article_id="story-9", body=CIVIL + " Last one.")).get_json()["id"]), "reasons") or "[]")
    assert [r["code"] for r in held] == ["burst"] and held[0]["score"] == 5.0
    # Only the window is kept: the index of recent articles expires with it.
    from moderation.comments import author_key

    ttl = redis.pttl(Keys().author_articles(author_key(b"test-secret-key", "ann@example.com")))
    assert 0 < ttl <= 600_000
