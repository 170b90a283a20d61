"""The one-line embed on a newsroom's page of another origin, under that page's strict Content-Security-Policy.

The article page is served by a second server (another port on 127.0.0.1, so another origin) and
holds the README's snippet as written there, with only the service's and the site's origins and
nothing else filled in: the test holds the documented snippet to working.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from playwright.sync_api import Page, Request, expect
from redis import Redis
from werkzeug.serving import BaseWSGIServer, make_server

from api import create_app
from moderation.authors.standing import StandingChange
from moderation.comments import author_key
from moderation.intake import Scorer
from moderation.keys import Keys
from moderation.policy_store import PolicyStore
from moderation.store import CommentStore

from .support import ROOT, Server

README_SERVICE = "https://comments.example.com"
README_SITE = "https://news.example.com"
THREAD = "world/korea-pact"
STORY = f"/{THREAD}"
HOSTILE_NAME = '<img src=/xss-name.png onerror="window.__xss=\'name\'">'
HOSTILE_BODY = '<script>window.__xss = "body"</script><img src="/xss-body.png" onerror="window.__xss=\'img\'"> hi'
# Passes the website check (quotes ' are legal in a URL): it must stay inside the href.
HOSTILE_WEBSITE = "https://evil.example/?q='onmouseover='window.__xss=1'&x=1"


def readme_snippet() -> str:
    """The embed snippet exactly as the README gives it."""
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```html\n(.*?)```", readme, re.S)
    found = [block for block in blocks if "/embed.js" in block]
    assert len(found) == 1, "the README gives one embed snippet"
    return found[0]


@dataclass
class Site:
    """The newsroom's own pages, on an origin of their own, each sent with a strict CSP."""

    url: str
    pages: dict[str, str] = field(default_factory=dict)
    policy: str = ""

    def __call__(self, path: str) -> str:
        return self.url + path

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        page = self.pages.get(environ.get("PATH_INFO", ""))
        if page is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                   ("Content-Security-Policy", self.policy)])
        return [page.encode()]


def serve(app: Callable[..., Any]) -> tuple[BaseWSGIServer, threading.Thread, str]:
    httpd: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, name="browser-test-server", daemon=True)
    thread.start()
    return httpd, thread, f"http://127.0.0.1:{httpd.port}"


def stop(httpd: BaseWSGIServer, thread: threading.Thread) -> None:
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


@pytest.fixture
def site() -> Iterator[Site]:
    holder = Site("")
    httpd, thread, url = serve(holder.wsgi)
    holder.url = url
    try:
        yield holder
    finally:
        stop(httpd, thread)


@pytest.fixture
def service(site: Site, redis: Redis, redis_url: str, model: Scorer) -> Iterator[Server]:
    """The service on its own origin, allowing the site's (CORS and the redirect back)."""
    app: Flask = create_app({"TESTING": True, "REDIS_URL": redis_url, "SECRET_KEY": "test-secret-key",
                             "ALLOWED_ORIGINS": [site.url], "MODEL": model, "RATE_LIMITS": "off"})
    httpd, thread, url = serve(app)
    # The page allows the service and nothing else: no inline script or style, no other host.
    site.policy = (f"default-src 'none'; script-src {url}; connect-src {url}; style-src {url}; "
                   f"form-action {url} 'self'; img-src 'none'; base-uri 'none'; frame-ancestors 'none'")
    snippet = readme_snippet().replace(README_SERVICE, url).replace(README_SITE, site.url)
    site.pages[STORY] = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Korea pact · The Other Daily</title>'
        '</head><body><main><h1>Seoul and Tokyo sign a fisheries pact</h1>'
        f"<p>The two governments agreed quotas for the next five years.</p>{snippet}</main></body></html>"
    )
    try:
        yield Server(url, app)
    finally:
        stop(httpd, thread)
        app.extensions["moderation"].redis.close()


@pytest.fixture
def store(service: Server) -> CommentStore:
    found: CommentStore = service.app.extensions["moderation"].store
    return found


def published(service: Server, store: CommentStore, **fields: str) -> str:
    """A comment on the thread, posted through the API and approved by a moderator."""
    client = service.app.test_client()
    response = client.post("/v1/comments", json={"article_id": THREAD, **fields})
    assert response.status_code == 201, response.get_json()
    comment_id: str = response.get_json()["id"]
    if (store.get(comment_id) or {}).get("status") != "published":
        store.decide(comment_id, "alice", "approve", None, None, None)
    return comment_id


def record_requests(page: Page) -> list[str]:
    requested: list[str] = []

    def seen(request: Request) -> None:
        requested.append(request.url)

    page.on("request", seen)
    return requested


