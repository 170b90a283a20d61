"""Google's own client library (google-api-python-client) against the service over real HTTP: built from our
discovery document with only its discovery URL changed, as a site moving off Perspective would."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from googleapiclient import discovery
from googleapiclient.errors import HttpError

from moderation.api_keys import ApiKeys
from moderation.decisions import imported_decisions
from tests.conftest import serving


@pytest.fixture
def base_url(app: Flask) -> Iterator[str]:
    """The app (real Redis, real model) behind a threaded WSGI server on a free loopback port."""
    with serving(app) as url:
        yield url


@pytest.fixture
def key(app: Flask) -> str:
    return ApiKeys(app.extensions["moderation"].redis).add("google-client")


def client(base_url: str, key: str) -> Any:
    """Exactly the call Perspective's Python quickstart makes, with our discovery URL."""
    return discovery.build("commentanalyzer", "v1alpha1", developerKey=key,
                           discoveryServiceUrl=base_url + "/$discovery/rest?version=v1alpha1",
                           static_discovery=False)


def test_analyze_through_googles_client(base_url: str, key: str) -> None:
    request = {"comment": {"text": "What kind of idiot name is foo?"}, "languages": ["en"],
               "requestedAttributes": {"TOXICITY": {}, "INSULT": {}}, "spanAnnotations": True,
               "clientToken": "quickstart"}
    answer = client(base_url, key).comments().analyze(body=request).execute()
    toxicity = answer["attributeScores"]["TOXICITY"]
    assert 0.5 < toxicity["summaryScore"]["value"] <= 1 and toxicity["summaryScore"]["type"] == "PROBABILITY"
    assert {(span["begin"], span["end"]) for span in toxicity["spanScores"]} == {(13, 18)}  # "idiot"
    assert answer["languages"] == ["en"] and answer["clientToken"] == "quickstart"


def test_suggestscore_through_googles_client(app: Flask, base_url: str, key: str) -> None:
    request = {"comment": {"text": "I guess it comes down a simple choice: get busy living, or get busy dying."},
               "attributeScores": {"TOXICITY": {"summaryScore": {"value": 0}}},
               "communityId": "/forum/movies", "clientToken": "comment-53922", "languages": ["en"]}
    answer = client(base_url, key).comments().suggestscore(body=request).execute()
    assert answer == {"clientToken": "comment-53922", "detectedLanguages": ["en"], "requestedLanguages": ["en"]}
    [decision] = list(imported_decisions(app.extensions["moderation"].store))
    assert (decision.abuse, decision.spam, decision.source) == (0, None, "perspective")


def test_errors_reach_the_client_as_http_errors_with_our_status(base_url: str, key: str) -> None:
    with pytest.raises(HttpError) as unknown:
        client(base_url, key).comments().analyze(body={
            "comment": {"text": "hello"}, "languages": ["en"], "requestedAttributes": {"FLIRTATION": {}}}).execute()
    assert unknown.value.resp.status == 400
    assert unknown.value.reason == "Unknown requested attribute: FLIRTATION"
    assert unknown.value.error_details[0]["errorType"] == "INVALID_REQUEST"

    with pytest.raises(HttpError) as bad_key:
        client(base_url, "mk_wrong").comments().analyze(body={
            "comment": {"text": "hello"}, "requestedAttributes": {"TOXICITY": {}}}).execute()
    assert bad_key.value.resp.status == 400
    assert bad_key.value.error_details[0]["reason"] == "API_KEY_INVALID"
