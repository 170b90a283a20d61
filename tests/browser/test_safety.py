"""Hostile comments show as text on every page, and both the widget and the console work without JavaScript."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, Request, expect

from moderation.store import CommentStore

from .support import ARTICLE, Server, SignIn

HOSTILE_BODY = (
    '<script>window.__xss = "script"</script>\n'
    '<img src="/xss.png" onerror="window.__xss = \'img\'"> and <b>bold</b> claims'
)
HOSTILE_NAME = '<img src=/xss-name.png onerror="window.__xss=1">'


def assert_no_script_ran(page: Page, requested: list[str]) -> None:
    assert page.evaluate("() => window.__xss") is None, "injected markup ran as script"
    assert page.locator("img").count() == 0, "injected markup became an element"
    assert not [url for url in requested if "xss" in url], f"injected markup loaded {requested}"


def record_requests(page: Page) -> list[str]:
    requested: list[str] = []

    def seen(request: Request) -> None:
        requested.append(request.url)

    page.on("request", seen)
    return requested


def find(store: CommentStore, name: str) -> tuple[str, dict[str, str]]:
    for queue in ("pending", "rejected", "approved"):
        for record in store.queue_page(queue, None, 50)[0]:
            if record["name"] == name:
                return queue, record
    raise AssertionError(f"no comment by {name!r}")


def test_markup_in_a_comment_is_text_on_every_page(
    new_page: Callable[..., Page], server: Server, store: CommentStore, tokens: dict[str, str], sign_in: SignIn,
    screenshots: Path,
) -> None:
    reader = new_page()
    requested = record_requests(reader)
    reader.goto(server(f"/demo/articles/{ARTICLE}"))
    widget = reader.locator("section.mc")
    widget.get_by_label("Comment", exact=True).fill(HOSTILE_BODY)
    widget.get_by_label("Name", exact=True).fill(HOSTILE_NAME)
    widget.get_by_label("Email", exact=True).fill("mallory@example.com")
    widget.get_by_role("button", name="Post comment").click()
    expect(widget.get_by_role("status")).to_contain_text("awaiting moderation")
    assert_no_script_ran(reader, requested)

    # The console: the queue (held, or rejected by the model), the audit trail, the author's page.
    moderator = new_page()
    requested = record_requests(moderator)
    queue, record = find(store, HOSTILE_NAME)
    sign_in(moderator, tokens["alice"], f"/console/?queue={queue}")
    item = moderator.locator(f"#c-{record['id']}")
    expect(item.locator(".text")).to_have_text(HOSTILE_BODY)
    expect(item.locator(".author-name")).to_have_text(HOSTILE_NAME)
    moderator.screenshot(path=screenshots / "12-console-hostile-comment.png")
    assert_no_script_ran(moderator, requested)
    item.get_by_role("link", name="History").click()
    expect(moderator.get_by_role("heading", level=1)).to_have_text(f"Comment by {HOSTILE_NAME}")
    expect(moderator.locator("article.item .text")).to_have_text(HOSTILE_BODY)
    assert_no_script_ran(moderator, requested)
    moderator.locator("article.item").get_by_role("link", name="1 comment").click()
    expect(moderator.locator("article.item .text")).to_have_text(HOSTILE_BODY)
    assert_no_script_ran(moderator, requested)
    moderator.locator("article.item").get_by_role("button", name="Approve").click()
    expect(moderator.locator(".flash-success")).to_contain_text("Approved")
    assert_no_script_ran(moderator, requested)

    # The article page, as the widget's script renders it and as the server renders it.
    for javascript in (True, False):
        article = new_page(javascript=javascript)
        requested = record_requests(article)
        article.goto(server(f"/demo/articles/{ARTICLE}"))
        if javascript:
            expect(article.locator("section.mc")).to_have_attribute("data-loaded", "true")
        shown = article.locator(f"#comment-{record['id']}")
        expect(shown.locator(".mc-name")).to_have_text(HOSTILE_NAME)
        # The widget keeps line breaks (white-space: pre-line), so compare the text itself.
        assert shown.locator(".mc-body").text_content() == HOSTILE_BODY
        if javascript:
            article.screenshot(path=screenshots / "13-article-hostile-comment.png", full_page=True)
            assert_no_script_ran(article, requested)
        else:
            assert article.locator("img").count() == 0
            assert not [url for url in requested if "xss" in url]


def test_without_javascript_the_form_posts_and_comes_back(
    new_page: Callable[..., Page], server: Server, store: CommentStore, tokens: dict[str, str], sign_in: SignIn,
    screenshots: Path,
) -> None:
    reader = new_page(javascript=False)
    reader.goto(server(f"/demo/articles/{ARTICLE}"))
    widget = reader.locator("section.mc")
    widget.get_by_label("Comment", exact=True).fill("Posted with scripts turned off.")
    widget.get_by_label("Name", exact=True).fill("Hal")
    widget.get_by_label("Email", exact=True).fill("hal@example.com")
    with reader.expect_navigation():
        widget.get_by_role("button", name="Post comment").click()
    assert reader.url.startswith(server(f"/demo/articles/{ARTICLE}?"))
    assert "comment_status=pending" in reader.url
    expect(reader.locator(".mc-status")).to_contain_text("awaiting moderation")
    reader.screenshot(path=screenshots / "14-no-javascript-awaiting-moderation.png")
    _, record = find(store, "Hal")
    assert record["body"] == "Posted with scripts turned off."

    # The console's forms are plain forms too: sign in and approve without a script.
    moderator = new_page(javascript=False)
    sign_in(moderator, tokens["alice"])
    expect(moderator.locator("#keys-help-open")).to_be_hidden()
    moderator.locator(f"#c-{record['id']}").get_by_role("button", name="Approve").click()
    expect(moderator.locator(".flash-success")).to_contain_text("Approved")

    reader.goto(server(f"/demo/articles/{ARTICLE}"))
    expect(reader.locator(".mc-list .mc-body")).to_have_text(["Posted with scripts turned off."])
