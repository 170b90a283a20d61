"""The moderators' API: the walk from post to decision, races, claims, auth, history, stats."""

from __future__ import annotations

import threading

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis

from moderation.keys import Keys
from moderation.policy_store import PolicyStore

SPAM = "WIN a FREE iPhone!!! Click http://bit.ly/free-prize now to claim your cash prize, text WIN to 80086"
CIVIL = "I disagree with the mayor, but the article explains the housing plan fairly."


def post(client: FlaskClient, body: str = CIVIL, email: str = "reader@example.com", article: str = "a1") -> dict:
    response = client.post("/v1/comments", json={"article_id": article, "name": "Reader", "email": email,
                                                 "body": body})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_the_walk(client: FlaskClient, moderator: dict[str, str], redis: Redis) -> None:
    PolicyStore(redis, Keys()).update({"hold_new_authors": False}, "test")
    civil = post(client)
    assert civil["status"] == "published"
    assert client.get("/v1/articles/a1/comments").get_json()["comments"][0]["id"] == civil["id"]

    spam = post(client, SPAM, email="winner@spam.example")
    assert spam["status"] == "pending"  # even if rejected outright, the poster is told pending
    queue_name = "pending" if client.get(f"/v1/comments/{spam['id']}", headers=moderator).get_json()[
        "status"] == "pending" else "rejected"
    queue = client.get(f"/v1/review/queue?queue={queue_name}", headers=moderator).get_json()
    item = next(i for i in queue["items"] if i["id"] == spam["id"])
    assert "spam" in [r["code"] for r in item["reasons"]]
    assert item["scores"]["spam"] >= 0.5 and item["email"] == "winner@spam.example"
    assert item["model_version"]

    claimed = client.post("/v1/review/claim", json={"queue": queue_name}, headers=moderator).get_json()
    assert spam["id"] in [i["id"] for i in claimed["items"]]
    assert claimed["items"][0]["claimed_by"] == "alice"
    decided = client.post(f"/v1/review/{spam['id']}/decision", json={"action": "reject", "reason": "spam"},
                          headers=moderator)
    assert decided.status_code == 200 and decided.get_json()["status"] == "rejected"

    history = client.get(f"/v1/review/comments/{spam['id']}/history", headers=moderator).get_json()
    events = [(e["event"], e["actor"]) for e in history["events"]]
    assert events == [("submitted", "system"), ("claimed", "alice"), ("decided", "alice")]
    assert all(e["at"] for e in history["events"])
    assert history["events"][2]["details"]["reason"] == "spam"
    assert history["events"][0]["details"]["model_version"]


def test_new_author_held_then_trusted_after_approval(client: FlaskClient, moderator: dict[str, str]) -> None:
    first = post(client)
    assert first["status"] == "pending"
    item = client.get("/v1/review/queue", headers=moderator).get_json()["items"][0]
    assert [r["code"] for r in item["reasons"]] == ["new_author"]
    assert item["author"]["approved"] == 0
    client.post(f"/v1/review/{first['id']}/decision", json={"action": "approve"}, headers=moderator)
    assert post(client, "Another calm remark about the housing plan.")["status"] == "published"
    author = client.get(f"/v1/review/authors/{item['author']['author_key']}", headers=moderator).get_json()
    counts = {name: author["author"][name] for name in ("author_key", "approved", "rejected", "comments")}
    assert counts == {"author_key": item["author"]["author_key"], "approved": 1, "rejected": 0, "comments": 2}
    assert author["standing"]["state"] == "normal" and author["record"]["approved"] == 1
    assert "@" not in item["author"]["author_key"]


