"""Browser tests: the real app under a real HTTP server, driven by headless Chromium through Playwright.

Debian's `chromium` package is the browser (`.ci/run` installs it); Playwright's own browser download
is never used. Without /usr/bin/chromium these tests skip, saying so. Screenshots of the main screens
are kept in test-artefacts/screenshots/ at the project root.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Dialog, Page, Playwright, sync_playwright
from redis import Redis
from werkzeug.serving import BaseWSGIServer, make_server

from moderation.keys import Keys
from moderation.moderators import Moderators
from moderation.store import CommentStore

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artefacts" / "screenshots"
CHROMIUM = Path(os.environ.get("MODERATION_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1366, "height": 768}
ARTICLE = "budget-2026"


@dataclass
class Server:
    url: str
    app: Flask

    def __call__(self, path: str) -> str:
        return self.url + path


@dataclass
class Watch:
    """What a page did that it must not: open dialogs, throw, or trip the Content-Security-Policy."""

    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> Page:
        page.on("dialog", self._dialog)
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        page.on("console", self._console)
        return page

    def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and ("Content Security Policy" in message.text or "Refused" in message.text):
            self.errors.append(f"console: {message.text}")

    def assert_clean(self) -> None:
        assert not self.dialogs, f"a page opened dialogs: {self.dialogs}"
        assert not self.errors, f"a page reported errors: {self.errors}"


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
def store(redis: Redis) -> CommentStore:
    return CommentStore(redis, Keys())


@pytest.fixture
def tokens(redis: Redis) -> dict[str, str]:
    moderators = Moderators(redis, Keys())
    return {"alice": moderators.add("alice", "moderator"), "bob": moderators.add("bob", "moderator")}


def sign_in(page: Page, server: Server, token: str, path: str = "/console/") -> None:
    page.goto(server(path))
    page.get_by_label("Moderator token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(server(path) + "*")
