"""The console's sessions, CSRF protection and headers, over Flask's test client (no browser needed)."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from redis import Redis

from api import create_app
from api.console import highlight
from moderation.intake import Scorer
from moderation.moderators import Moderators
from moderation.store import CommentStore

from .support import ARTICLE

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def console(app: Flask) -> FlaskClient:
    """A plain client: the console shows emails to signed-in moderators, unlike the public pages."""
    return FlaskClient(app, use_cookies=True)


@pytest.fixture
def token(moderators: Moderators) -> str:
    return moderators.add("alice", "moderator")


def csrf_of(client: FlaskClient, path: str = "/console/login") -> str:
    match = CSRF.search(client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def signed_in(client: FlaskClient, token: str) -> str:
    response = client.post("/console/login", data={"csrf_token": csrf_of(client), "token": token})
    assert response.status_code == 303
    return csrf_of(client, "/console/")


def post_comment(client: FlaskClient, name: str = "Ann", body: str = "A fair point about the budget.") -> str:
    response = client.post(
        "/v1/comments",
        json={"article_id": ARTICLE, "name": name, "email": f"{name.lower()}@example.com", "body": body},
    )
    assert response.status_code == 201
    comment_id: str = response.get_json()["id"]
    return comment_id


def test_the_session_cookie_is_the_consoles_alone(console: FlaskClient, token: str) -> None:
    csrf = csrf_of(console)
    response = console.post("/console/login", data={"csrf_token": csrf, "token": token})
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("moderation_console=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/console" in cookie
    assert token not in cookie  # the session names the moderator; it never carries the token
    assert "Secure" not in cookie  # development serves plain http on 127.0.0.1


def test_production_cookies_are_secure_and_there_is_no_demo(redis_url: str, model: Scorer, redis: Redis) -> None:
    app = create_app({
        "ENV": "production", "SECRET_KEY": "k" * 32, "REDIS_URL": redis_url, "MODEL": model, "RATE_LIMITS": "off",
    })
    assert app.config["SESSION_COOKIE_SECURE"] is True
    client = FlaskClient(app, use_cookies=True)
    assert client.get(f"/demo/articles/{ARTICLE}").status_code == 404
    assert "http://127.0.0.1:8000" not in app.config["ALLOWED_ORIGINS"]
    response = client.post("/console/login", data={"csrf_token": csrf_of(client), "token": "x"})
    assert response.status_code == 401


def test_posts_without_the_csrf_token_change_nothing(
    console: FlaskClient, client: FlaskClient, token: str, store: CommentStore
) -> None:
    comment_id = post_comment(client)
    csrf = signed_in(console, token)
    for data in ({}, {"csrf_token": "forged"}, {"csrf_token": csrf[:-1]}):
        response = console.post(f"/console/comments/{comment_id}/decision", data={**data, "action": "approve"})
        assert response.status_code == 400
        assert "form has expired" in response.get_data(as_text=True)
        assert response.mimetype == "text/html"
    assert console.post("/console/claim", data={"queue": "pending"}).status_code == 400
    assert console.post("/console/logout").status_code == 400
    record = store.get(comment_id)
    assert record is not None and record["status"] == "pending" and not record.get("claimed_by")

    response = console.post(
        f"/console/comments/{comment_id}/decision", data={"csrf_token": csrf, "action": "approve", "version": "1"}
    )
    assert response.status_code == 303
    assert store.get(comment_id)["status"] == "published"  # type: ignore[index]


def test_sign_in_needs_the_forms_csrf_token_and_a_live_token(console: FlaskClient, token: str) -> None:
    response = console.post("/console/login", data={"token": token})
    assert response.status_code == 303 and "/console/login" in response.headers["Location"]
    assert console.get("/console/").status_code == 303  # not signed in
    response = console.post("/console/login", data={"csrf_token": csrf_of(console), "token": "mod_wrong"})
    assert response.status_code == 401
    assert "not valid" in response.get_data(as_text=True)


def test_a_new_session_on_every_sign_in(console: FlaskClient, token: str) -> None:
    before = csrf_of(console)
    after = signed_in(console, token)
    assert before != after


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/console/", "/v1/review/queue",
                                    "/\\evil.example", "javascript:alert(1)"])
def test_sign_in_only_returns_inside_the_console(console: FlaskClient, token: str, target: str) -> None:
    response = console.post(
        "/console/login", data={"csrf_token": csrf_of(console), "token": token, "next": target}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/console/"


def test_sign_in_returns_to_the_page_asked_for(console: FlaskClient, token: str) -> None:
    response = console.get("/console/?queue=rejected")
    assert response.headers["Location"] == "/console/login?next=/console/?queue%3Drejected"
    response = console.post(
        "/console/login", data={"csrf_token": csrf_of(console), "token": token, "next": "/console/?queue=rejected"}
    )
    assert response.headers["Location"] == "/console/?queue=rejected"


def test_old_and_revoked_sessions_end(console: FlaskClient, token: str, moderators: Moderators) -> None:
    signed_in(console, token)
    assert console.get("/console/").status_code == 200
    with console.session_transaction() as session:
        session["signed_in_at"] = int(time.time()) - 13 * 3600
    assert console.get("/console/").status_code == 303

    signed_in(console, token)
    moderators.revoke("alice")
    moderators.add("alice", "moderator")  # the same name with a new token is not the same session
    response = console.get("/console/")
    assert response.status_code == 303 and "/console/login" in response.headers["Location"]


def test_console_and_demo_pages_carry_a_strict_policy(console: FlaskClient, client: FlaskClient, token: str) -> None:
    signed_in(console, token)
    for response in (console.get("/console/"), client.get("/console/login"), client.get(f"/demo/articles/{ARTICLE}")):
        assert response.status_code == 200
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert "<script>" not in response.get_data(as_text=True)  # scripts are static files only
    assert console.get("/console/").headers["Cache-Control"] == "no-store"


def test_demo_page_receipt_and_plain_form_post(client: FlaskClient) -> None:
    page = client.get(f"/demo/articles/{ARTICLE}", base_url="http://127.0.0.1:8000")
    html = page.get_data(as_text=True)
    assert 'action="/v1/comments"' in html and 'name="comment"' in html
    assert f'name="return_to" value="http://127.0.0.1:8000/demo/articles/{ARTICLE}"' in html
    response = client.post(
        "/v1/comments",
        data={"article_id": ARTICLE, "name": "Ann", "email": "ann@example.com", "comment": "Plain post.",
              "return_to": f"http://127.0.0.1:8000/demo/articles/{ARTICLE}"},
        headers={"Accept": "text/html"},
        base_url="http://127.0.0.1:8000",
    )
    assert response.status_code == 303
    assert "comment_status=pending" in response.headers["Location"]
    back = client.get(response.headers["Location"].replace("http://127.0.0.1:8000", ""))
    assert "awaiting moderation" in back.get_data(as_text=True)
    assert "awaiting moderation" not in client.get(f"/demo/articles/{ARTICLE}?comment_status=<b>").get_data(
        as_text=True
    )


def test_unknown_comment_is_an_html_404(console: FlaskClient, token: str) -> None:
    signed_in(console, token)
    response = console.get("/console/comments/01ARZ3NDEKTSV4RRFFQ69G5FAV")
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert console.get("/console/?queue=nope").status_code == 400


def test_highlight_splits_on_evidence_spans() -> None:
    body = "Click <here> for FREE stuff, idiot"
    reasons: list[dict[str, Any]] = [
        {"code": "spam", "words": [{"start": 0, "end": 5, "text": "Click", "weight": 0.5},
                                   {"start": 17, "end": 21, "text": "FREE", "weight": 0.4}]},
        {"code": "abuse", "words": [{"start": 17, "end": 27, "text": "FREE stuff", "weight": 0.2},
                                    {"start": 29, "end": 34, "text": "idiot", "weight": 0.9},
                                    {"start": 30, "end": 99, "text": "out of range", "weight": 1}]},
        {"code": "new_author", "score": None, "words": []},
    ]
    segments = highlight(body, reasons)
    assert "".join(s.text for s in segments) == body
    assert [(s.text, s.codes) for s in segments if s.codes] == [
        ("Click", ("spam",)), ("FREE", ("spam", "abuse")), (" stuff", ("abuse",)), ("idiot", ("abuse",)),
    ]
    assert highlight("", reasons) == []


def test_highlighted_text_is_escaped(console: FlaskClient, client: FlaskClient, token: str) -> None:
    comment_id = post_comment(client, body="<b>bold</b> & <script>x()</script>")
    signed_in(console, token)
    html = console.get(f"/console/comments/{comment_id}").get_data(as_text=True)
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;x()&lt;/script&gt;" in html
    assert "<b>bold</b>" not in html


def test_a_website_shows_as_a_nofollow_link_for_moderators(console: FlaskClient, client: FlaskClient,
                                                           token: str) -> None:
    website = "https://ann.example/?a=1&b='2'"
    response = client.post("/v1/comments", json={"article_id": ARTICLE, "name": "Ann", "email": "ann@example.com",
                                                  "body": "A fair point about the budget.", "website": website})
    comment_id = response.get_json()["id"]
    signed_in(console, token)
    for path in ("/console/", f"/console/comments/{comment_id}"):
        html = console.get(path).get_data(as_text=True)
        link = '<a class="website" href="https://ann.example/?a=1&amp;b=&#39;2&#39;" rel="nofollow ugc noreferrer">'
        assert link in html, path


@pytest.mark.parametrize("article", ["world/korea-pact", "https://news.example.com/world/korea-pact?x=1&y={2}"])
def test_the_article_filter_and_links_take_any_thread_id(console: FlaskClient, client: FlaskClient, token: str,
                                                         article: str) -> None:
    mine = client.post("/v1/comments", json={"article_id": article, "name": "Ann", "email": "ann@example.com",
                                             "body": "A fair point about the budget."}).get_json()["id"]
    other = post_comment(client, name="Bo")
    signed_in(console, token)
    page = console.get("/console/?" + urlencode({"article": article})).get_data(as_text=True)
    assert f'id="c-{mine}"' in page and f'id="c-{other}"' not in page
    assert f'value="{escape(article)}"' in page  # the filter box keeps the id
    # Each item links to its thread's queue, the id encoded in the link.
    queue_link = escape("/console/?" + urlencode({"queue": "pending", "article": article}))
    assert f'href="{queue_link}"' in page
    refused = console.get("/console/?" + urlencode({"article": "bad\x00id"})).get_data(as_text=True)
    assert "An article id is printable text" in refused
