"""The Digital Services Act in a real browser: a notice filed through the API is decided in the console,
the comment's page shows the author's statement of reasons, the author appeals with their status token,
and another moderator reverses the decision, which publishes the comment again."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from playwright.sync_api import Page, expect

from moderation.moderators import Moderators
from moderation.store import CommentStore

from .support import ARTICLE, Server, SignIn

TERMS = {"terms": [{"code": "civility", "title": "Be civil to other readers",
                    "url": "https://news.example/rules#civility"}],
         "reason_terms": {"abuse": "civility"}, "hold_new_authors": False}
BODY = "The councillors who voted for this should be chased out of town, every last one of them."


def published_under_terms(server: Server, moderators: Moderators) -> tuple[FlaskClient, str, dict[str, Any]]:
    """The site's terms set by an admin, and BODY published: an API client, the admin's token, the comment."""
    api = server.app.test_client()
    root = moderators.add("root", "admin")
    assert api.patch("/v1/policy", json=TERMS, headers={"Authorization": f"Bearer {root}"}).status_code == 200
    posted = api.post("/v1/comments", json={"article_id": ARTICLE, "name": "Ann", "email": "ann@example.com",
                                            "body": BODY})
    assert posted.status_code == 201 and posted.get_json()["status"] == "published", posted.get_json()
    comment: dict[str, Any] = posted.get_json()
    return api, root, comment


def test_a_notice_decided_then_reversed_on_appeal(
    new_page: Callable[..., Page], server: Server, tokens: dict[str, str], moderators: Moderators, sign_in: SignIn,
    store: CommentStore, screenshots: Path,
) -> None:
    api, root, comment = published_under_terms(server, moderators)
    filed = api.post(f"/v1/comments/{comment['id']}/notices", json={
        "explanation": "This calls for violence against the town's elected councillors.",
        "category": "violence", "notifier_name": "Nora Notifier", "notifier_email": "nora@example.org",
        "good_faith": True})
    assert filed.status_code == 201, filed.get_json()

    alice = new_page()
    sign_in(alice, tokens["alice"], "/console/notices")
    expect(alice.get_by_role("heading", level=1)).to_contain_text("Notices")
    expect(alice.get_by_role("link", name="Notices")).to_contain_text("1")
    notice = alice.locator("article.dsa-item")
    expect(notice).to_have_count(1)
    expect(notice).to_contain_text("Nora Notifier")
    expect(notice).to_contain_text("chased out of town")
    notice.get_by_label("Incompatible with the site's terms").check()
    notice.get_by_label("Term broken").select_option("civility")
    notice.get_by_label("Explanation").fill(
        "Calling for councillors to be chased out of town breaks our civility rule.")
    notice.get_by_label("Remove the comment").check()
    alice.screenshot(path=screenshots / "40-notices-queue.png", full_page=True)
    notice.get_by_role("button", name="Decide").click()
    expect(alice.locator(".flash-success")).to_contain_text("Notice decided")
    expect(alice.locator("p.empty")).to_have_text("No open notices.")
    alice.screenshot(path=screenshots / "41-notice-decided.png")
    assert (store.get(comment["id"]) or {})["status"] == "rejected"

    alice.goto(server(f"/console/comments/{comment['id']}"))
    statement = alice.locator("section.statement")
    expect(statement).to_contain_text("Removed after publication")
    expect(statement).to_contain_text("after a notice of illegal content")
    expect(statement.get_by_role("link", name="Be civil to other readers")).to_have_attribute(
        "href", "https://news.example/rules#civility")
    expect(statement).to_contain_text("A free appeal until")
    expect(alice.locator("table.audit")).to_contain_text("notice decided")
    alice.screenshot(path=screenshots / "42-comment-statement.png", full_page=True)

    appealed = api.post(f"/v1/comments/{comment['id']}/appeals?token={comment['status_token']}",
                        json={"text": "I was angry, but I meant voted out at the next election, not violence."})
    assert appealed.status_code == 201, appealed.get_json()

    alice.goto(server("/console/appeals"))
    appeal = alice.locator("article.dsa-item")
    expect(appeal).to_contain_text("You made the original decision")
    expect(appeal.get_by_role("button", name="Decide")).to_be_disabled()
    alice.screenshot(path=screenshots / "43-appeal-own-decision.png", full_page=True)

    bob = new_page()
    sign_in(bob, tokens["bob"], "/console/appeals")
    appeal = bob.locator("article.dsa-item")
    expect(appeal).to_contain_text("Rejected by alice")
    expect(appeal).to_contain_text("not violence")
    appeal.get_by_label("Reversed").check()
    appeal.get_by_label("Explanation").fill("Read as a call to vote them out, it breaks no rule.")
    bob.screenshot(path=screenshots / "44-appeal-queue.png", full_page=True)
    appeal.get_by_role("button", name="Decide").click()
    expect(bob.locator(".flash-success")).to_contain_text("Appeal reversed")

    bob.goto(server(f"/console/comments/{comment['id']}"))
    expect(bob.locator("article.item .status")).to_have_text("published")
    expect(bob.locator("section.statement")).to_have_count(0)
    expect(bob.locator("section.appeals")).to_contain_text("Reversed by bob")
    bob.screenshot(path=screenshots / "45-comment-reversed.png", full_page=True)
    listed = api.get(f"/v1/articles/{ARTICLE}/comments").get_json()["comments"]
    assert [c["id"] for c in listed] == [comment["id"]]

    admin = new_page()
    sign_in(admin, root, "/console/transparency")
    expect(admin.get_by_role("heading", level=1)).to_have_text("Transparency report")
    expect(admin.locator("#t-appeal-totals")).to_contain_text("Reversed")
    admin.screenshot(path=screenshots / "46-transparency.png", full_page=True)


def test_a_notice_decided_first_elsewhere_changes_nothing(
    new_page: Callable[..., Page], server: Server, tokens: dict[str, str], moderators: Moderators, sign_in: SignIn,
    store: CommentStore, screenshots: Path,
) -> None:
    api, _, comment = published_under_terms(server, moderators)
    api.post(f"/v1/comments/{comment['id']}/notices", json={
        "explanation": "A call to violence.", "category": "violence", "notifier_name": "Nora Notifier",
        "notifier_email": "nora@example.org", "good_faith": True})
    # Both without JavaScript: the forms are plain HTML.
    alice, bob = new_page(javascript=False), new_page(javascript=False)
    sign_in(alice, tokens["alice"], "/console/notices")
    sign_in(bob, tokens["bob"], "/console/notices")
    for page, legality, action in ((alice, "Illegal content", "Remove the comment"),
                                   (bob, "Neither", "Keep the comment")):
        notice = page.locator("article.dsa-item")
        notice.get_by_role("radio", name=legality).check()
        notice.get_by_label("Law broken").fill("Section 241 of the Criminal Code")
        notice.get_by_label("Explanation").fill(f"{legality}, as I read it.")
        notice.get_by_label(action).check()
    alice.get_by_role("button", name="Decide").click()
    expect(alice.locator(".flash-success")).to_contain_text("the comment is removed")
    bob.get_by_role("button", name="Decide").click()
    conflict = bob.locator(".flash-conflict")
    expect(conflict).to_contain_text(
        "Another moderator decided this notice first. alice found it illegal content and chose to remove; "
        "nothing was changed.")
    expect(conflict.get_by_role("link", name="See where it stands now")).to_have_attribute(
        "href", f"/console/comments/{comment['id']}")
    bob.screenshot(path=screenshots / "47-notice-conflict.png")
    assert (store.get(comment["id"]) or {})["status"] == "rejected"
