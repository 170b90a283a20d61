"""Fuzzing: schemathesis drives every documented operation; hypothesis probes validation."""

from __future__ import annotations

import hashlib
import hmac
import io
import unicodedata
from typing import Any
from urllib.parse import quote, urlsplit

import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import REGISTRY
from pydantic import ValidationError
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from moderation.api_keys import ApiKeys
from moderation.comments import NewComment, Origin, new_comment_id
from moderation.keys import Keys
from moderation.policy import Assessment, Decision
from moderation.schemas import CommentIn
from moderation.store import CommentStore

# What the contract promises for any input: no server error, and answers the description allows.
# (Schema-valid bodies may still be refused: the schema cannot say "not only spaces".)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def decisions_of(kind: str) -> float:
    """Every decision counted for `kind` so far, whatever its outcome and reason."""
    return sum(sample.value for metric in REGISTRY.collect() if metric.name == "moderation_decisions"
               for sample in metric.samples if sample.name.endswith("_total") and sample.labels.get("kind") == kind)


class SignedAsCoral:
    """Signs every request to the Coral phase as Coral would, so generated bodies reach the scoring, not the 401."""

    def __init__(self, wsgi_app: Any, secret: str) -> None:
        self.wsgi_app, self.secret = wsgi_app, secret

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") == "/v1/coral/moderation-phase":
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)
            environ["HTTP_X_CORAL_SIGNATURE"] = "sha256=" + hmac.new(self.secret.encode(), body,
                                                                      hashlib.sha256).hexdigest()
        return self.wsgi_app(environ, start_response)


def test_every_operation_conforms_and_never_fails(app: Flask, admin: dict[str, str], redis: Any) -> None:
    """No 5xx (503 is documented for a Redis outage, which this run does not have), schema-true answers."""
    # Driven by hand rather than schemathesis' pytest plugin, which does not yet support pytest 9.
    api = schemathesis.openapi.from_wsgi("/openapi.json", app)
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 25
    assert {"GET /embed.js", "GET /v1/articles/{article_id}/comments", "PUT /v1/articles/{article_id}/mode",
            "POST /v1/comments"} <= {operation.label for operation in operations}
    # The drop-in surfaces with real credentials, so generated comments get scored: Perspective's key in
    # the query and Akismet's in the form, as their clients send them, and every Coral request signed.
    api_key = ApiKeys(redis, Keys()).add("fuzz")
    akismet = {"api_key": api_key, "blog": "https://news.example/", "user_ip": "192.0.2.1"}
    app.config["CORAL_SIGNING_SECRETS"] = ("fuzz-secret",)
    app.wsgi_app = SignedAsCoral(app.wsgi_app, "fuzz-secret")  # type: ignore[method-assign]
    before = {kind: decisions_of(kind) for kind in ("coral", "akismet", "akismet_feedback")}

    for operation in operations:

        @settings(max_examples=25, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case: schemathesis.Case) -> None:
            if case.path.startswith("/v1alpha1/"):
                case.query = {**(case.query or {}), "key": api_key}
            if case.path.startswith("/1.1/") and isinstance(case.body, dict):
                case.body.update(akismet, key=api_key)
            case.call_and_validate(headers=admin, checks=CHECKS)

        check()
    assert all(decisions_of(kind) > count for kind, count in before.items()), "the drop-in surfaces were not reached"


text = st.text(alphabet=st.characters(codec="utf-8"), max_size=300)
# Ids and websites as sites send them: paths and URLs, with slashes, dots, percent signs and braces.
article_ids = st.one_of(
    text,
    st.lists(st.text(alphabet=st.characters(codec="utf-8"), max_size=12), max_size=6).map("/".join),
    st.from_regex(r"https?://[a-z0-9.-]{1,20}(/[A-Za-z0-9._~%!$&'()*+,;=:@{}-]{0,12}){0,5}", fullmatch=True),
)
websites = st.one_of(
    st.none(), text,
    st.from_regex(r"(https?://|javascript:|data:|//)?[a-z0-9.@:-]{0,30}(/[A-Za-z0-9._~%?#&'=<>\"-]{0,20})?",
                  fullmatch=True),
)
# What an accepted article id may never hold: controls, format characters, surrogates, line breaks.
REFUSED_IN_IDS = {"Cc", "Cf", "Cs", "Zl", "Zp"}


@settings(max_examples=300, deadline=None)
@given(name=text, email=text, body=st.text(max_size=6000), article_id=article_ids, website=websites)
def test_validation_either_accepts_clean_text_or_names_the_field(name: str, email: str, body: str,
                                                                 article_id: str, website: str | None) -> None:
    fields = {"name": name, "email": email, "body": body, "article_id": article_id, "website": website}
    try:
        comment = CommentIn.model_validate(fields)
    except ValidationError as error:
        assert {str(e["loc"][0]) for e in error.errors()} <= set(fields)
        return
    for value in (comment.name, comment.body):
        assert value == value.strip() and len(value) >= 1
        assert not any(ord(c) < 32 and c not in "\n\t" for c in value)
    assert len(comment.name) <= 80 and len(comment.body) <= 5000 and "\r" not in comment.body
    thread = comment.article_id
    assert thread == thread.strip() and 1 <= len(thread) <= 2048
    assert not any(unicodedata.category(c) in REFUSED_IN_IDS for c in thread)
    assert not ({".", ".."} & set(thread.split("/"))) or "/" not in thread
    if comment.website is not None:
        parts = urlsplit(comment.website)
        assert parts.scheme in ("http", "https") and parts.hostname and "." in parts.hostname
        assert len(comment.website) <= 200 and not parts.username and not any(c in comment.website for c in ' "<>\\')


@settings(max_examples=200, deadline=None)
@given(body=st.text(min_size=1, max_size=500))
def test_normalisation_is_idempotent(body: str) -> None:
    base = {"name": "A", "email": "a@example.com", "article_id": "a1"}
    try:
        once = CommentIn.model_validate({**base, "body": body})
    except ValidationError:
        return
    assert CommentIn.model_validate({**base, "body": once.body}).body == once.body


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(article_id=article_ids)
def test_any_accepted_article_id_is_listed_encoded_and_with_raw_slashes(client: FlaskClient, app: Flask,
                                                                        article_id: str) -> None:
    """Whatever the id holds (slashes, dots, %, ?, braces, any script), both spellings of its URL find it."""
    try:
        thread = CommentIn.model_validate({"name": "A", "email": "a@example.com", "body": "b",
                                           "article_id": article_id}).article_id
    except ValidationError:
        return
    store: CommentStore = app.extensions["moderation"].store
    comment_id, created_at = new_comment_id()
    store.submit(NewComment(comment_id, created_at, thread, None, "A", "a@example.com", "k", "b", Origin()),
                 Assessment(0.0, 0.0), Decision("published"), "test")
    for path in (quote(thread, safe=""), quote(thread, safe="/")):
        response = client.get(f"/v1/articles/{path}/comments?limit=200")
        assert response.status_code == 200, (thread, path)
        assert comment_id in [c["id"] for c in response.get_json()["comments"]], (thread, path)
