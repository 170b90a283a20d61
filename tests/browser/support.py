"""What the browser tests share besides fixtures: the test server's address and the page watcher."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask
from playwright.sync_api import ConsoleMessage, Dialog, Page, ViewportSize

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
VIEWPORT: ViewportSize = {"width": 1366, "height": 768}
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


SignIn = Callable[..., None]
