"""Coral's external moderation phase in the comment's own language: Coral's request carries none (external.ts), so
it is detected, with the Callback URL's `?language=` (the tenant's locale) as the hint and the fallback. Requests
are built and signed as Coral builds them (tests/test_coral.py's helpers) against the real app and model.

Only the language each comment is scored in and the answer's shape are asserted: scores in other languages are
the model's per-language heads', which the model card measures.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis

import api.coral as api_coral
from moderation.coral import phase_language, signing_secrets
from moderation.keys import Keys
from moderation.policy_store import PolicyStore
from tests.recording import Recording, recording_app
from tests.test_coral import SECRET, coral_reads, coral_request, serialise, signatures
from tests.test_perspective_languages import GERMAN, KOREAN, SPANISH


@pytest.fixture
def recording(model: Any) -> Recording:
    return Recording(model)


@pytest.fixture
def app(redis: Redis, redis_url: str, recording: Recording, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    monkeypatch.setattr(api_coral, "POLICY_FRESH_SECONDS", 0.0)
    with recording_app(redis_url, recording, CORAL_SIGNING_SECRETS=signing_secrets(SECRET)) as app:
        yield app


def phase(client: FlaskClient, text: str, language: str | None = None) -> Any:
    """One comment as Coral sends it, to the Callback URL with or without `?language=`."""
    body = serialise(coral_request(text))
    url = "/v1/coral/moderation-phase" + (f"?language={language}" if language else "")
    response = client.post(url, data=body, headers={"Content-Type": "application/json",
                                                    "X-Coral-Signature": signatures(body, SECRET)})
    assert response.status_code in (200, 204), response.get_data(as_text=True)
    coral_reads(response.status_code, response.get_data(as_text=True))  # Coral would take the answer
    return response


def test_each_comment_is_scored_in_its_detected_language(client: FlaskClient, recording: Recording) -> None:
    cases: list[tuple[str, str | None, str]] = [
        (GERMAN, None, "de"),
        (GERMAN, "en-US", "de"),  # the text decides where CLD2 is sure of it
        (KOREAN, None, "ko"),
        ("네!", None, "ko"),  # too short for CLD2; Hangul says Korean
        (SPANISH, "es", "es"),  # no abuse head: scored in Spanish all the same, never as English
        ("<p>Gut gemacht!</p>", "de", "de"),  # too short: the tenant's language from the Callback URL
        ("Gut gemacht!", "pt-BR", "pt"),
        ("Gut gemacht!", None, "en"),  # no hint: English
    ]
    for text, hint, language in cases:
        recording.languages.clear()
        phase(client, text, hint)
        assert recording.languages == [language], (text, hint)


def test_the_answer_names_the_language_and_how_it_was_found(client: FlaskClient, redis: Redis) -> None:
    # Every comment held, so every answer carries metadata.
    PolicyStore(redis, Keys()).update({"suspect_terms": ["Haushalt", "Gut", "네"]}, "test")
    found = {}
    for text, hint in ((GERMAN, None), ("Gut gemacht!", "de"), ("네!", None)):
        metadata = phase(client, text, hint).get_json()["metadata"]
        found[text] = (metadata["language"], metadata["language_source"])
    assert found == {GERMAN: ("de", "detected"), "Gut gemacht!": ("de", "fallback"), "네!": ("ko", "script")}


def test_phase_language_reads_any_tag() -> None:
    assert phase_language("Gut gemacht!", "DE-ch").code == "de"
    assert phase_language("Gut gemacht!", "not a tag").code == "en"
    assert phase_language(GERMAN, "ko").code == "de"