def test_the_embed_lists_and_posts_from_another_origin(
    new_page: Callable[..., Page], site: Site, service: Server, store: CommentStore, redis: Redis, screenshots: Path,
) -> None:
    ann = published(service, store, name="Ann", email="ann@example.com", body="Quotas are overdue.",
                    website="https://ann.example/blog")
    mallory = published(service, store, name=HOSTILE_NAME, email="mallory@example.com", body=HOSTILE_BODY,
                        website=HOSTILE_WEBSITE)
    published(service, store, name="Bo", email="bo@example.com", body="What about the smaller boats?")

    page = new_page()
    requested = record_requests(page)
    page.goto(site(STORY))
    widget = page.locator("#comments")
    expect(widget).to_have_attribute("data-loaded", "true")
    # The widget replaced the fallback form, and its stylesheet came from the service.
    expect(widget.locator("form")).to_have_count(1)
    expect(widget.locator("form input[name=author]")).to_have_count(0)
    assert widget.get_by_role("button", name="Post comment").evaluate(
        "b => getComputedStyle(b).backgroundColor") == "rgb(11, 92, 173)"
    assert widget.locator("input[name=return_to]").get_attribute("value") == site(STORY)

    # The list: each website only as a nofollow ugc link on the name; hostile text stays text.
    items = widget.locator(".mc-list .mc-comment")
    expect(items).to_have_count(3)
    ann_name = page.locator(f"#comment-{ann} .mc-name")
    expect(ann_name).to_have_text("Ann")
    assert ann_name.evaluate("a => [a.tagName, a.getAttribute('href'), a.getAttribute('rel')]") == [
        "A", "https://ann.example/blog", "nofollow ugc"]
    hostile = page.locator(f"#comment-{mallory}")
    expect(hostile.locator(".mc-name")).to_have_text(HOSTILE_NAME)
    assert hostile.locator(".mc-body").text_content() == HOSTILE_BODY
    link = hostile.locator("a.mc-name").evaluate("a => [a.href, a.rel, a.attributes.length]")
    assert link == ["https://evil.example/?q=%27onmouseover=%27window.__xss=1%27&x=1", "nofollow ugc", 4]
    expect(page.locator(".mc-list a.mc-name")).to_have_count(2)  # Bo has no website: plain text
    hostile.locator("a.mc-name").hover()
    page.screenshot(path=screenshots / "15-embed-on-another-origin.png", full_page=True)
    assert page.evaluate("() => window.__xss") is None, "injected markup ran as script"
    assert page.locator("img").count() == 0 and not [url for url in requested if "xss" in url]

    # A javascript: website is refused by the service, and the form says so next to the field.
    form = widget.locator("form")
    form.get_by_label("Comment", exact=True).fill("The pact leaves out the smaller ports.")
    form.get_by_label("Name", exact=True).fill("Cy")
    form.get_by_label("Email", exact=True).fill("cy@example.com")
    form.get_by_label("Website (optional)").fill("javascript:alert(document.domain)")
    form.get_by_role("button", name="Post comment").click()
    expect(widget.get_by_role("status")).to_contain_text("Please check the form")
    expect(form.get_by_label("Website (optional)")).to_have_attribute("aria-invalid", "true")
    expect(form.locator("#mc-website-error")).to_contain_text("This website must be")
    assert redis.zcard(Keys().queue("pending")) == 0

    # A post from a new author waits for a moderator; the poster is told so.
    form.get_by_label("Website (optional)").fill("https://cy.example/")
    form.get_by_role("button", name="Post comment").click()
    expect(widget.get_by_role("status")).to_contain_text("awaiting moderation")
    [held] = store.queue_page("pending", None, 10)[0]
    assert (held["article_id"], held["name"], held["website"]) == (THREAD, "Cy", "https://cy.example/")
    assert held["referer"].startswith(site.url)

    # With the new-author hold off, a post is published at once and appears in the list.
    PolicyStore(redis, Keys()).update({"hold_new_authors": False}, "test")
    form.get_by_label("Comment", exact=True).fill("Good news for the east coast fleets.")
    form.get_by_label("Name", exact=True).fill("Di")
    form.get_by_label("Email", exact=True).fill("di@example.com")
    form.get_by_label("Website (optional)").fill("https://di.example/notes")
    form.get_by_role("button", name="Post comment").click()
    expect(widget.get_by_role("status")).to_contain_text("is published")
    expect(items).to_have_count(4)
    mine = widget.locator(".mc-new .mc-name")
    expect(mine).to_have_text("Di")
    expect(mine).to_have_attribute("rel", "nofollow ugc")
    expect(mine).to_have_attribute("href", "https://di.example/notes")
    page.screenshot(path=screenshots / "16-embed-published.png", full_page=True)


def test_without_javascript_the_readme_fallback_posts_and_comes_back(
    new_page: Callable[..., Page], site: Site, service: Server, store: CommentStore,
) -> None:
    page = new_page(javascript=False)
    page.goto(site(STORY))
    form = page.locator("#comments form")
    form.get_by_label("Comment").fill("Posted from a page with scripts off.")
    form.get_by_label("Name").fill("Hal")
    form.get_by_label("Email (never shown)").fill("hal@example.com")
    form.get_by_label("Website (optional)").fill("https://hal.example/")
    with page.expect_navigation():
        form.get_by_role("button", name="Post comment").click()
    assert page.url.startswith(site(STORY) + "?") and "comment_status=pending" in page.url
    [held] = store.queue_page("pending", None, 10)[0]
    assert (held["article_id"], held["name"], held["website"], held["body"]) == (
        THREAD, "Hal", "https://hal.example/", "Posted from a page with scripts off.")


