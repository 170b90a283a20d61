"""Article ids as sites key their threads: a slug, a page's path (Isso), a full URL (Coral), on every route."""

from __future__ import annotations

from urllib.parse import quote, urlencode

import pytest
from flask.testing import FlaskClient
from redis import Redis
from redis.crc import key_slot

from moderation.keys import Keys
from moderation.policy_store import PolicyStore
from moderation.schemas import ARTICLE_ID_MAX, ARTICLE_ID_MAX_ENCODED, article_id_or_none

CIVIL = "Thanks for the clear reporting on the council budget; I hope they publish the full figures."
# Distinct texts: the duplicate rule holds the same text from several authors.
REMARKS = ["The bus fares worry me most.", "Good to see the libraries kept open.", "What about the pool?",
           "The road budget seems thin.", "A fair compromise overall."]
URL_ID = "https://news.example.com/world/korea-pact"
IDS = {
    "slug": "korea-pact",
    "path": "world/korea-pact",
    "isso-path": "/world/korea-pact/",
    "url": URL_ID,
    "url-with-query": URL_ID + "?page=2&lang=en#comments",
    "braces": "{mod}a}{b{",
    "unicode": "Café: ünïcode ✓ 50% off",
}


def encoded(article_id: str) -> str:
    """The id as one percent-encoded path segment (what encodeURIComponent makes)."""
    return quote(article_id, safe="")


def raw(article_id: str) -> str:
    """The id with its slashes as they are (and what a URL cannot hold raw encoded)."""
    return quote(article_id, safe="/:")


@pytest.fixture
def open_policy(redis: Redis) -> PolicyStore:
    policies = PolicyStore(redis, Keys())
    policies.update({"hold_new_authors": False}, "test")
    return policies


def post(client: FlaskClient, article_id: str, n: int = 0, form: bool = False) -> dict[str, str]:
    fields = {"article_id": article_id, "name": "Ann Reader", "email": f"ann{n}@example.com",
              "body": REMARKS[n]}
    response = client.post("/v1/comments", data=fields) if form else client.post("/v1/comments", json=fields)
    assert response.status_code == 201, response.get_json()
    receipt: dict[str, str] = response.get_json()
    return receipt


def listed(client: FlaskClient, path: str) -> list[str]:
    response = client.get(f"/v1/articles/{path}/comments")
    assert response.status_code == 200, (path, response.get_json())
    return [comment["id"] for comment in response.get_json()["comments"]]


@pytest.mark.parametrize("article_id", IDS.values(), ids=IDS.keys())
def test_every_route_takes_the_id_encoded_or_with_raw_slashes(
    client: FlaskClient, admin: dict[str, str], moderator: dict[str, str], open_policy: PolicyStore, article_id: str,
) -> None:
    # Per-article modes, set through either spelling of the id.
    mode = client.put(f"/v1/articles/{encoded(article_id)}/mode", json={"mode": "premoderated"}, headers=admin)
    assert mode.status_code == 200 and mode.get_json() == {"article_id": article_id, "mode": "premoderated"}
    held = [post(client, article_id, 1), post(client, article_id, 2, form=True)]
    assert [r["article_id"] for r in held] == [article_id] * 2 and {r["status"] for r in held} == {"pending"}
    post(client, "another-story", 3)

    # The review filter finds this thread's comments and no other.
    queue = client.get("/v1/review/queue?" + urlencode({"article_id": article_id}), headers=moderator)
    assert queue.status_code == 200
    assert [(i["id"], i["article_id"]) for i in queue.get_json()["items"]] == [(r["id"], article_id) for r in held]
    decisions = [{"id": r["id"], "action": "approve"} for r in held]
    assert client.post("/v1/review/decisions", json={"decisions": decisions}, headers=moderator).status_code == 200

    # The public list, whichever way the id is spelled in the path.
    for path in (encoded(article_id), raw(article_id)):
        assert listed(client, path) == [r["id"] for r in held]
    assert client.get(f"/v1/comments/{held[0]['id']}").status_code == 200

    assert client.put(f"/v1/articles/{raw(article_id)}/mode", json={"mode": "closed"}, headers=admin).status_code == 200
    assert client.post("/v1/comments", json={"article_id": article_id, "name": "Ann", "email": "ann@example.com",
                                             "body": CIVIL}).status_code == 403
    assert client.get("/v1/policy", headers=admin).get_json()["article_modes"][article_id] == "closed"
    assert post(client, "another-story", 4)["status"] == "published"  # other threads keep their mode

    # The demo article page renders the thread too.
    page = client.get(f"/demo/articles/{raw(article_id)}")
    assert page.status_code == 200 and REMARKS[2] in page.get_data(as_text=True)


