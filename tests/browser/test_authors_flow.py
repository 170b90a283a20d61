"""Moderators' hold on people in a real browser: the author page, a suspension with a message, ban and
reject all pending through its confirmation page, notes, and the u and b keys."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect
from redis import Redis

from moderation.comments import author_key
from moderation.keys import Keys
from moderation.moderators import Moderators
from moderation.policy_store import PolicyStore
from moderation.store import CommentStore

from .support import ARTICLE, Server, SignIn

SECRET = b"test-secret-key"
TROLL = ("Councillors are clowns and the budget is a joke.", "Who signed off on closing the pool in March?",
         "Libraries deserve longer hours, not shorter ones.")


def post(server: Server, name: str, body: str, ip: str = "198.51.100.7") -> str:
    """A reader's comment, as the site's form sends it (through the app, not the widget: faster)."""
    response = server.app.test_client().post(
        "/v1/comments", json={"article_id": ARTICLE, "name": name, "email": f"{name.lower()}@example.com",
                              "body": body}, environ_base={"REMOTE_ADDR": ip})
    assert response.status_code == 201, response.get_json()
    comment_id: str = response.get_json()["id"]
    return comment_id


def test_suspend_an_author_with_a_message(
    page: Page, server: Server, tokens: dict[str, str], sign_in: SignIn, store: CommentStore, screenshots: Path
) -> None:
    first = post(server, "Troll", "The mayor is right about the buses.")
    store.decide(first, "bob", "reject", "abuse", None, None)
    for body in TROLL[:2]:
        post(server, "Troll", body)
    post(server, "Ann", "A fair point about the budget.")
    sign_in(page, tokens["alice"])
    items = page.locator("article.item")
    expect(items).to_have_count(3)
    # The record put Troll under premoderation: every item of theirs says so.
    troll_items = items.filter(has_text="Troll")
    expect(troll_items).to_have_count(2)
    expect(troll_items.first.locator(".standing")).to_have_text("Premoderated: record")
    expect(troll_items.first.locator(".record")).to_contain_text("1 rejected, 0 approved in 30 days")
    expect(troll_items.first.locator(".reason-author_record")).to_contain_text("Author's record")
    page.screenshot(path=screenshots / "20-queue-author-standing.png")

    # u opens the author page of the current comment.
    page.keyboard.press("j")
    page.keyboard.press("u")
    expect(page.get_by_role("heading", level=1)).to_have_text("Author: Troll")
    standing = page.locator("#standing")
    expect(standing).to_contain_text("set automatically by the reputation rule")
    expect(standing).to_contain_text("1 rejected, 0 approved by moderators")
    expect(page.get_by_label("Banned")).to_be_disabled()  # alice is a moderator
    expect(page.get_by_label("Trusted")).to_be_disabled()
    expect(page.locator("section.items article.item")).to_have_count(3)
    page.screenshot(path=screenshots / "21-author-page.png", full_page=True)

    page.get_by_label("Suspended").check()
    page.get_by_label("For", exact=True).select_option("7")
    page.get_by_label("Reason").first.fill("insults after a warning")
    page.get_by_label("Message to the author").fill("Take a week off; the house rules are linked below the form.")
    page.get_by_role("button", name="Change standing").click()
    expect(page.locator(".flash-success")).to_contain_text("Troll is suspended until")
    expect(standing.locator(".standing")).to_have_text("Suspended")
    expect(standing).to_contain_text("Until")
    expect(standing).to_contain_text("Take a week off")
    expect(standing).to_contain_text("insults after a warning")
    expect(standing).to_contain_text("alice")
    history = page.locator("table.audit tbody tr")
    expect(history).to_have_count(1)
    expect(history.first).to_contain_text("Normal → Suspended")
    page.screenshot(path=screenshots / "22-author-suspended.png", full_page=True)

    # Back in the queue, the author's items show the suspension.
    page.get_by_role("navigation", name="Queues").get_by_role("link", name=re.compile("Pending")).click()
    expect(items.filter(has_text="Troll").first.locator(".standing")).to_contain_text("Suspended until")
    expect(items.filter(has_text="Ann").locator(".standing")).to_have_count(0)
    page.screenshot(path=screenshots / "23-queue-suspended-author.png")


def test_ban_and_reject_all_pending_from_the_queue(
    page: Page, server: Server, moderators: Moderators, sign_in: SignIn, store: CommentStore, screenshots: Path
) -> None:
    troll = [post(server, "Troll", body) for body in TROLL]
    ann = post(server, "Ann", "A fair point about the budget.")
    sign_in(page, moderators.add("root", "admin"))
    items = page.locator("article.item")
    expect(items).to_have_count(4)
    page.keyboard.press("?")
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_dialog).to_contain_text("Open the page of the current comment's author")
    expect(help_dialog).to_contain_text("Ban the author and reject all their pending comments")
    page.screenshot(path=screenshots / "24-keyboard-help-authors.png")
    page.keyboard.press("?")

    # b asks first, on a page of its own: nothing changes until its button is pressed.
    page.keyboard.press("j")
    page.keyboard.press("b")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ban Troll and reject all their pending comments?")
    expect(page.get_by_role("heading", name="3 pending comments will be rejected")).to_be_visible()
    expect(page.locator(".pending-list li")).to_have_count(3)
    confirm = page.get_by_role("button", name="Ban and reject 3 pending comments")
    expect(confirm).to_be_focused()
    assert all(store.get(i)["status"] == "pending" for i in troll)  # type: ignore[index]
    page.get_by_label("Message to the author").fill("You broke the house rules.")
    page.screenshot(path=screenshots / "25-ban-confirmation.png", full_page=True)
    page.get_by_role("link", name="Cancel").click()
    expect(items).to_have_count(4)

    page.keyboard.press("j")
    page.keyboard.press("b")
    page.get_by_label("Reason").select_option("spam")
    page.get_by_role("button", name="Ban and reject 3 pending comments").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Pending")
    expect(page.locator(".flash-success")).to_contain_text("Troll is banned. 3 pending comments rejected.")
    expect(items).to_have_count(1)
    expect(items.locator(".author-name")).to_have_text("Ann")
    page.screenshot(path=screenshots / "26-queue-after-ban.png")
    for comment_id in troll:
        record = store.get(comment_id)
        assert record is not None and (record["status"], record["decision_reason"]) == ("rejected", "spam")
    assert store.get(ann)["status"] == "pending"  # type: ignore[index]


def test_ban_from_the_author_page_without_javascript(
    new_page: Callable[..., Page], server: Server, moderators: Moderators, sign_in: SignIn, store: CommentStore
) -> None:
    troll = [post(server, "Troll", body) for body in TROLL[:2]]
    page = new_page(javascript=False)
    sign_in(page, moderators.add("root", "admin"), f"/console/authors/{author_key(SECRET, 'troll@example.com')}")
    page.get_by_role("link", name="Ban and reject all pending…").click()
    expect(page.get_by_role("heading", name="2 pending comments will be rejected")).to_be_visible()
    page.get_by_role("button", name="Ban and reject 2 pending comments").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Author: Troll")
    expect(page.locator(".flash-success")).to_contain_text("Troll is banned. 2 pending comments rejected.")
    expect(page.locator("#standing .standing")).to_have_text("Banned")
    expect(page.locator("article.item .status-rejected")).to_have_count(2)
    assert {store.get(i)["status"] for i in troll} == {"rejected"}  # type: ignore[index]


def test_add_and_delete_a_note(
    page: Page, server: Server, tokens: dict[str, str], sign_in: SignIn, screenshots: Path
) -> None:
    post(server, "Troll", TROLL[0])
    sign_in(page, tokens["alice"])
    page.locator("article.item").get_by_role("link", name=re.compile("1 comment, 0 approved")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Author: Troll")
    notes = page.locator("#notes")
    expect(notes).to_contain_text("No notes yet.")
    notes.get_by_role("button", name="Add note").click()
    expect(notes.locator("#note_text-error")).to_have_text("Write the note first.")
    notes.get_by_label("New note").fill("Warned by email on 3 Dec.\nSays they will calm down.")
    notes.get_by_role("button", name="Add note").click()
    expect(page.locator(".flash-success")).to_have_text("Note added.")
    expect(notes.locator(".note")).to_have_count(1)
    expect(notes.locator(".note-text")).to_have_text("Warned by email on 3 Dec.\nSays they will calm down.")
    expect(notes.locator(".note-meta")).to_contain_text("alice")
    page.locator("#notes").scroll_into_view_if_needed()
    page.screenshot(path=screenshots / "27-author-notes.png", full_page=True)
    notes.get_by_role("button", name=re.compile("Delete")).click()
    expect(page.locator(".flash-success")).to_have_text("Note deleted.")
    expect(notes.locator(".note")).to_have_count(0)


def test_author_reasons_in_the_queue_and_form_errors(
    page: Page, server: Server, redis: Redis, moderators: Moderators, tokens: dict[str, str], sign_in: SignIn,
    screenshots: Path,
) -> None:
    PolicyStore(redis, Keys()).update({"held_networks": ["203.0.113.0/24"], "held_email_domains": ["mail.example"]},
                                      "test")
    post(server, "Troll", TROLL[0])
    admin = {"Authorization": f"Bearer {moderators.add('root', 'admin')}"}
    troll = author_key(SECRET, "troll@example.com")
    banned = server.app.test_client().put(f"/v1/review/authors/{troll}/standing", headers=admin,
                                          json={"state": "banned", "reason": "abuse"})
    assert banned.status_code == 200
    post(server, "Neighbour", "Is the pool really closing?", ip="198.51.100.200")
    response = server.app.test_client().post("/v1/comments", environ_base={"REMOTE_ADDR": "203.0.113.9"}, json={
        "article_id": ARTICLE, "name": "Bea", "email": "bea@mail.example", "body": "The buses are late again."})
    assert response.status_code == 201
    sign_in(page, tokens["alice"])
    items = page.locator("article.item")
    expect(items).to_have_count(3)
    expect(items.filter(has_text="Troll").locator(".standing")).to_have_text("Banned")
    linked = items.filter(has_text="Neighbour").locator(".reason-linked_author")
    expect(linked).to_contain_text("Network of a banned or suspended author")
    bea = items.filter(has_text="Bea")
    expect(bea.locator(".reason-held_network")).to_contain_text("Held network 203.0.113.0/24")
    expect(bea.locator(".reason-held_email_domain")).to_contain_text("Held email domain mail.example")
    page.screenshot(path=screenshots / "28-queue-author-reasons.png")

    # The linked author's link leads to the banned author's page, where alice may not lift the ban.
    linked.get_by_role("link", name="the author they share a network with").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Author: Troll")
    expect(page.locator("#standing .standing")).to_have_text("Banned")
    expect(page.get_by_text("only an admin may change that")).to_be_visible()

    # A form with mistakes comes back with each one next to its field, and what was typed kept.
    page.go_back()
    items.filter(has_text="Neighbour").get_by_role("link", name=re.compile("1 comment")).click()
    page.get_by_label("Suspended").check()
    page.get_by_label("or until").fill("2001-01-01")
    page.get_by_label("Message to the author").fill("A week off, please.")
    page.get_by_role("button", name="Change standing").click()
    expect(page.get_by_role("alert")).to_have_text("Nothing was changed: please check the standing form.")
    expect(page.locator("#until_date-error")).to_have_text("The date must be in the future.")
    expect(page.locator("#reason-error")).to_contain_text("Give a reason")
    expect(page.get_by_label("Message to the author")).to_have_value("A week off, please.")
    expect(page.get_by_label("Suspended")).to_be_checked()
    page.screenshot(path=screenshots / "29-author-form-errors.png")
