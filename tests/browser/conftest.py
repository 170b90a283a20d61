"""Browser tests: the real app under a real HTTP server, driven by headless Chromium through Playwright.

Debian's `chromium` package is the browser (`.ci/run` installs it); Playwright's own browser download
is never used. Without /usr/bin/chromium these tests skip, saying so. Screenshots of the main screens
are kept in test-artefacts/screenshots/ at the project root.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from werkzeug.serving import BaseWSGIServer, make_server

from moderation.moderators import Moderators
from moderation.store import CommentStore

from .support import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, VIEWPORT, Server, SignIn, Watch


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.skip(f"needs Chromium at {CHROMIUM} (Debian: apt-get install chromium; .ci/run installs it)")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def server(app: Flask) -> Iterator[Server]:
    """The app from tests/conftest.py (real Redis, real model) behind a threaded WSGI server."""
    httpd: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{httpd.port}"
    # The demo's plain form post is redirected back to the demo page, so its origin must be allowed.
    app.config["ALLOWED_ORIGINS"] = [*app.config["ALLOWED_ORIGINS"], url]
    thread = threading.Thread(target=httpd.serve_forever, name="browser-test-server", daemon=True)
    thread.start()
    try:
        yield Server(url, app)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
def watch() -> Iterator[Watch]:
    watcher = Watch()
    yield watcher
    watcher.assert_clean()


@pytest.fixture
def new_page(browser: Browser, watch: Watch) -> Iterator[Callable[..., Page]]:
    """Pages in fresh browser contexts (separate cookies), all watched; closed after the test."""
    contexts: list[BrowserContext] = []

    def make(*, javascript: bool = True) -> Page:
        context = browser.new_context(viewport=VIEWPORT, java_script_enabled=javascript, locale="en-GB")
        context.set_default_timeout(10_000)
        contexts.append(context)
        return watch.attach(context.new_page())

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    return new_page()


@pytest.fixture
def store(app: Flask) -> CommentStore:
    """The app's own store: what the console and the API read and write."""
    found: CommentStore = app.extensions["moderation"].store
    return found


@pytest.fixture
def moderators(app: Flask) -> Moderators:
    found: Moderators = app.extensions["moderation"].moderators
    return found


@pytest.fixture
def tokens(moderators: Moderators) -> dict[str, str]:
    return {"alice": moderators.add("alice", "moderator"), "bob": moderators.add("bob", "moderator")}


@pytest.fixture
def sign_in(server: Server) -> SignIn:
    """Sign `page` in to the console with `token`, landing on `path`."""

    def go(page: Page, token: str, path: str = "/console/") -> None:
        page.goto(server(path))
        page.get_by_label("Moderator token").fill(token)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(server(path) + "*")

    return go