def test_ids_of_the_first_version_still_work(client: FlaskClient, redis: Redis, open_policy: PolicyStore) -> None:
    """Comments stored under an id of the old pattern ^[A-Za-z0-9._:~-]{1,200}$ are found as before."""
    old = "Politics_2026.budget:v2~final-cut"
    receipt = post(client, old)
    assert redis.zrange(Keys().article_published(old), 0, -1) == [receipt["id"]]  # the same key as before
    assert listed(client, old) == [receipt["id"]]
    assert article_id_or_none("..") == ".."  # the old pattern allowed it, so it stays an id


@pytest.mark.parametrize("bad", [
    "", "   ", "a\x00b", "line\nbreak", "tab\there", "bidi\u202eoverride", "zero\u200bwidth", "no\u00a0break",
    "lone \ud800 surrogate", "x" * (ARTICLE_ID_MAX + 1), "ü" * 1200, "world/../korea", "/./a", "a/..",
])
def test_an_id_that_is_not_printable_text_is_refused_and_nothing_stored(
    client: FlaskClient, redis: Redis, bad: str,
) -> None:
    response = client.post("/v1/comments", json={"article_id": bad, "name": "Ann", "email": "ann@example.com",
                                                 "body": CIVIL})
    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == ["article_id"]
    assert redis.dbsize() == 0


def test_bad_ids_in_paths_and_filters(client: FlaskClient, admin: dict[str, str], moderator: dict[str, str],
                                      redis: Redis) -> None:
    for path in ("%00", "a%0Ab", "%E2%80%AE", "x" * (ARTICLE_ID_MAX + 1), "%20%20", "a/../b"):
        response = client.get(f"/v1/articles/{path}/comments")
        assert response.status_code == 404, path
        assert response.mimetype == "application/problem+json"
        assert client.put(f"/v1/articles/{path}/mode", json={"mode": "closed"}, headers=admin).status_code == 404
    assert client.get("/v1/articles//comments").status_code == 404
    bad_filter = client.get("/v1/review/queue?article_id=%00", headers=moderator)
    assert bad_filter.status_code == 422 and bad_filter.get_json()["errors"][0]["field"] == "article_id"
    assert not redis.hlen(Keys().article_modes)


def test_the_longest_id_fits(client: FlaskClient, open_policy: PolicyStore) -> None:
    longest = (URL_ID + "?" + "q=a:b/&" * ARTICLE_ID_MAX)[:ARTICLE_ID_MAX]
    receipt = post(client, longest)
    assert listed(client, encoded(longest)) == listed(client, raw(longest)) == [receipt["id"]]
    # Non-ASCII ids are capped by their percent-encoded length, so that every id fits in a URL.
    assert article_id_or_none("ü" * (ARTICLE_ID_MAX_ENCODED // 6)) is not None
    assert article_id_or_none("ü" * (ARTICLE_ID_MAX_ENCODED // 6 + 1)) is None


def test_surrounding_spaces_are_not_part_of_the_id(client: FlaskClient, open_policy: PolicyStore) -> None:
    receipt = post(client, "  world/korea-pact \t")
    assert receipt["article_id"] == "world/korea-pact"
    assert listed(client, "world/korea-pact") == [receipt["id"]]


BRACED = ["{", "}", "{}", "}{", "{x}", "a{b}c", "{mod}", "}{mod}{", "{{}}", "https://x.example/{slot}?q={a}"]


@pytest.mark.parametrize("article_id", BRACED)
def test_braces_in_an_id_keep_the_cluster_hash_tag(
    client: FlaskClient, redis: Redis, open_policy: PolicyStore, moderator: dict[str, str], article_id: str,
) -> None:
    """Redis Cluster hashes a key's first {...}: the prefix's {mod} comes first, whatever the id holds.

    On the cluster fixture the submit and decide scripts would fail (CROSSSLOT) if an id moved its
    thread's key to another slot; on both servers the key lands in the prefix's slot.
    """
    keys = Keys()
    assert key_slot(keys.article_published(article_id).encode()) == key_slot(b"{mod}")
    receipt = post(client, article_id)
    assert receipt["status"] == "published"
    assert redis.zrange(keys.article_published(article_id), 0, -1) == [receipt["id"]]
    assert listed(client, encoded(article_id)) == [receipt["id"]]
    rejected = client.post(f"/v1/review/{receipt['id']}/decision", json={"action": "reject", "reason": "spam"},
                           headers=moderator)
    assert rejected.status_code == 200  # decide.lua takes the thread's key with the comment's
    assert listed(client, encoded(article_id)) == []


def test_a_key_prefix_must_close_the_hash_tag_it_opens() -> None:
    """Otherwise the first "}" of an id would close it, and the id would pick the key's slot."""
    for prefix in ("{mod}:", "app:{news}:"):
        keys = Keys(prefix)
        for article_id in BRACED:
            assert key_slot(keys.article_published(article_id).encode()) == key_slot(keys.queue("pending").encode())
    for prefix in ("x{", "{}:", "{}x}:", "a{b"):
        with pytest.raises(ValueError, match="hash tag"):
            Keys(prefix)
