"""The whole flow in a real browser: a reader posts through the widget, moderators decide in the console."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from moderation.moderators import Moderators
from moderation.store import CommentStore

from .support import ARTICLE, Server, SignIn

AWAITING = "awaiting moderation"
DECIDED_FIRST = "Another moderator decided this comment first."


def post_through_widget(page: Page, server: Server, name: str, email: str, text: str) -> None:
    page.goto(server(f"/demo/articles/{ARTICLE}"))
    widget = page.locator("section.mc")
    expect(widget).to_have_attribute("data-loaded", "true")
    widget.get_by_label("Comment", exact=True).fill(text)
    widget.get_by_label("Name", exact=True).fill(name)
    widget.get_by_label("Email", exact=True).fill(email)
    widget.get_by_role("button", name="Post comment").click()
    expect(widget.get_by_role("status")).to_contain_text(AWAITING)


def current_item(page: Page) -> str:
    return page.locator("article.item.current .text").inner_text()


def test_post_moderate_and_publish(
    page: Page, server: Server, store: CommentStore, tokens: dict[str, str], sign_in: SignIn, screenshots: Path
) -> None:
    page.goto(server(f"/demo/articles/{ARTICLE}"))
    expect(page.get_by_role("heading", name="Council agrees a tighter budget for 2026")).to_be_visible()
    expect(page.locator("section.mc")).to_have_attribute("data-loaded", "true")
    page.screenshot(path=screenshots / "01-article-page.png", full_page=True)

    rejected_text = "Off topic, but does anyone know when the Saturday market reopens?"
    approved_text = "The library hours matter more than the pool.\nGood call by the council."
    post_through_widget(page, server, "Rita", "rita@example.com", rejected_text)
    page.screenshot(path=screenshots / "02-widget-awaiting-moderation.png", full_page=True)
    post_through_widget(page, server, "Ben", "ben@example.com", approved_text)
    expect(page.locator(".mc-list")).not_to_contain_text("library hours")

    # Sign in: the console sends an anonymous visitor to the sign-in page first.
    page.goto(server("/console/"))
    expect(page).to_have_url(re.compile(r"/console/login\?next="))
    page.screenshot(path=screenshots / "03-console-sign-in.png")
    page.get_by_label("Moderator token").fill(tokens["alice"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Pending")
    expect(page.get_by_text("Signed in as")).to_contain_text("alice")
    items = page.locator("article.item")
    expect(items).to_have_count(2)
    page.screenshot(path=screenshots / "04-console-queue.png")

    # The keyboard: j moves to the first comment, r then 3 rejects it as off topic.
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    page.screenshot(path=screenshots / "05-console-keyboard-help.png")
    page.keyboard.press("?")
    expect(page.get_by_role("dialog")).to_be_hidden()
    page.keyboard.press("j")
    assert current_item(page) == rejected_text
    page.keyboard.press("r")
    expect(page.locator("article.item.current .reject-hint")).to_be_visible()
    expect(page.locator("article.item.current select.reject-reason")).to_be_focused()
    page.screenshot(path=screenshots / "06-console-rejecting.png")
    page.keyboard.press("3")
    expect(page.locator(".flash-success")).to_contain_text("Rejected (Off topic)")
    expect(items).to_have_count(1)
    rita = next(r for r in store.queue_page("rejected", None, 10)[0] if r["name"] == "Rita")
    assert (rita["status"], rita["decided_by"], rita["decision_reason"]) == ("rejected", "alice", "off_topic")

    # The page came back on the next comment: a approves it.
    assert current_item(page) == approved_text
    page.keyboard.press("a")
    expect(page.locator(".flash-success")).to_contain_text("Approved")
    expect(page.locator(".empty")).to_contain_text("Nothing here")
    page.screenshot(path=screenshots / "07-console-queue-done.png")

    # The rejected comment's audit trail, from the rejected queue.
    page.get_by_role("navigation", name="Queues").get_by_role("link", name=re.compile("Rejected")).click()
    page.get_by_role("link", name="History of the comment by Rita").click()
    trail = page.locator("table.audit tbody tr")
    expect(trail).to_have_count(2)
    expect(trail.nth(0)).to_contain_text("submitted")
    expect(trail.nth(1)).to_contain_text("decided")
    expect(trail.nth(1)).to_contain_text("alice")
    expect(trail.nth(1)).to_contain_text("off_topic")
    page.screenshot(path=screenshots / "08-console-audit-trail.png", full_page=True)

    # The approved comment is on the article page, line breaks kept; the rejected one is not.
    page.goto(server(f"/demo/articles/{ARTICLE}"))
    expect(page.locator("section.mc")).to_have_attribute("data-loaded", "true")
    published = page.locator(".mc-list .mc-comment")
    expect(published).to_have_count(1)
    expect(published.locator(".mc-name")).to_have_text("Ben")
    expect(published.locator(".mc-body")).to_have_text(approved_text)
    expect(page.locator(".mc-list")).not_to_contain_text("market")
    page.screenshot(path=screenshots / "09-article-with-published-comment.png", full_page=True)


def test_reply_is_listed_under_its_parent(
    page: Page, server: Server, store: CommentStore
) -> None:
    post_through_widget(page, server, "Ann", "ann@example.com", "Who decided the fare rise?")
    first = store.queue_page("pending", None, 10)[0][0]
    store.decide(first["id"], "alice", "approve", None, None, None)
    page.goto(server(f"/demo/articles/{ARTICLE}"))
    widget = page.locator("section.mc")
    widget.get_by_role("button", name="Reply to Ann").click()
    expect(widget.locator(".mc-replying")).to_contain_text("Replying to Ann")
    expect(widget.get_by_label("Comment", exact=True)).to_be_focused()
    widget.get_by_label("Comment", exact=True).fill("The finance committee did, in October.")
    widget.get_by_label("Name", exact=True).fill("Ann")
    widget.get_by_label("Email", exact=True).fill("ann@example.com")
    widget.get_by_role("button", name="Post comment").click()
    # Ann has an approved comment now, so her reply is published at once.
    expect(widget.get_by_role("status")).to_contain_text("is published")
    reply = page.locator(f"#comment-{first['id']} .mc-replies .mc-comment")
    expect(reply).to_have_count(1)
    expect(reply.locator(".mc-body")).to_have_text("The finance committee did, in October.")
    assert store.published_page(ARTICLE, None, 10)[0][1]["parent_id"] == first["id"]


def test_the_widget_shows_field_errors(page: Page, server: Server) -> None:
    page.goto(server(f"/demo/articles/{ARTICLE}"))
    widget = page.locator("section.mc")
    widget.get_by_label("Comment", exact=True).fill("   ")
    widget.get_by_label("Name", exact=True).fill("Ann")
    widget.get_by_label("Email", exact=True).fill("ann@example.com")
    widget.get_by_role("button", name="Post comment").click()
    expect(widget.get_by_role("status")).to_contain_text("Please check the form")
    expect(widget.get_by_label("Comment", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(widget.locator("#mc-comment-error")).to_contain_text("must not be empty")


def test_conflict_when_another_moderator_decided_first(
    new_page: Callable[..., Page], server: Server, store: CommentStore, tokens: dict[str, str], sign_in: SignIn,
    screenshots: Path,
) -> None:
    alice, bob = new_page(), new_page()
    post_through_widget(alice, server, "Cal", "cal@example.com", "The pool was promised in 2015.")
    sign_in(alice, tokens["alice"])
    sign_in(bob, tokens["bob"])
    expect(alice.locator("article.item")).to_have_count(1)
    expect(bob.locator("article.item")).to_have_count(1)

    bob.locator("article.item").get_by_role("button", name="Approve").click()
    expect(bob.locator(".flash-success")).to_contain_text("Approved")

    alice.locator("article.item").get_by_label("Reason to reject").select_option("off_topic")
    alice.locator("article.item").get_by_role("button", name="Reject").click()
    expect(alice.get_by_role("alert")).to_contain_text(DECIDED_FIRST)
    expect(alice.get_by_role("alert")).to_contain_text("bob approved it")
    alice.screenshot(path=screenshots / "10-console-conflict.png")
    record = store.queue_page("approved", None, 10)[0][0]
    assert (record["status"], record["decided_by"]) == ("published", "bob")


def test_claim_a_batch_and_decide_in_bulk(
    page: Page, server: Server, store: CommentStore, tokens: dict[str, str], sign_in: SignIn, screenshots: Path
) -> None:
    for name, text in (("Dee", "Fares hurt commuters."), ("Eve", "Keep the libraries open late."),
                       ("Fay", "What about cycling lanes?")):
        post_through_widget(page, server, name, f"{name.lower()}@example.com", text)
    sign_in(page, tokens["alice"])
    page.get_by_label("Claim the next").select_option("5")
    page.get_by_role("button", name="Claim next batch").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My batch")
    expect(page.locator(".flash-success")).to_contain_text("You claimed 3 comments")
    expect(page.locator("article.item .claim-mine")).to_have_count(3)

    # x selects the current comment; the bulk bar rejects every selected one.
    page.keyboard.press("j")
    page.keyboard.press("x")
    page.keyboard.press("j")
    page.keyboard.press("x")
    expect(page.locator("input.select:checked")).to_have_count(2)
    page.screenshot(path=screenshots / "11-console-batch-bulk.png")
    page.get_by_label("Reason to reject the selected comments").select_option("other")
    page.get_by_role("button", name="Reject selected").click()
    expect(page.locator(".flash-success")).to_contain_text("Rejected 2 comments.")
    expect(page.locator("article.item")).to_have_count(1)
    expect(page.locator("article.item .author-name")).to_have_text("Fay")
    rejected = {r["name"]: r["decision_reason"] for r in store.queue_page("rejected", None, 10)[0]}
    assert rejected == {"Dee": "other", "Eve": "other"}


def test_filters_and_author_history(
    page: Page, server: Server, store: CommentStore, tokens: dict[str, str], sign_in: SignIn
) -> None:
    post_through_widget(page, server, "Gus", "gus@example.com", "Fares should fall, not rise.")
    page.goto(server("/demo/articles/other-story"))
    widget = page.locator("section.mc")
    widget.get_by_label("Comment", exact=True).fill("A second thought from me, on another story.")
    widget.get_by_label("Name", exact=True).fill("Gus")
    widget.get_by_label("Email", exact=True).fill("gus@example.com")
    widget.get_by_role("button", name="Post comment").click()
    expect(widget.get_by_role("status")).to_contain_text(AWAITING)

    sign_in(page, tokens["alice"])
    expect(page.locator("nav.queues a[aria-current=page] .count")).to_contain_text("2")
    page.get_by_label("Article", exact=True).fill("other-story")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("article.item")).to_have_count(1)
    expect(page.locator("article.item .text")).to_contain_text("another story")
    page.get_by_label("Reason", exact=True).select_option("new_author")
    page.get_by_label("Article", exact=True).fill("")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("article.item")).to_have_count(2)
    expect(page.locator("article.item").first.locator(".reason-new_author")).to_contain_text("New author")

    page.locator("article.item").first.get_by_role("link", name=re.compile("2 comments, 0 approved")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Author: Gus")
    expect(page.locator("article.item")).to_have_count(2)
    expect(page.locator("article.item .facts dd").first).to_have_text("gus@example.com")


def test_sign_out_and_revoked_tokens(
    page: Page, server: Server, moderators: Moderators, tokens: dict[str, str], sign_in: SignIn
) -> None:
    page.goto(server("/console/login"))
    page.get_by_label("Moderator token").fill("mod_not-a-real-token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("not valid")

    sign_in(page, tokens["alice"])
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_contain_text("You are signed out.")
    page.goto(server("/console/"))
    expect(page).to_have_url(re.compile(r"/console/login"))

    sign_in(page, tokens["bob"])
    assert moderators.revoke("bob")
    page.reload()
    expect(page).to_have_url(re.compile(r"/console/login"))
    expect(page.get_by_role("alert")).to_contain_text("Your session ended")
