"""The console's hold on people over Flask's test client: the author page, standing forms, the ban
confirmation, notes, and what every queue item says of its author (no browser needed)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from redis import Redis

from moderation.comments import author_key
from moderation.keys import Keys
from moderation.moderators import Moderators
from moderation.policy_store import PolicyStore
from moderation.store import CommentStore

from .support import ARTICLE
from .test_console_http import csrf_of, signed_in

SECRET = b"test-secret-key"
PENDING = ("The budget cuts will hurt the schools most.", "Why is the pool closing in March?",
           "Libraries deserve longer hours, not shorter ones.")


def key(email: str) -> str:
    return author_key(SECRET, email)


def post(client: FlaskClient, name: str = "Troll", body: str = "A fair point about the budget.",
         ip: str = "198.51.100.7") -> Any:
    comment = {"article_id": ARTICLE, "name": name, "email": f"{name.lower()}@example.com", "body": body}
    return client.post("/v1/comments", json=comment, environ_base={"REMOTE_ADDR": ip})


def posted(client: FlaskClient, name: str = "Troll", body: str = "A fair point about the budget.",
           ip: str = "198.51.100.7") -> str:
    response = post(client, name, body, ip)
    assert response.status_code == 201, response.get_json()
    comment_id: str = response.get_json()["id"]
    return comment_id


@pytest.fixture
def console(app: Flask) -> FlaskClient:
    return FlaskClient(app, use_cookies=True)


@pytest.fixture
def alice(moderators: Moderators) -> str:
    return moderators.add("alice", "moderator")


@pytest.fixture
def root(moderators: Moderators) -> str:
    return moderators.add("root", "admin")


def page(console: FlaskClient, path: str) -> str:
    response = console.get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_the_author_page_shows_standing_record_notes_and_comments(
    console: FlaskClient, client: FlaskClient, alice: str, store: CommentStore
) -> None:
    first = posted(client)
    store.decide(first, "alice", "reject", "abuse", None, None)
    posted(client, body="Another thought on the budget.")
    signed_in(console, alice)
    html = page(console, f"/console/authors/{key('troll@example.com')}")
    assert "<h1>Author: Troll</h1>" in html and "troll@example.com" in html
    # The reputation rule premoderates them: the page says so, and that no moderator set it.
    assert "Premoderated: record" in html and "set automatically by the reputation rule" in html
    assert "1 rejected, 0 approved by moderators" in html
    for heading in ("Standing", "Change the standing", "Notes", "Standing history", "Comments"):
        assert f">{heading}" in html, heading
    assert html.count('<article class="item') == 2
    # A moderator may not ban or trust: those choices are there but disabled, and no ban button.
    assert re.search(r'value="banned" id="state-banned"\s+disabled', html)
    assert re.search(r'value="trusted" id="state-trusted"\s+disabled', html)
    assert "Ban and reject all pending" not in html
    assert console.get("/console/authors/0123456789abcdef").status_code == 404


def test_a_suspension_with_a_message_shows_on_the_page_and_the_queue(
    console: FlaskClient, client: FlaskClient, alice: str
) -> None:
    comment_id = posted(client)
    csrf = signed_in(console, alice)
    author = key("troll@example.com")
    response = console.post(f"/console/authors/{author}/standing", data={
        "csrf_token": csrf, "state": "suspended", "days": "7", "reason": "insults",
        "message": "Take a week off, please.", "version": "0"})
    assert response.status_code == 303 and response.headers["Location"] == f"/console/authors/{author}"
    html = page(console, f"/console/authors/{author}")
    until = (datetime.now(UTC) + timedelta(days=7)).strftime("%-d %b %Y")
    assert f"Troll is suspended until {until}" in html  # the flash
    assert "Take a week off, please." in html and "insults" in html
    assert f"Suspended until {until}" in html
    assert "Normal → <strong>Suspended</strong>" in html  # the history

    queue = page(console, "/console/")
    item = queue[queue.index(f'id="c-{comment_id}"'):]
    assert f'class="standing standing-suspended" title="insults">Suspended until {until}' in item
    assert "no decisions in 30 days" in item
    assert post(client).status_code == 403  # the suspension holds at intake


def test_a_suspension_until_a_date(console: FlaskClient, client: FlaskClient, alice: str) -> None:
    posted(client)
    csrf = signed_in(console, alice)
    author = key("troll@example.com")
    day = (datetime.now(UTC) + timedelta(days=10)).date()
    console.post(f"/console/authors/{author}/standing", data={
        "csrf_token": csrf, "state": "suspended", "days": "1", "until_date": day.isoformat(), "reason": "spam run"})
    standing = client.get(f"/v1/review/authors/{author}", headers={"Authorization": f"Bearer {alice}"}).get_json()
    assert standing["standing"]["until"].startswith(f"{day.isoformat()}T00:00:00")


@pytest.mark.parametrize(("form", "field", "message"), [
    ({"state": "suspended", "reason": "x", "until_date": "2001-01-01"}, "until_date", "must be in the future"),
    ({"state": "suspended", "reason": "x", "until_date": "tomorrow"}, "until_date", "YYYY-MM-DD"),
    ({"state": "premoderated"}, "reason", "Give a reason"),
    ({"reason": "x"}, "state", "Choose a standing"),
    ({"state": "exiled", "reason": "x"}, "state", "Choose a standing"),
    ({"state": "premoderated", "reason": "x", "message": "m" * 1001}, "message", "1000"),
])
def test_a_bad_standing_form_says_what_is_wrong_and_keeps_what_was_typed(
    console: FlaskClient, client: FlaskClient, alice: str, form: dict[str, str], field: str, message: str
) -> None:
    posted(client)
    csrf = signed_in(console, alice)
    author = key("troll@example.com")
    response = console.post(f"/console/authors/{author}/standing",
                            data={"csrf_token": csrf, "message": "Kept text", **form})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html and message in html
    assert 'aria-invalid="true"' in html
    if "message" not in form:
        assert ">Kept text</textarea>" in html
    assert client.get(f"/v1/review/authors/{author}", headers={"Authorization": f"Bearer {alice}"}).get_json()[
        "standing"]["state"] == "normal"


def test_a_moderator_cannot_ban_through_the_form(console: FlaskClient, client: FlaskClient, alice: str,
                                                 moderators: Moderators) -> None:
    posted(client)
    csrf = signed_in(console, alice)
    author = key("troll@example.com")
    response = console.post(f"/console/authors/{author}/standing",
                            data={"csrf_token": csrf, "state": "banned", "reason": "x"})
    assert response.status_code == 303
    assert "only an admin may set `banned`" in page(console, f"/console/authors/{author}")
    assert console.get(f"/console/authors/{author}/ban").status_code == 403
    assert post(client).status_code == 201
    # What an admin set, only an admin lifts: the page says so instead of offering the form.
    root = moderators.add("root", "admin")
    assert client.put(f"/v1/review/authors/{author}/standing", headers={"Authorization": f"Bearer {root}"},
                      json={"state": "banned", "reason": "spam"}).status_code == 200
    html = page(console, f"/console/authors/{author}")
    assert "The author is banned: only an admin may change that." in html and "Change standing</button>" not in html


def test_an_author_page_after_erasure(console: FlaskClient, client: FlaskClient, alice: str, root: str) -> None:
    posted(client)
    author = key("troll@example.com")
    assert client.delete(f"/v1/authors/{author}", headers={"Authorization": f"Bearer {root}"}).status_code == 200
    signed_in(console, alice)
    html = page(console, f"/console/authors/{author}")
    assert "<h1>Author: [erased]</h1>" in html and "troll@example.com" not in html


def test_a_stale_form_is_a_conflict_that_changes_nothing(
    console: FlaskClient, client: FlaskClient, alice: str
) -> None:
    posted(client)
    csrf = signed_in(console, alice)
    author = key("troll@example.com")
    first = console.post(f"/console/authors/{author}/standing",
                         data={"csrf_token": csrf, "state": "premoderated", "reason": "watch", "version": "0"})
    assert first.status_code == 303
    second = console.post(f"/console/authors/{author}/standing",
                          data={"csrf_token": csrf, "state": "normal", "version": "0"})
    assert second.status_code == 303
    html = page(console, f"/console/authors/{author}")
    assert "changed since the version you saw" in html and "It is premoderated now" in html


def test_ban_and_reject_all_pending_asks_first(
    console: FlaskClient, client: FlaskClient, root: str, store: CommentStore
) -> None:
    ids = [posted(client, body=body) for body in PENDING]
    other = posted(client, name="Ann")
    csrf = signed_in(console, root)
    author = key("troll@example.com")
    queue = page(console, "/console/")
    ban_link = escape(f"/console/authors/{author}/ban?back=/console/")
    assert f'href="{ban_link}"' in queue  # on each of their items, for an admin
    confirm = page(console, f"/console/authors/{author}/ban?back=/console/")
    assert "Ban Troll and reject all their pending comments?" in confirm
    assert "3 pending comments will be rejected" in confirm and PENDING[2] in confirm
    assert "Ban and reject 3 pending comments" in confirm
    assert all(store.get(i)["status"] == "pending" for i in ids)  # type: ignore[index]  # nothing yet

    response = console.post(f"/console/authors/{author}/standing", data={
        "csrf_token": csrf, "from": "ban", "back": "/console/", "state": "banned", "reject_pending": "1",
        "reason": "abuse", "message": "You broke the house rules.", "version": "0"})
    assert response.status_code == 303 and response.headers["Location"] == "/console/"
    queue = page(console, "/console/")
    assert "Troll is banned. 3 pending comments rejected." in queue
    assert f'id="c-{other}"' in queue and not any(f'id="c-{i}"' in queue for i in ids)
    for comment_id in ids:
        record = store.get(comment_id)
        assert record is not None
        assert (record["status"], record["decided_by"], record["decision_reason"]) == ("rejected", "root", "abuse")
    refused = post(client)
    assert refused.status_code == 403 and refused.get_json()["message"] == "You broke the house rules."
    # The confirmation only goes back inside the console.
    elsewhere = page(console, f"/console/authors/{author}/ban?back=https://evil.example/")
    assert "evil.example" not in elsewhere and f'<a href="/console/authors/{author}" class="button">Cancel' in elsewhere


def test_the_ban_confirmation_keeps_its_form_on_an_error(console: FlaskClient, client: FlaskClient, root: str) -> None:
    posted(client)
    csrf = signed_in(console, root)
    author = key("troll@example.com")
    response = console.post(f"/console/authors/{author}/standing", data={
        "csrf_token": csrf, "from": "ban", "back": "/console/", "state": "banned", "reject_pending": "1",
        "reason": "abuse", "message": "m" * 1001})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Ban Troll and reject all their pending comments?" in html and 'id="message-error"' in html


def test_notes_are_added_and_deleted(console: FlaskClient, client: FlaskClient, alice: str, redis: Redis) -> None:
    posted(client)
    csrf = signed_in(console, alice)
    author = key("troll@example.com")
    response = console.post(f"/console/authors/{author}/notes",
                            data={"csrf_token": csrf, "text": "Warned by email on 3 Dec.\n<b>Polite</b>."})
    assert response.status_code == 303 and response.headers["Location"].endswith("#notes")
    html = page(console, f"/console/authors/{author}")
    assert "Warned by email on 3 Dec.\n&lt;b&gt;Polite&lt;/b&gt;." in html and "Note added." in html
    note_id = next(iter(redis.hkeys(Keys().author_notes(author))))
    empty = console.post(f"/console/authors/{author}/notes", data={"csrf_token": csrf, "text": "  "})
    assert empty.status_code == 422 and "Write the note first." in empty.get_data(as_text=True)
    assert console.post(f"/console/authors/{author}/notes/{note_id}/delete", data={}).status_code == 400  # CSRF
    assert console.post(f"/console/authors/{author}/notes/{note_id}/delete",
                        data={"csrf_token": csrf}).status_code == 303
    html = page(console, f"/console/authors/{author}")
    assert "Note deleted." in html and "Warned by email" not in html and "No notes yet." in html


def test_queue_items_label_the_new_reasons(console: FlaskClient, client: FlaskClient, alice: str, root: str,
                                           redis: Redis) -> None:
    PolicyStore(redis, Keys()).update({"held_networks": ["203.0.113.0/24"]}, "test")
    held = posted(client, name="Bea", ip="203.0.113.9")
    banned = posted(client)
    admin = {"Authorization": f"Bearer {root}"}
    assert client.put(f"/v1/review/authors/{key('troll@example.com')}/standing", headers=admin,
                      json={"state": "banned", "reason": "spam"}).status_code == 200
    linked = posted(client, name="Neighbour", ip="198.51.100.200")
    signed_in(console, alice)
    html = page(console, "/console/")
    item = html[html.index(f'id="c-{held}"'):]
    assert "Held network</span> <span class=\"reason-detail\">203.0.113.0/24</span>" in item
    item = html[html.index(f'id="c-{linked}"'):]
    assert "Network of a banned or suspended author" in item
    assert f'href="/console/authors/{key("troll@example.com")}">the author they share a network with' in item
    item = html[html.index(f'id="c-{banned}"'):]
    assert 'class="standing standing-banned" title="spam">Banned' in item
    # The reason filter knows the new codes.
    assert f'id="c-{linked}"' in page(console, "/console/?reason=linked_author")


def test_the_keys_help_lists_the_new_shortcuts(console: FlaskClient, alice: str, root: str) -> None:
    signed_in(console, alice)
    html = page(console, "/console/")
    assert "<kbd>u</kbd>" in html and "<kbd>b</kbd>" not in html  # b bans: admins only
    console.post("/console/logout", data={"csrf_token": csrf_of(console, "/console/")})
    signed_in(console, root)
    assert "<kbd>b</kbd>" in page(console, "/console/")