def _race(app: Flask, comment_id: str, first: dict[str, str], second: dict[str, str]) -> list[int]:
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def decide(headers: dict[str, str], body: dict[str, str]) -> None:
        client = app.test_client()
        barrier.wait()
        statuses.append(client.post(f"/v1/review/{comment_id}/decision", json=body, headers=headers).status_code)

    threads = [threading.Thread(target=decide, args=(first, {"action": "approve"})),
               threading.Thread(target=decide, args=(second, {"action": "reject", "reason": "abuse"}))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_two_moderators_deciding_at_once_one_wins_each_round(
    app: Flask, moderator: dict[str, str], other_moderator: dict[str, str]
) -> None:
    for round_ in range(20):
        comment_id = post(app.test_client(), "A calm comment on the plan.", email=f"r{round_}@example.com")["id"]
        statuses = _race(app, comment_id, moderator, other_moderator)
        assert sorted(statuses) == [200, 409], f"round {round_}: {statuses}"


def test_loser_gets_409_with_current_state(
    client: FlaskClient, moderator: dict[str, str], other_moderator: dict[str, str]
) -> None:
    comment_id = post(client)["id"]
    client.post(f"/v1/review/{comment_id}/decision", json={"action": "approve"}, headers=moderator)
    late = client.post(f"/v1/review/{comment_id}/decision", json={"action": "reject", "reason": "spam"},
                       headers=other_moderator)
    assert late.status_code == 409
    body = late.get_json()
    assert body["current"]["status"] == "published" and body["current"]["decided_by"] == "alice"


def test_claims_are_exclusive(client: FlaskClient, moderator: dict[str, str],
                              other_moderator: dict[str, str]) -> None:
    ids = {post(client, f"Comment {n} on the plan.", email=f"r{n}@example.com")["id"] for n in range(6)}
    mine = {i["id"] for i in client.post("/v1/review/claim", json={"limit": 4}, headers=moderator).get_json()["items"]}
    theirs = {i["id"] for i in client.post("/v1/review/claim", json={"limit": 4},
                                           headers=other_moderator).get_json()["items"]}
    assert len(mine) == 4 and len(theirs) == 2 and mine | theirs == ids and not mine & theirs
    taken = client.post(f"/v1/review/{next(iter(mine))}/decision", json={"action": "approve"},
                        headers=other_moderator)
    assert taken.status_code == 409
    assert client.post("/v1/review/claim", json={"limit": 0}, headers=moderator).status_code == 422


def test_expired_lease_frees_item_over_http(client: FlaskClient, app: Flask, moderator: dict[str, str],
                                            other_moderator: dict[str, str]) -> None:
    post(client)
    app.config["LEASE_SECONDS"] = 0  # a lease that is over as soon as it is granted
    assert len(client.post("/v1/review/claim", headers=moderator).get_json()["items"]) == 1
    assert len(client.post("/v1/review/claim", headers=other_moderator).get_json()["items"]) == 1


def test_bulk_decisions_answer_per_item(client: FlaskClient, moderator: dict[str, str]) -> None:
    a = post(client, "First calm comment.", email="a@example.com")["id"]
    b = post(client, "Second calm comment.", email="b@example.com")["id"]
    client.post(f"/v1/review/{b}/decision", json={"action": "approve"}, headers=moderator)
    results = client.post("/v1/review/decisions", headers=moderator, json={"decisions": [
        {"id": a, "action": "reject", "reason": "off_topic"},
        {"id": b, "action": "reject", "reason": "spam"},
        {"id": "01ARZ3NDEKTSV4RRFFQ69G5FAV", "action": "approve"},
    ]}).get_json()["results"]
    assert [r["status"] for r in results] == [200, 409, 404]
    assert results[0]["result"]["status"] == "rejected"
    bad = client.post("/v1/review/decisions", headers=moderator, json={"decisions": [{"id": a, "action": "x"}]})
    assert bad.status_code == 422


def test_queue_filters_and_cursor(client: FlaskClient, moderator: dict[str, str]) -> None:
    ids = [post(client, f"Comment {n}.", email=f"r{n}@example.com", article="a1" if n % 2 else "a2")["id"]
           for n in range(6)]
    only_a1 = client.get("/v1/review/queue?article_id=a1", headers=moderator).get_json()["items"]
    assert [i["id"] for i in only_a1] == ids[1::2]
    page = client.get("/v1/review/queue?limit=4", headers=moderator).get_json()
    rest = client.get(f"/v1/review/queue?limit=4&cursor={page['next_cursor']}", headers=moderator).get_json()
    assert [i["id"] for i in page["items"] + rest["items"]] == ids
    assert client.get("/v1/review/queue?reason=new_author&limit=2", headers=moderator).get_json()["next_cursor"]
    assert client.get("/v1/review/queue?queue=bogus", headers=moderator).status_code == 422


def test_stats(client: FlaskClient, moderator: dict[str, str]) -> None:
    a = post(client)["id"]
    post(client, "Another comment.", email="other@example.com")
    client.post(f"/v1/review/{a}/decision", json={"action": "reject", "reason": "abuse"}, headers=moderator)
    stats = client.get("/v1/review/stats", headers=moderator).get_json()
    assert stats["queues"]["pending"] == 1 and stats["queues"]["rejected"] == 1
    assert stats["oldest_pending_age_seconds"] >= 0
    assert stats["decisions"]["human"] == {"reject:abuse": 1}
    assert stats["decisions"]["automatic"]["pending"] == 2
    (version,) = stats["by_model_version"]
    assert stats["by_model_version"][version]["human:reject"] == 1


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/v1/review/queue"), ("post", "/v1/review/claim"), ("get", "/v1/review/stats"),
     ("post", "/v1/review/01ARZ3NDEKTSV4RRFFQ69G5FAV/decision"), ("post", "/v1/review/decisions"),
     ("get", "/v1/review/comments/01ARZ3NDEKTSV4RRFFQ69G5FAV/history"), ("get", "/v1/review/authors/abc"),
     ("get", "/v1/policy"), ("patch", "/v1/policy"), ("delete", "/v1/authors/abc"),
     ("put", "/v1/articles/a1/mode")],
)
def test_moderator_routes_need_a_token(client: FlaskClient, method: str, path: str) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic abc"}):
        response = getattr(client, method)(path, headers=headers)
        assert response.status_code == 401
        assert response.mimetype == "application/problem+json"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_admin_routes_refuse_moderators(client: FlaskClient, moderator: dict[str, str],
                                        admin: dict[str, str]) -> None:
    assert client.get("/v1/policy", headers=moderator).status_code == 403
    assert client.patch("/v1/policy", json={"max_links": 0}, headers=moderator).status_code == 403
    assert client.get("/v1/policy", headers=admin).status_code == 200
    assert client.get("/v1/review/queue", headers=admin).status_code == 200