def test_embed_js_is_the_widget_script_served_for_other_origins(service: Server) -> None:
    client = service.app.test_client()
    response = client.get("/embed.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.get_data() == (ROOT / "api" / "static" / "widget" / "comments.js").read_bytes()
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "max-age=300" in response.headers["Cache-Control"]
    again = client.get("/embed.js", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    assert "innerHTML" not in response.get_data(as_text=True)  # reader text is never parsed as HTML


def test_a_suspended_reader_is_told_the_sites_message_and_the_end_date(
    new_page: Callable[..., Page], site: Site, service: Server, store: CommentStore, screenshots: Path,
) -> None:
    published(service, store, name="Kim", email="kim@example.com", body="A first, civil comment.")
    until = (datetime.now(UTC) + timedelta(days=7)).replace(microsecond=0)
    change = StandingChange("suspended", "abuse", until, "Take a week off, Kim: see our rules at /rules.")
    identity = author_key(b"test-secret-key", "kim@example.com")
    service.app.extensions["moderation"].standings.change(identity, identity, change, "alice")

    page = new_page()
    page.goto(site(STORY))
    form = page.locator("#comments form")
    expect(page.locator("#comments")).to_have_attribute("data-loaded", "true")
    form.get_by_label("Comment", exact=True).fill("I am back, and angrier.")
    form.get_by_label("Name", exact=True).fill("Kim")
    form.get_by_label("Email", exact=True).fill("Kim@Example.com")
    form.get_by_role("button", name="Post comment").click()
    status = page.locator("#comments").get_by_role("status")
    expect(status).to_contain_text("You cannot comment here until")
    expect(status).to_contain_text("Take a week off, Kim: see our rules at /rules.")
    page.screenshot(path=screenshots / "17-embed-suspended-reader.png", full_page=True)
    assert store.queue_page("pending", None, 10)[0] == []

    # Without JavaScript the page the form returns to carries the same, for the site's page to show.
    plain = new_page(javascript=False)
    plain.goto(site(STORY))
    fallback = plain.locator("#comments form")
    fallback.get_by_label("Comment").fill("Posted with scripts off.")
    fallback.get_by_label("Name").fill("Kim")
    fallback.get_by_label("Email (never shown)").fill("kim@example.com")
    with plain.expect_navigation():
        fallback.get_by_role("button", name="Post comment").click()
    query = parse_qs(urlsplit(plain.url).query)
    assert query["comment_status"] == ["refused"]
    assert query["refused_message"] == ["Take a week off, Kim: see our rules at /rules."]
    assert query["refused_until"][0].startswith(until.strftime("%Y-%m-%dT%H:%M:%S"))
    assert store.queue_page("pending", None, 10)[0] == []


def test_the_author_follows_their_comment_to_its_statement_and_appeals(
    new_page: Callable[..., Page], site: Site, service: Server, store: CommentStore, screenshots: Path,
) -> None:
    page = new_page()
    page.goto(site(STORY))
    expect(page.locator("#comments")).to_have_attribute("data-loaded", "true")
    form = page.locator("#comments form")
    form.get_by_label("Comment", exact=True).fill("The quota for the smaller ports is a disgrace.")
    form.get_by_label("Name", exact=True).fill("Lee")
    form.get_by_label("Email", exact=True).fill("lee@example.com")
    form.get_by_role("button", name="Post comment").click()
    follow = page.locator("#comments").get_by_role("link", name="Follow your comment")
    expect(follow).to_be_visible()
    href = follow.get_attribute("href") or ""
    assert href.startswith(service.url + "/comments/") and "token=" in href and "token=" not in page.url
    [held] = store.queue_page("pending", None, 10)[0]
    store.decide(held["id"], "alice", "reject", "abuse", "Insulting.", None)

    author = new_page(javascript=False)
    author.goto(href)
    expect(author.get_by_role("status")).to_have_text("Not published")
    expect(author.locator("main")).to_contain_text("a moderator decided")
    expect(author.locator("main")).to_contain_text("abusive or insulting language")
    author.get_by_label("Your appeal: why the decision should be looked at again").fill(
        "I criticised the quota, not a person.")
    with author.expect_navigation():
        author.get_by_role("button", name="Send the appeal").click()
    expect(author.get_by_role("heading", name="Your appeal")).to_be_visible()
    expect(author.locator("main")).to_contain_text("a moderator will decide it")
    author.screenshot(path=screenshots / "18-author-status-appealed.png", full_page=True)
    assert author.url.split("?")[0] == href.split("?")[0]
