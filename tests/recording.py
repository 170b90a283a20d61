"""The app on the real model, noting the language each comment is scored in: the drop-in surfaces' language tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask

from api import create_app
from moderation.model.signals import NO_AUTHOR, Author
from tests.conftest import ALLOWED_ORIGIN, close


class Recording:
    """The real model, noting the language each comment is scored in."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.languages: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.model, name)

    def score(self, text: str, author: Author = NO_AUTHOR, language: str = "en") -> Any:
        self.languages.append(language)
        return self.model.score(text, author, language=language)


@contextmanager
def recording_app(redis_url: str, recording: Recording, **config: Any) -> Iterator[Flask]:
    """The app scoring with `recording`, limits off, its Redis connection closed afterwards."""
    app = create_app({"TESTING": True, "REDIS_URL": redis_url, "SECRET_KEY": "test-secret-key",
                      "ALLOWED_ORIGINS": [ALLOWED_ORIGIN], "MODEL": recording, "RATE_LIMITS": "off",
                      "API_KEY_RATE_LIMITS": "off", **config})
    yield app
    close(app.extensions["moderation"].redis)