def test_policy_change_applies_at_once_and_is_validated(client: FlaskClient, admin: dict[str, str],
                                                       redis: Redis) -> None:
    changed = client.patch("/v1/policy", json={"hold_new_authors": False, "max_links": 0}, headers=admin)
    assert changed.status_code == 200
    assert post(client)["status"] == "published"
    assert post(client, "See https://example.org/report for the figures.", email="x@example.com")[
        "status"] == "pending"
    bad = client.patch("/v1/policy", json={"spam_hold": 2, "colour": "red"}, headers=admin)
    assert bad.status_code == 422
    assert sorted(e["field"] for e in bad.get_json()["errors"]) == ["colour"]
    assert client.patch("/v1/policy", json={"spam_hold": 2}, headers=admin).status_code == 422
    audit = redis.xrange(Keys().policy_audit)
    assert audit[0][1]["actor"] == "root"


def test_revoked_token_stops_working_at_once(client: FlaskClient, moderators, moderator) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/v1/review/queue", headers=moderator).status_code == 200
    moderators.revoke("alice")
    assert client.get("/v1/review/queue", headers=moderator).status_code == 401


def test_erasure_removes_name_and_email_keeps_decision(client: FlaskClient, moderator: dict[str, str],
                                                      admin: dict[str, str]) -> None:
    posted = client.post("/v1/comments", json={"article_id": "a1", "name": "Reader", "email": "forget.me@example.com",
                                               "body": CIVIL, "website": "https://forget-me.example/"})
    comment_id = posted.get_json()["id"]
    client.post(f"/v1/review/{comment_id}/decision", json={"action": "approve"}, headers=moderator)
    item = client.get(f"/v1/comments/{comment_id}", headers=moderator).get_json()
    erased = client.delete(f"/v1/authors/{item['author']['author_key']}", headers=admin)
    assert erased.status_code == 200 and erased.get_json()["comments_erased"] == 1
    assert item["website"] == "https://forget-me.example/"
    after = client.get(f"/v1/comments/{comment_id}", headers=moderator).get_json()
    assert after["email"] == "" and after["name"] == "[erased]" and after["decision"] == "approve"
    assert after["website"] is None
    public = client.get(f"/v1/comments/{comment_id}").get_json()
    assert public["name"] == "[erased]" and public["website"] is None
    assert "forget-me" not in client.get("/v1/articles/a1/comments").get_data(as_text=True)


def test_the_threat_rule_is_policy(client: FlaskClient, admin: dict[str, str]) -> None:
    threat = "People like you should be shot."
    assert client.patch("/v1/policy", json={"hold_new_authors": False}, headers=admin).status_code == 200
    assert post(client, threat)["status"] == "pending"
    bad = client.patch("/v1/policy", json={"hold_threats": "maybe"}, headers=admin)
    assert bad.status_code == 422 and [e["field"] for e in bad.get_json()["errors"]] == ["hold_threats"]
    assert client.get("/v1/policy", headers=admin).get_json()["policy"]["hold_threats"] is True  # unchanged
    assert client.patch("/v1/policy", json={"hold_threats": False}, headers=admin).status_code == 200
    assert post(client, threat, email="b@example.com")["status"] == "published"
