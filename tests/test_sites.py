"""A site's server with an API key (the WordPress plugin): readers' origins, true status, decisions, privacy."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from redis import Redis

from moderation.api_keys import ApiKeys
from moderation.keys import Keys
from moderation.policy_store import PolicyStore

CIVIL = "Thanks for the clear reporting on the council budget; I hope they publish the full figures."
SPAM = "WIN a FREE iPhone!!! Click http://bit.ly/free-prize now to claim your cash prize, text WIN to 80086"
READER = {"ip": "203.0.113.7", "user_agent": "Mozilla/5.0 (reader)", "referer": "https://news.example/budget"}


def comment(**fields: str) -> dict[str, str]:
    return {"article_id": "budget-2026", "name": "Ann Reader", "email": "ann@example.com", "body": CIVIL,
            **fields}


@pytest.fixture
def keys(redis: Redis) -> ApiKeys:
    return ApiKeys(redis, Keys())


@pytest.fixture
def site(keys: ApiKeys) -> dict[str, str]:
    return {"X-Api-Key": keys.add("news-wp")}


@pytest.fixture
def strict_policy(redis: Redis) -> PolicyStore:
    policies = PolicyStore(redis, Keys())
    policies.update({"hold_new_authors": False, "spam_reject": 0.5}, "test")
    return policies


def problem(response) -> dict:  # type: ignore[no-untyped-def]
    assert response.mimetype == "application/problem+json", response.get_data(as_text=True)
    return response.get_json()  # type: ignore[no-any-return]


def test_keyed_post_keeps_the_readers_origin_and_learns_the_true_status(
    client: FlaskClient, site: dict[str, str], strict_policy: PolicyStore, redis: Redis,
) -> None:
    answer = client.post("/v1/comments", json=comment(body=SPAM, **READER), headers=site)
    assert answer.status_code == 201
    receipt = answer.get_json()
    assert receipt["status"] == "rejected" and "spam" in receipt["reasons"]
    assert 0.5 <= receipt["scores"]["spam"] <= 1
    record = redis.hgetall(Keys().comment(receipt["id"]))
    assert (record["ip"], record["user_agent"], record["referer"]) == tuple(READER.values())
    assert record["site"] == "news-wp"
    # A reader posting the same text learns nothing: pending, no reasons.
    plain = client.post("/v1/comments", json=comment(body=SPAM, email="bo@example.com")).get_json()
    assert plain["status"] == "pending" and set(plain) == {"id", "article_id", "status", "created_at", "status_token"}


def test_keyed_replay_of_an_idempotency_key_answers_the_same_true_status(
    client: FlaskClient, site: dict[str, str], strict_policy: PolicyStore,
) -> None:
    headers = {**site, "Idempotency-Key": "wp-1"}
    first = client.post("/v1/comments", json=comment(body=SPAM, **READER), headers=headers).get_json()
    again = client.post("/v1/comments", json=comment(body=SPAM, **READER), headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == first["id"] and again.get_json()["status"] == "rejected"
    assert again.get_json()["reasons"] == first["reasons"]


@pytest.mark.parametrize("form", [False, True])
def test_origin_fields_without_a_key_are_refused_by_name(client: FlaskClient, redis: Redis, form: bool) -> None:
    fields = comment(ip="203.0.113.7", user_agent="x")
    answer = client.post("/v1/comments", data=fields) if form else client.post("/v1/comments", json=fields)
    assert answer.status_code == 422
    assert {e["field"] for e in problem(answer)["errors"]} == {"ip", "user_agent"}
    assert not redis.keys(Keys().comment("*"))


def test_bad_key_is_401_and_stores_nothing(client: FlaskClient, redis: Redis) -> None:
    answer = client.post("/v1/comments", json=comment(**READER), headers={"X-Api-Key": "mk_nope"})
    assert answer.status_code == 401 and problem(answer)["status"] == 401
    assert not redis.keys(Keys().comment("*"))


def test_keyed_origin_fields_are_checked(client: FlaskClient, site: dict[str, str]) -> None:
    answer = client.post("/v1/comments", json=comment(ip="not-an-ip", referer=7), headers=site)
    assert answer.status_code == 422
    assert {e["field"] for e in problem(answer)["errors"]} == {"ip", "referer"}


def test_site_decides_its_own_comment_as_its_user_and_the_409_names_the_winner(
    client: FlaskClient, site: dict[str, str], keys: ApiKeys, moderator: dict[str, str],
) -> None:
    held = client.post("/v1/comments", json=comment(**READER), headers=site).get_json()
    assert held["status"] == "pending"
    acting = {**site, "X-Acting-User": "editor"}
    decided = client.post(f"/v1/review/{held['id']}/decision", json={"action": "approve"}, headers=acting)
    assert decided.status_code == 200 and decided.get_json()["status"] == "published"
    history = client.get(f"/v1/review/comments/{held['id']}/history", headers=moderator).get_json()
    assert any(e["event"] == "decided" and e["actor"] == "wordpress:editor@news-wp" for e in history["events"])
    again = client.post(f"/v1/review/{held['id']}/decision", json={"action": "reject", "reason": "spam"},
                        headers=acting)
    assert again.status_code == 409 and problem(again)["current"]["status"] == "published"
    # Another site's key, a missing user, a reader's comment: refused.
    other = {"X-Api-Key": keys.add("other-site"), "X-Acting-User": "editor"}
    assert client.post(f"/v1/review/{held['id']}/decision", json={"action": "approve"},
                       headers=other).status_code == 404
    assert client.post(f"/v1/review/{held['id']}/decision", json={"action": "approve"},
                       headers=site).status_code == 400
    plain = client.post("/v1/comments", json=comment(email="bo@example.com")).get_json()
    assert client.post(f"/v1/review/{plain['id']}/decision", json={"action": "approve"},
                       headers=acting).status_code == 404
    assert client.post(f"/v1/review/{plain['id']}/decision", json={"action": "approve"},
                       headers={"X-Api-Key": "bad", "X-Acting-User": "x"}).status_code == 401


def test_site_exports_and_erases_an_author_by_email(
    client: FlaskClient, site: dict[str, str], moderator: dict[str, str], redis: Redis,
) -> None:
    posted = client.post("/v1/comments", json=comment(email="Ann@Example.com", **READER), headers=site).get_json()
    exported = client.post("/v1/authors/exports", json={"email": "ann@example.com"}, headers=site)
    assert exported.status_code == 200
    rows = exported.get_json()["comments"]
    assert [(r["id"], r["email"], r["ip"], r["body"]) for r in rows] == [(posted["id"], "Ann@example.com",
                                                                          READER["ip"], CIVIL)]
    assert client.post("/v1/authors/exports", json={"email": "ann@example.com"}).status_code == 401
    assert client.post("/v1/authors/erasures", json={"email": "ann@example.com"},
                       headers=moderator).status_code == 403
    bad = client.post("/v1/authors/erasures", json={"email": "nope"}, headers=site)
    assert bad.status_code == 422 and problem(bad)["errors"][0]["field"] == "email"
    erased = client.post("/v1/authors/erasures", json={"email": "ann@example.com"}, headers=site)
    assert erased.status_code == 200 and erased.get_json()["comments_erased"] == 1
    record = redis.hgetall(Keys().comment(posted["id"]))
    assert "ann" not in record["email"].lower() and record["ip"] == "" and record["body"] == CIVIL
