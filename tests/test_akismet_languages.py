"""Akismet's comment-check in the comment's own language: detected, with `blog_lang` (Akismet's comma-separated
ISO 639-1 list, or WordPress's locale) as the hint and the fallback; driven by Akismet's Python client (`akismet`
on PyPI) against the real app and model, as tests/test_akismet.py drives it.

Only the language each comment is scored in and the answer's shape are asserted: spam scores in other languages
are the model's per-language heads', which the model card measures.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import akismet
import pytest
from flask import Flask
from redis import Redis

from moderation.akismet import Submission, blog_language
from moderation.api_keys import ApiKeys
from moderation.keys import Keys
from tests.recording import Recording, recording_app
from tests.test_akismet import BLOG, IP, http_client
from tests.test_perspective_languages import GERMAN, KOREAN, SPANISH


@pytest.fixture
def recording(model: Any) -> Recording:
    return Recording(model)


@pytest.fixture
def app(redis: Redis, redis_url: str, recording: Recording) -> Iterator[Flask]:
    with recording_app(redis_url, recording) as app:
        yield app


@pytest.fixture
def site(app: Flask, redis: Redis) -> Iterator[akismet.SyncClient]:
    key = ApiKeys(redis, Keys()).add("news-site")
    client = akismet.SyncClient(config=akismet.Config(key=key, url=BLOG), http_client=http_client(app))
    yield client
    client._http_client.close()


def test_each_comment_is_scored_in_its_detected_language(site: akismet.SyncClient, recording: Recording) -> None:
    cases: list[tuple[str, str | None, str]] = [
        (GERMAN, None, "de"),
        (GERMAN, "en", "de"),  # the text decides where CLD2 is sure of it
        (KOREAN, "en_US", "ko"),
        ("네!", "en", "ko"),  # too short for CLD2; Hangul says Korean
        (SPANISH, "en", "es"),  # no abuse head, but spam is asked: scored in Spanish, never as English
        ("Gut gemacht!", "de_DE", "de"),  # too short: the site's language, as WordPress sends its locale
        ("Gut gemacht!", "fr_ca, en", "fr"),  # the first of Akismet's list
        ("Gut gemacht!", None, "en"),  # no blog_lang: English
    ]
    for text, blog_lang, language in cases:
        recording.languages.clear()
        fields: dict[str, Any] = {"comment_content": text, "comment_type": "comment"}
        if blog_lang is not None:
            fields["blog_lang"] = blog_lang
        result = site.comment_check(IP, **fields)
        assert result in (akismet.CheckResponse.HAM, akismet.CheckResponse.SPAM, akismet.CheckResponse.DISCARD)
        assert recording.languages == [language], (text, blog_lang)


def test_blog_lang_as_clients_send_it() -> None:
    assert blog_language("en, fr_ca") == "en"
    assert blog_language("de_DE") == "de" and blog_language("pt-BR") == "pt" and blog_language("ZH") == "zh"
    assert blog_language(" , ko") == "ko"  # a blank first entry says nothing
    assert blog_language("") is None and blog_language("???") is None
    submission = Submission.from_fields({"comment_content": "Toll", "blog_lang": "de_AT,en"})
    assert submission.blog_language == "de" and submission.language().code == "de"
