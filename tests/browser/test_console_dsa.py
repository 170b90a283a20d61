"""The console's side of the Digital Services Act over Flask's test client: the rejection's ground, the
notices and appeals queues and their forms (through the same code as the API), the statement of reasons on
the comment page, and the admins' transparency page with its CSV."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from api import console as console_module
from moderation.api_keys import ApiKeys
from moderation.keys import Keys
from moderation.moderators import Moderators
from moderation.store import CommentStore

from .support import ARTICLE
from .test_console_http import csrf_of, signed_in

TERMS = {"terms": [{"code": "civility", "title": "Be civil to other readers",
                    "url": "https://news.example/rules#civility"}],
         "reason_terms": {"abuse": "civility"}, "hold_new_authors": False}
HOSTILE = '<script>alert("x")</script>'
NOTICE = {"explanation": f"This comment incites hatred. {HOSTILE}", "category": "illegal_or_harmful_speech",
          "notifier_name": "Nora <b>Notifier</b>", "notifier_email": "nora@example.org", "good_faith": True}


@pytest.fixture
def tokens(moderators: Moderators) -> dict[str, str]:
    return {"alice": moderators.add("alice", "moderator"), "bob": moderators.add("bob", "moderator"),
            "root": moderators.add("root", "admin")}


@pytest.fixture
def terms(app: Flask, tokens: dict[str, str]) -> None:
    answer = app.test_client().patch("/v1/policy", json=TERMS, headers={"Authorization": f"Bearer {tokens['root']}"})
    assert answer.status_code == 200, answer.get_json()


def client_of(app: Flask, token: str) -> tuple[FlaskClient, str]:
    client = FlaskClient(app, use_cookies=True)
    return client, signed_in(client, token)


def decide_in_console(app: Flask, token: str, notice: dict[str, Any], **form: str) -> tuple[FlaskClient, str]:
    """Decide a notice through the console's form as the token's moderator; returns their client and CSRF token."""
    moderator, csrf = client_of(app, token)
    moderator.post(f"/console/notices/{notice['notice_id']}/decision", data={"csrf_token": csrf, **form})
    return moderator, csrf


def post(app: Flask, body: str = "The council should publish the budget figures.") -> dict[str, Any]:
    answer = app.test_client().post("/v1/comments", json={"article_id": ARTICLE, "name": "Ann",
                                                          "email": "ann@example.com", "body": body})
    assert answer.status_code == 201, answer.get_json()
    found: dict[str, Any] = answer.get_json()
    return found


def notice_on(app: Flask, comment_id: str) -> dict[str, Any]:
    answer = app.test_client().post(f"/v1/comments/{comment_id}/notices", json=NOTICE)
    assert answer.status_code == 201, answer.get_json()
    found: dict[str, Any] = answer.get_json()
    return found


def flashes(client: FlaskClient, path: str) -> str:
    return " ".join(re.findall(r'class="flash [^"]*"[^>]*>(.*?)</p>', client.get(path).get_data(as_text=True),
                               re.S))


# -- the rejection's ground ---------------------------------------------------------------------


@pytest.mark.usefixtures("terms")
def test_a_rejection_names_a_term_as_its_ground(app: Flask, tokens: dict[str, str], store: CommentStore) -> None:
    comment = post(app)
    alice, csrf = client_of(app, tokens["alice"])
    page = alice.get(f"/console/comments/{comment['id']}").get_data(as_text=True)
    assert f'id="ground-{comment["id"]}"' in page and ">Be civil to other readers</option>" in page
    version = store.get(comment["id"])["version"]  # type: ignore[index]

    unknown = alice.post(f"/console/comments/{comment['id']}/decision", data={
        "csrf_token": csrf, "action": "reject", "reason": "abuse", "ground": "no-such-term", "version": version})
    assert unknown.status_code == 303
    assert "not one of the policy&#39;s terms; nothing was changed" in flashes(alice, "/console/?queue=approved")
    assert store.get(comment["id"])["status"] == "published"  # type: ignore[index]

    alice.post(f"/console/comments/{comment['id']}/decision", data={
        "csrf_token": csrf, "action": "reject", "reason": "abuse", "ground": "civility", "version": version})
    record = store.get(comment["id"]) or {}
    assert record["status"] == "rejected" and record["decision_ground"] == "civility"
    page = alice.get(f"/console/comments/{comment['id']}").get_data(as_text=True)
    assert "Statement of reasons" in page
    assert '<a href="https://news.example/rules#civility" rel="noreferrer">Be civil to other readers</a>' in page


@pytest.mark.usefixtures("terms")
def test_the_bulk_rejection_takes_the_ground_too(app: Flask, tokens: dict[str, str], store: CommentStore) -> None:
    held = app.test_client().patch("/v1/policy", json={"hold_new_authors": True},
                                   headers={"Authorization": f"Bearer {tokens['root']}"})
    assert held.status_code == 200
    ids = [post(app, body)["id"] for body in ("The pool should stay open in March.", "Why close the library early?")]
    alice, csrf = client_of(app, tokens["alice"])
    assert 'id="bulk-ground"' in alice.get("/console/").get_data(as_text=True)
    items = [f"{i}:{store.get(i)['version']}" for i in ids]  # type: ignore[index]
    alice.post("/console/decisions", data={"csrf_token": csrf, "action": "reject", "reason": "other",
                                           "ground": "nope", "items": items})
    assert all((store.get(i) or {})["status"] == "pending" for i in ids)
    alice.post("/console/decisions", data={"csrf_token": csrf, "action": "reject", "reason": "other",
                                           "ground": "civility", "items": items})
    assert all((store.get(i) or {}).get("decision_ground") == "civility" for i in ids)


def test_without_terms_there_is_no_ground_to_choose(app: Flask, tokens: dict[str, str]) -> None:
    comment = post(app)
    alice, _ = client_of(app, tokens["alice"])
    page = alice.get(f"/console/comments/{comment['id']}").get_data(as_text=True)
    assert 'name="reason"' in page and 'name="ground"' not in page


# -- notices ------------------------------------------------------------------------------------


@pytest.mark.usefixtures("terms")
def test_a_notice_is_decided_in_the_console_once(app: Flask, tokens: dict[str, str], store: CommentStore) -> None:
    comment = post(app, f"Quoted: {HOSTILE}")
    notice = notice_on(app, comment["id"])
    alice, csrf = client_of(app, tokens["alice"])
    page = alice.get("/console/notices").get_data(as_text=True)
    assert HOSTILE not in page and "&lt;script&gt;" in page and "Nora &lt;b&gt;Notifier&lt;/b&gt;" in page
    assert "nora@example.org" in page and "Illegal or harmful speech" in page
    assert f'action="/console/notices/{notice["notice_id"]}/decision"' in page
    assert re.search(r'Notices\s*<span class="count">1<', page)  # the top bar counts open notices

    form = {"csrf_token": csrf, "legality": "incompatible_with_terms", "term": "civility",
            "explanation": "Hostile to other readers.", "action": "remove"}
    assert alice.post(f"/console/notices/{notice['notice_id']}/decision",
                      data={k: v for k, v in form.items() if k != "csrf_token"}).status_code == 400
    assert store.get(comment["id"])["status"] == "published"  # type: ignore[index]

    unknown = alice.post(f"/console/notices/{notice['notice_id']}/decision", data={**form, "term": "nope"})
    assert unknown.status_code == 303
    assert "Nothing was changed: ground is not the code of one of the policy" in flashes(alice, "/console/notices")
    no_law = alice.post(f"/console/notices/{notice['notice_id']}/decision", data={**form, "legality": "illegal"})
    assert no_law.status_code == 303
    assert "ground is required" in flashes(alice, "/console/notices")
    assert store.get(comment["id"])["status"] == "published"  # type: ignore[index]

    done = alice.post(f"/console/notices/{notice['notice_id']}/decision", data=form)
    assert done.status_code == 303 and done.headers["Location"] == "/console/notices"
    assert "Notice decided: incompatible with the site&#39;s terms; the comment is removed." in flashes(
        alice, "/console/notices")
    record = store.get(comment["id"]) or {}
    assert record["status"] == "rejected" and record["decided_by"] == "alice"
    assert record["decision_ground"] == "civility"
    # The API reads the same decision.
    api = app.test_client().get("/v1/review/queue?queue=notices", headers={"Authorization": f"Bearer {tokens['bob']}"})
    assert api.get_json()["items"] == []

    bob, bob_csrf = client_of(app, tokens["bob"])
    late = bob.post(f"/console/notices/{notice['notice_id']}/decision", data={
        "csrf_token": bob_csrf, "legality": "neither", "explanation": "Fine by me.", "action": "keep"})
    assert late.status_code == 303
    message = flashes(bob, "/console/notices")
    assert "Another moderator decided this notice first. alice found it incompatible with the site&#39;s terms " \
           "and chose to remove; nothing was changed." in message
    assert (store.get(comment["id"]) or {})["status"] == "rejected"

    history = alice.get(f"/console/comments/{comment['id']}").get_data(as_text=True)
    assert "notice received" in history and "notice decided" in history
    assert "legality</span> Incompatible with the site&#39;s terms" in history
    assert "Illegal or harmful speech" in history
    assert "after a notice of illegal content" in history and "Hostile to other readers." in history


@pytest.mark.usefixtures("terms")
def test_trusted_flaggers_notices_come_first(app: Flask, tokens: dict[str, str], redis: Redis) -> None:
    first = notice_on(app, post(app)["id"])
    key = ApiKeys(redis, Keys()).add("hate-aid")
    trusted = app.test_client().post(f"/v1/comments/{post(app, 'Another view on the budget.')['id']}/notices",
                                     json=NOTICE, headers={"X-Api-Key": key})
    assert trusted.get_json()["trusted_flagger"] is True
    alice, _ = client_of(app, tokens["alice"])
    page = alice.get("/console/notices").get_data(as_text=True)
    assert page.index(trusted.get_json()["notice_id"]) < page.index(first["notice_id"])
    assert "Trusted flagger: hate-aid" in page


@pytest.mark.usefixtures("terms")
def test_an_illegal_notice_names_the_law(app: Flask, tokens: dict[str, str], store: CommentStore) -> None:
    comment = post(app)
    notice = notice_on(app, comment["id"])
    alice, _ = decide_in_console(app, tokens["alice"], notice, legality="illegal", law="Section 130 <StGB>",
                                 term="civility", explanation="Incitement.", action="remove")
    record = store.get(comment["id"]) or {}
    assert record["status"] == "rejected" and record["notice_ground"] == "Section 130 <StGB>"
    page = alice.get(f"/console/comments/{comment['id']}").get_data(as_text=True)
    assert "Illegal content under Section 130 &lt;StGB&gt;" in page


# -- appeals ------------------------------------------------------------------------------------


@pytest.mark.usefixtures("terms")
def test_an_appeal_is_decided_by_another_moderator(app: Flask, tokens: dict[str, str],
                                                     store: CommentStore) -> None:
    comment = post(app)
    notice = notice_on(app, comment["id"])
    alice, csrf = decide_in_console(app, tokens["alice"], notice, legality="illegal", law="Section 130",
                                    explanation="Incitement.", action="remove")
    appealed = app.test_client().post(f"/v1/comments/{comment['id']}/appeals?token={comment['status_token']}",
                                      json={"text": f"I quoted it to criticise it. {HOSTILE}"})
    assert appealed.status_code == 201, appealed.get_json()
    appeal_id = appealed.get_json()["appeal_id"]

    page = alice.get("/console/appeals").get_data(as_text=True)
    assert HOSTILE not in page and "I quoted it to criticise it. &lt;script&gt;" in page
    assert "You made the original decision" in page and "<fieldset disabled" in page
    assert "Rejected by alice" in page
    refused = alice.post(f"/console/appeals/{appeal_id}/decision", data={
        "csrf_token": csrf, "outcome": "upheld", "explanation": "I stand by it."})
    assert refused.status_code == 303
    assert "Another moderator must decide an appeal against your own decision" in flashes(alice, "/console/appeals")
    assert (store.get(comment["id"]) or {})["status"] == "rejected"

    bob, bob_csrf = client_of(app, tokens["bob"])
    page = bob.get("/console/appeals").get_data(as_text=True)
    assert "<fieldset disabled" not in page and re.search(r'Appeals\s*<span class="count">1<', page)
    assert bob.post(f"/console/appeals/{appeal_id}/decision",
                    data={"outcome": "reversed", "explanation": "x"}).status_code == 400
    empty = bob.post(f"/console/appeals/{appeal_id}/decision", data={"csrf_token": bob_csrf, "outcome": "reversed"})
    assert empty.status_code == 303 and "Nothing was changed: explanation" in flashes(bob, "/console/appeals")
    done = bob.post(f"/console/appeals/{appeal_id}/decision", data={
        "csrf_token": bob_csrf, "outcome": "reversed", "explanation": "Read in full, it criticises the speech."})
    assert done.status_code == 303
    assert "Appeal reversed: the decision is undone." in flashes(bob, "/console/appeals")
    assert (store.get(comment["id"]) or {})["status"] == "published"

    root, root_csrf = client_of(app, tokens["root"])
    root.post(f"/console/appeals/{appeal_id}/decision", data={
        "csrf_token": root_csrf, "outcome": "upheld", "explanation": "Late."})
    assert "Another moderator decided this appeal first. bob reversed it; nothing was changed." in flashes(
        root, "/console/appeals")
    history = bob.get(f"/console/comments/{comment['id']}").get_data(as_text=True)
    assert "Statement of reasons" not in history  # published again: nothing restricts it
    assert "Reversed by bob" in history


@pytest.mark.usefixtures("terms")
def test_a_notifier_appeals_a_comment_kept(app: Flask, tokens: dict[str, str], store: CommentStore) -> None:
    comment = post(app)
    notice = notice_on(app, comment["id"])
    decide_in_console(app, tokens["alice"], notice, legality="neither", explanation="Robust, not illegal.",
                      action="keep")
    assert (store.get(comment["id"]) or {})["status"] == "published"
    appealed = app.test_client().post(f"/v1/comments/{comment['id']}/appeals?token={notice['notice_token']}",
                                      json={"text": "It is plainly incitement."})
    assert appealed.status_code == 201, appealed.get_json()

    bob, bob_csrf = client_of(app, tokens["bob"])
    page = " ".join(bob.get("/console/appeals").get_data(as_text=True).split())
    assert "The notifier appeals against keeping the comment" in page
    assert "the notifier, Nora &lt;b&gt;Notifier&lt;/b&gt; &lt;nora@example.org&gt;" in page
    assert "Kept by alice (Neither: Robust, not illegal.)" in page
    bob.post(f"/console/appeals/{appealed.get_json()['appeal_id']}/decision", data={
        "csrf_token": bob_csrf, "outcome": "reversed", "explanation": "It incites hatred; it goes."})
    record = store.get(comment["id"]) or {}
    assert record["status"] == "rejected" and record["decided_by"] == "bob"
    history = bob.get(f"/console/comments/{comment['id']}").get_data(as_text=True)
    assert "Statement of reasons" in history and "The notifier appealed" in history


# -- transparency -------------------------------------------------------------------------------


@pytest.mark.usefixtures("terms")
def test_the_transparency_page_is_for_admins(app: Flask, tokens: dict[str, str]) -> None:
    comment = post(app)
    notice_on(app, comment["id"])
    alice, _ = client_of(app, tokens["alice"])
    assert alice.get("/console/transparency").status_code == 403
    assert alice.get("/console/transparency?format=csv").status_code == 403
    assert "/console/transparency" not in alice.get("/console/").get_data(as_text=True)

    root, _ = client_of(app, tokens["root"])
    page = root.get("/console/transparency").get_data(as_text=True)
    assert 'href="/console/transparency"' in page
    received = re.search(r'<th scope="row">Received</th><td class="num">(\d+)</td>', page)
    assert received and received.group(1) == "1"
    assert "Illegal or harmful speech" in page
    csv_link = re.search(r'href="(/console/transparency\?[^"]*format=csv[^"]*)"', page)
    assert csv_link
    answer = root.get(csv_link.group(1).replace("&amp;", "&"))
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert "notices.received,1" in answer.get_data(as_text=True)
    assert root.get("/console/transparency?from=2026-02-01&to=2026-01-01").status_code == 422
    assert root.get("/console/transparency?from=yesterday").status_code == 422


def test_the_top_bar_does_without_its_counts_when_redis_fails(app: Flask, tokens: dict[str, str],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    alice, _ = client_of(app, tokens["alice"])

    def down() -> dict[str, int]:
        raise RedisConnectionError("down")

    monkeypatch.setattr(console_module, "_dsa_counts", down)
    page = alice.get("/console/").get_data(as_text=True)
    assert re.search(r'href="/console/notices"\s*>Notices\s*</a>', page)  # the link, without its count


def test_the_pages_need_a_session(app: Flask) -> None:
    client = FlaskClient(app, use_cookies=True)
    for path in ("/console/notices", "/console/appeals", "/console/transparency"):
        assert client.get(path).status_code == 303
    csrf_of(client)
    assert client.post("/console/notices/x/decision", data={}).status_code == 303
