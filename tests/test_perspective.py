"""The Perspective surface: Perspective's requests and answers, Google's errors for every bad input, keys and their
limit, what is kept (and what never is), suggestions learnt from, and the discovery document."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis

from api import create_app
from api.limits import limiter
from moderation import perspective
from moderation.api_keys import ApiKeys
from moderation.decisions import all_decisions, imported_decisions, training_examples
from moderation.keys import Keys
from moderation.model.attributes import ATTRIBUTES
from moderation.store import CommentStore

ANALYZE = "/v1alpha1/comments:analyze"
SUGGEST = "/v1alpha1/comments:suggestscore"
INSULT_TEXT = "You are an idiot and everyone here can see it."
CIVIL_TEXT = "With respect, the writer has the numbers wrong: the deficit grew under both parties."


@pytest.fixture
def key(app: Flask) -> str:
    return ApiKeys(app.extensions["moderation"].redis).add("coral")


def coral(text: str, model: str = "TOXICITY", do_not_store: bool = True) -> dict[str, Any]:
    """What Coral Talk's perspective.ts sends for comments:analyze."""
    return {"comment": {"text": text}, "doNotStore": do_not_store, "requestedAttributes": {model: {}},
            "languages": ["en"]}


def analyze(client: FlaskClient, key: str, body: Any, **kwargs: Any) -> Any:
    return client.post(f"{ANALYZE}?key={key}", json=body, **kwargs)


def google_error(response: Any, code: int, status: str) -> dict[str, Any]:
    """The error body, checked to be Google's shape with this code and status."""
    assert response.status_code == code, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == code and error["status"] == status and error["message"]
    return dict(error)


def error_type(error: dict[str, Any]) -> str:
    return str(error["details"][0]["errorType"])


# -- analyze ---------------------------------------------------------------------------------------


def test_corals_request_gets_the_abuse_score_where_coral_reads_it(client: FlaskClient, key: str, model: Any) -> None:
    answer = analyze(client, key, coral(INSULT_TEXT))
    assert answer.status_code == 200
    body = answer.get_json()
    score = body["attributeScores"]["TOXICITY"]["summaryScore"]
    assert score == {"value": round(model.score(INSULT_TEXT).abuse, 7), "type": "PROBABILITY"}
    assert score["value"] > 0.5
    assert body["languages"] == ["en"] and body["detectedLanguages"] == ["en"]
    assert "spanScores" not in body["attributeScores"]["TOXICITY"] and "clientToken" not in body
    civil = analyze(client, key, coral(CIVIL_TEXT)).get_json()
    assert civil["attributeScores"]["TOXICITY"]["summaryScore"]["value"] < 0.5


def test_every_attribute_at_once_in_request_order(client: FlaskClient, key: str) -> None:
    wanted = {name: {} for name in reversed(ATTRIBUTES)}
    body = analyze(client, key, {"comment": {"text": "Immigrants are vermin, I know where you live."},
                                 "requestedAttributes": wanted, "languages": ["en"], "clientToken": "t-1"}).get_json()
    assert list(body["attributeScores"]) == list(wanted)
    scores = {name: entry["summaryScore"]["value"] for name, entry in body["attributeScores"].items()}
    assert scores["THREAT"] == 1.0 and scores["SEVERE_TOXICITY"] == 1.0
    assert scores["IDENTITY_ATTACK"] == scores["TOXICITY"] == scores["INSULT"] > 0
    assert scores["PROFANITY"] == 0.0
    assert body["clientToken"] == "t-1"


def test_scores_under_their_threshold_are_left_out(client: FlaskClient, key: str) -> None:
    body = {"comment": {"text": INSULT_TEXT}, "languages": ["en"], "requestedAttributes": {
        "TOXICITY": {"scoreThreshold": 0.2, "scoreType": "PROBABILITY"}, "THREAT": {"scoreThreshold": 0.5},
        "SPAM": {"scoreThreshold": "0.99"}}}
    answer = analyze(client, key, body).get_json()
    assert list(answer["attributeScores"]) == ["TOXICITY"]
    body["requestedAttributes"] = {"THREAT": {"scoreThreshold": 0.5}}
    assert "attributeScores" not in analyze(client, key, body).get_json()  # proto3 JSON leaves out an empty map


def test_span_scores_mark_the_words_in_utf16_offsets_of_the_text_as_sent(client: FlaskClient, key: str) -> None:
    text = "😀 You are an idiot, a total idiot."
    body = {**coral(text), "spanAnnotations": True}
    spans = analyze(client, key, body).get_json()["attributeScores"]["TOXICITY"]["spanScores"]
    utf16 = text.encode("utf-16-le")
    marked = [utf16[2 * s["begin"]:2 * s["end"]].decode("utf-16-le") for s in spans]
    assert marked == ["idiot", "idiot"]
    assert spans[0]["begin"] == text.index("idiot") + 1  # the emoji is two UTF-16 units
    assert all(s["score"]["type"] == "PROBABILITY" and 0 < s["score"]["value"] <= 1 for s in spans)


def test_html_is_stripped_before_scoring_and_spans_point_into_the_html(client: FlaskClient, key: str) -> None:
    sent = "<p>You are an <b>idiot</b> &amp; a <a href='https://x.example'>liar</a>.</p>"
    html = {"comment": {"text": sent, "type": "HTML"}, "requestedAttributes": {"TOXICITY": {}, "INSULT": {}},
            "languages": ["en"], "spanAnnotations": True}
    answer = analyze(client, key, html).get_json()["attributeScores"]
    plain = analyze(client, key, {**html, "comment": {"text": " You are an idiot & a liar. "},
                                  "spanAnnotations": False}).get_json()["attributeScores"]
    assert answer["TOXICITY"]["summaryScore"] == plain["TOXICITY"]["summaryScore"]
    marked = {sent[s["begin"]:s["end"]] for s in answer["INSULT"]["spanScores"]}
    assert marked == {"idiot", "liar"}


def test_language_detection_and_support_by_attribute(client: FlaskClient, key: str) -> None:
    detected = analyze(client, key, {"comment": {"text": CIVIL_TEXT}, "requestedAttributes": {"TOXICITY": {}}})
    assert detected.status_code == 200
    assert detected.get_json()["languages"] == ["en"] and detected.get_json()["detectedLanguages"] == ["en"]
    assert analyze(client, key, {**coral(INSULT_TEXT), "languages": ["en-US"]}).get_json()["languages"] == ["en-US"]

    french = "Ceci est un commentaire tout à fait ordinaire sur la politique de la ville et le budget."
    error = google_error(analyze(client, key, {"comment": {"text": french}, "requestedAttributes": {"INSULT": {}}}),
                         400, "INVALID_ARGUMENT")
    assert error["message"] == "Attribute INSULT does not support request languages: fr"
    assert error["details"][0]["languageNotSupportedByAttributeError"] == {"detectedLanguages": ["fr"],
                                                                           "attribute": "INSULT"}
    asked = google_error(analyze(client, key, {**coral(INSULT_TEXT), "languages": ["en", "es"]}), 400,
                         "INVALID_ARGUMENT")
    assert asked["message"] == "Attribute TOXICITY does not support request languages: en, es"
    assert error_type(asked) == "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE"
    short = google_error(analyze(client, key, {"comment": {"text": "ok"}, "requestedAttributes": {"TOXICITY": {}}}),
                         400, "INVALID_ARGUMENT")
    assert error_type(short) == "LANGUAGE_DETECTION_FAILED"
    # French has an abuse head: TOXICITY is scored, INSULT (an English lexicon's gate) dropped.
    dropped = analyze(client, key, {"comment": {"text": french}, "languages": ["fr"], "dropUnsupportedAttributes": True,
                                    "requestedAttributes": {"INSULT": {}, "TOXICITY": {}}})
    assert dropped.status_code == 200 and list(dropped.get_json()["attributeScores"]) == ["TOXICITY"]
    assert dropped.get_json()["languages"] == ["fr"] and dropped.get_json()["detectedLanguages"] == ["fr"]


# -- bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "message", "kind"), [
    ({"requestedAttributes": {"TOXICITY": {}}}, "Comment must be non-empty.", "COMMENT_EMPTY"),
    ({"comment": {"text": ""}, "requestedAttributes": {"TOXICITY": {}}}, "Comment must be non-empty.",
     "COMMENT_EMPTY"),
    ({"comment": {"text": "hello there"}, "languages": ["en"]}, "Missing requested_attributes.",
     "NO_REQUESTED_ATTRIBUTES"),
    ({"comment": {"text": "hello there"}, "requestedAttributes": {}}, "Missing requested_attributes.",
     "NO_REQUESTED_ATTRIBUTES"),
    ({"comment": {"text": "hello there"}, "requestedAttributes": {"TOXICITY": {}, "FLIRTATION": {}}},
     "Unknown requested attribute: FLIRTATION", "INVALID_REQUEST"),
    ({"comment": {"text": "hello there"}, "requestedAttributes": {"SEXUALLY_EXPLICIT": {}}},
     "Unknown requested attribute: SEXUALLY_EXPLICIT", "INVALID_REQUEST"),
    ({"comment": {"text": "hello there"}, "requestedAttributes": {"TOXICITY": {"scoreType": "RAW"}}},
     "Requested score type RAW is not supported by attribute TOXICITY", "INVALID_REQUEST"),
])
def test_perspectives_own_errors(client: FlaskClient, key: str, body: dict[str, Any], message: str, kind: str) -> None:
    error = google_error(analyze(client, key, body), 400, "INVALID_ARGUMENT")
    assert error["message"] == message and error_type(error) == kind
    assert error["details"][0]["@type"] == "type.googleapis.com/google.commentanalyzer.v1alpha1.Error"


def test_text_over_20_kb_of_utf8_is_refused_and_20_kb_is_not(client: FlaskClient, key: str) -> None:
    # Bytes, not characters: 10,241 two-byte letters are 20,482 bytes.
    error = google_error(analyze(client, key, coral("é" * 10241)), 400, "INVALID_ARGUMENT")
    assert error["message"] == "Comment text was too many bytes. Value (20482) exceeded limit (20480)."
    assert error_type(error) == "COMMENT_TOO_LONG"
    assert analyze(client, key, coral("é" * 10240)).status_code == 200
    # Escaped as a Python client sends it (\u00e9 is six bytes), the 20 KB text still fits the body limit.
    escaped = json.dumps(coral("é" * 10240), ensure_ascii=True)
    assert len(escaped) > 60_000
    assert client.post(f"{ANALYZE}?key={key}", data=escaped, content_type="application/json").status_code == 200


@pytest.mark.parametrize(("body", "field"), [
    ({"comment": {"text": 5}, "requestedAttributes": {"TOXICITY": {}}}, "comment.text"),
    ({"comment": "just text", "requestedAttributes": {"TOXICITY": {}}}, "comment"),
    ({"comment": {"text": "hi", "type": "MARKDOWN"}, "requestedAttributes": {"TOXICITY": {}}}, "comment.type"),
    ({"comment": {"text": "hi"}, "requestedAttributes": ["TOXICITY"]}, "requestedAttributes"),
    ({"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {"scoreThreshold": "high"}}},
     "requestedAttributes[TOXICITY].scoreThreshold"),
    ({"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {"scoreType": "LOUD"}}},
     "requestedAttributes[TOXICITY].scoreType"),
    ({"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {}}, "languages": "en"}, "languages"),
    ({"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {}}, "doNotStore": "yes"}, "doNotStore"),
    ({"comment": {"text": "hi \ud800"}, "requestedAttributes": {"TOXICITY": {}}}, "comment.text"),
    ({"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {}}, "context": {"entries": "x"}},
     "context.entries"),
])
def test_fields_of_the_wrong_type_are_named(client: FlaskClient, key: str, body: dict[str, Any], field: str) -> None:
    error = google_error(analyze(client, key, body), 400, "INVALID_ARGUMENT")
    assert error["message"].startswith(f"Invalid value at '{field}'")
    assert error["details"][0]["fieldViolations"][0]["field"] == field


@pytest.mark.parametrize("raw", [b"{", b"[1, 2]", b"null", b'{"comment": NaN}', b"\xff\xfe", b"[" * 100_000])
def test_malformed_json_is_refused_in_googles_words(client: FlaskClient, key: str, raw: bytes) -> None:
    error = google_error(client.post(f"{ANALYZE}?key={key}", data=raw, content_type="application/json"),
                         400, "INVALID_ARGUMENT")
    assert error["message"].startswith("Invalid JSON payload received.")


def test_missing_wrong_and_revoked_keys(app: Flask, client: FlaskClient, key: str) -> None:
    missing = google_error(client.post(ANALYZE, json=coral(INSULT_TEXT)), 403, "PERMISSION_DENIED")
    assert missing["message"].startswith("Method doesn't allow unregistered callers")
    wrong = google_error(analyze(client, "mk_not-a-key", coral(INSULT_TEXT)), 400, "INVALID_ARGUMENT")
    assert wrong["message"] == "API key not valid. Please pass a valid API key."
    assert wrong["details"][0]["reason"] == "API_KEY_INVALID"
    assert wrong["details"][0]["@type"] == "type.googleapis.com/google.rpc.ErrorInfo"
    # The key is checked before the request: a bad key's error comes first, as Google's does.
    for bad in (client.post(f"{ANALYZE}?key=mk_wrong", data=b"{", content_type="application/json"),
                client.post(f"{ANALYZE}?key=mk_wrong", data={"comment": "x"}),
                client.post(f"{SUGGEST}?key=mk_wrong", json={"comment": {"text": ""}})):
        assert google_error(bad, 400, "INVALID_ARGUMENT")["details"][0]["reason"] == "API_KEY_INVALID"
    header = client.post(ANALYZE, json=coral(INSULT_TEXT), headers={"X-Goog-Api-Key": key})
    assert header.status_code == 200
    ApiKeys(app.extensions["moderation"].redis).revoke("coral")
    google_error(analyze(client, key, coral(INSULT_TEXT)), 400, "INVALID_ARGUMENT")


def test_http_errors_on_these_routes_are_in_googles_shape(client: FlaskClient, key: str) -> None:
    google_error(client.post(f"/v1alpha1/comments:classify?key={key}", json={}), 404, "NOT_FOUND")
    wrong_method = client.get(f"{ANALYZE}?key={key}")
    google_error(wrong_method, 405, "NOT_FOUND")
    assert "POST" in wrong_method.headers["Allow"]
    big = json.dumps({**coral("x"), "clientToken": "t" * 300_000})
    google_error(client.post(f"{ANALYZE}?key={key}", data=big, content_type="application/json"),
                 413, "INVALID_ARGUMENT")
    google_error(client.post(f"{ANALYZE}?key={key}", data={"comment": "x"}), 415, "INVALID_ARGUMENT")
    google_error(client.get("/$discovery/rest?version=v2"), 404, "NOT_FOUND")
    # The rest of the service keeps its problem documents.
    assert client.get("/v1/nowhere").mimetype == "application/problem+json"


def test_a_store_outage_is_a_503_in_googles_shape(model: Any) -> None:
    app = create_app({"TESTING": True, "REDIS_URL": "redis://127.0.0.1:1/0", "SECRET_KEY": "k", "MODEL": model,
                      "RATE_LIMITS": "off", "API_KEY_RATE_LIMITS": "off", "REDIS_TIMEOUT_SECONDS": 0.2})
    answer = app.test_client().post(f"{ANALYZE}?key=mk_anything", json=coral(INSULT_TEXT))
    google_error(answer, 503, "UNAVAILABLE")
    assert answer.headers["Retry-After"] == "5"


def close(app: Flask) -> None:
    """Close the app's Redis connections, and the limiter's (Flask-Limiter keeps a client of its own)."""
    app.extensions["moderation"].redis.close()
    storage = getattr(limiter.storage, "storage", None)
    if storage is not None:
        storage.close()


@pytest.fixture
def limited_app(redis: Redis, redis_url: str, model: Any) -> Iterator[Flask]:
    app = create_app({"TESTING": True, "REDIS_URL": redis_url, "SECRET_KEY": "k", "MODEL": model,
                      "RATE_LIMITS": "off", "API_KEY_RATE_LIMITS": "3/minute"})
    yield app
    close(app)


def test_each_key_has_its_own_quota_shared_by_both_methods(limited_app: Flask) -> None:
    client = limited_app.test_client()
    keys = ApiKeys(limited_app.extensions["moderation"].redis)
    first, second = keys.add("site-a"), keys.add("site-b")
    suggestion = {"comment": {"text": CIVIL_TEXT}, "attributeScores": {"TOXICITY": {"summaryScore": {"value": 0}}},
                  "languages": ["en"]}
    statuses = [analyze(client, first, coral(CIVIL_TEXT)).status_code for _ in range(2)]
    statuses.append(client.post(f"{SUGGEST}?key={first}", json=suggestion).status_code)
    refused = analyze(client, first, coral(CIVIL_TEXT))
    assert statuses == [200, 200, 200]
    error = google_error(refused, 429, "RESOURCE_EXHAUSTED")
    assert error["details"][0]["reason"] == "RATE_LIMIT_EXCEEDED" and int(refused.headers["Retry-After"]) > 0
    assert analyze(client, second, coral(CIVIL_TEXT)).status_code == 200
    # The posting limits are off here, and stay off: the per-key limit has its own switch.
    posted = client.post("/v1/comments", json={"article_id": "a1", "name": "Ann", "email": "a@example.com",
                                               "body": CIVIL_TEXT})
    assert posted.status_code == 201 and "X-RateLimit-Limit" not in posted.headers


def test_no_api_key_limit_when_it_is_off(redis: Redis, redis_url: str, model: Any) -> None:
    app = create_app({"TESTING": True, "REDIS_URL": redis_url, "SECRET_KEY": "k", "MODEL": model,
                      "RATE_LIMITS": "1/minute", "API_KEY_RATE_LIMITS": "off"})
    try:
        key = ApiKeys(app.extensions["moderation"].redis).add("bench")
        client = app.test_client()
        assert {analyze(client, key, coral(CIVIL_TEXT)).status_code for _ in range(4)} == {200}
    finally:
        close(app)


# -- what is kept ----------------------------------------------------------------------------------


def all_redis_text(redis: Redis) -> str:
    """Every key name and value in the database, as text (streams, hashes, sets, strings alike)."""
    found: list[str] = []
    for name in redis.scan_iter(count=1000):
        found.append(name)
        kind = redis.type(name)
        if kind == "string":
            found.append(str(redis.get(name)))
        elif kind == "hash":
            found.append(json.dumps(redis.hgetall(name)))
        elif kind == "stream":
            found.append(json.dumps(redis.xrange(name)))
        elif kind == "zset":
            found.append(json.dumps(redis.zrange(name, 0, -1)))
        elif kind in ("set", "list"):
            found.append(json.dumps(sorted(redis.smembers(name)) if kind == "set" else redis.lrange(name, 0, -1)))
    return "\n".join(found)


def test_do_not_store_keeps_nothing_of_the_text_in_redis_or_the_logs(
        client: FlaskClient, key: str, redis: Redis, caplog: pytest.LogCaptureFixture) -> None:
    secret = "Zebulon Quartermaine is an idiot who lives on Marigold Lane."
    with caplog.at_level(logging.DEBUG):
        stored = analyze(client, key, {**coral(secret), "spanAnnotations": True, "sessionId": "s-1"})
        refused = analyze(client, key, {**coral(secret), "requestedAttributes": {"NOPE": {}}})
    assert stored.status_code == 200 and refused.status_code == 400
    assert "Zebulon" not in all_redis_text(redis) and "Marigold" not in all_redis_text(redis)
    logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    assert any(record.name == "moderation.access" for record in caplog.records)  # the access lines were captured
    assert "Zebulon" not in logged and "Marigold" not in logged
    assert key not in logged and key not in all_redis_text(redis)  # nor the key (only its hash is stored)


def test_do_not_store_false_keeps_the_text_and_scores_as_an_example(client: FlaskClient, key: str,
                                                                   redis: Redis) -> None:
    body = {**coral(INSULT_TEXT, do_not_store=False), "communityId": "forum/politics"}
    answer = analyze(client, key, body).get_json()
    [(_, example)] = redis.xrange(Keys().perspective_examples)
    assert example["text"] == INSULT_TEXT and example["community_id"] == "forum/politics"
    assert example["api_key"] == "coral" and example["model_version"]
    assert float(example["abuse"]) == pytest.approx(answer["attributeScores"]["TOXICITY"]["summaryScore"]["value"],
                                                    abs=1e-6)
    # Perspective's default is to store: a request that does not say keeps the example too.
    analyze(client, key, {"comment": {"text": CIVIL_TEXT}, "requestedAttributes": {"TOXICITY": {}}})
    assert redis.xlen(Keys().perspective_examples) == 2


# -- suggestscore ----------------------------------------------------------------------------------


def coral_feedback(text: str, status: str, comment_id: str = "c-1") -> dict[str, Any]:
    """What Coral Talk sends for comments:suggestscore when a moderator approves or rejects a comment."""
    return {
        "comment": {"text": text},
        "context": {"entries": [{"text": json.dumps({"url": "https://news.example/story?commentID=" + comment_id,
                                                     "Coral_comment_id": comment_id})}]},
        "attributeScores": {"TOXICITY": {"summaryScore": {"value": 0 if status == "APPROVED" else 1}}},
        "languages": ["en"],
        "communityId": "Coral:https://news.example",
        "clientToken": f"comment:{comment_id}",
    }


def test_corals_feedback_becomes_decisions_that_training_reads(
        app: Flask, client: FlaskClient, key: str, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    rejected = client.post(f"{SUGGEST}?key={key}", json=coral_feedback(INSULT_TEXT, "REJECTED", "c-1"))
    assert rejected.status_code == 200
    assert rejected.get_json() == {"clientToken": "comment:c-1", "detectedLanguages": ["en"],
                                   "requestedLanguages": ["en"]}
    client.post(f"{SUGGEST}?key={key}", json=coral_feedback(CIVIL_TEXT, "APPROVED", "c-2"))
    store: CommentStore = app.extensions["moderation"].store
    found = {d.text: d for d in imported_decisions(store)}
    assert (found[INSULT_TEXT].abuse, found[INSULT_TEXT].spam, found[INSULT_TEXT].source) == (1, None, "perspective")
    assert (found[CIVIL_TEXT].abuse, found[CIVIL_TEXT].spam) == (0, None)
    assert all(d.trainable for d in all_decisions(store))

    # What `moderation train --decisions` and `moderation learn` adapt the model to.
    examples = {e.text: e for e in training_examples(all_decisions(store))}
    for decision in found.values():
        assert decision.held_out or examples[decision.text].abuse == decision.abuse


@pytest.mark.parametrize(("scores", "labels"), [
    ({"TOXICITY": {"summaryScore": {"value": 0.7, "type": "PROBABILITY"}}}, (None, 1)),
    ({"TOXICITY": {"summaryScore": {"value": 0.49}}, "SPAM": {"summaryScore": {"value": 1}}}, (1, 0)),
    ({"SPAM": {"summaryScore": {"value": 0}}}, (0, None)),
    ({"INSULT": {"summaryScore": {"value": 0.9}}}, (None, 1)),
    ({"TOXICITY": {"spanScores": [{"begin": 0, "end": 3, "score": {"value": 0.2}},
                                  {"begin": 4, "end": 9, "score": {"value": 0.8}}]}}, (None, 1)),
    ({"INSULT": {"summaryScore": {"value": 0.1}}}, None),  # not an insult: says nothing about abuse as a whole
    ({"PROFANITY": {"summaryScore": {"value": 1}}}, None),  # swearing is not abuse by itself
])
def test_suggested_scores_become_labels(app: Flask, client: FlaskClient, key: str, scores: dict[str, Any],
                                        labels: tuple[int | None, int | None] | None) -> None:
    body = {"comment": {"text": CIVIL_TEXT}, "attributeScores": scores, "languages": ["en"]}
    assert client.post(f"{SUGGEST}?key={key}", json=body).status_code == 200
    stored = [(d.spam, d.abuse) for d in imported_decisions(app.extensions["moderation"].store)]
    assert stored == ([] if labels is None else [labels])


@pytest.mark.parametrize(("scores", "starts"), [
    ({}, "attribute_scores must not be empty"),
    ({"TOXICITY": {}}, "attributeScores[TOXICITY] must not be empty"),
    ({"TOXICITY": {"summaryScore": {"value": 1.5}}}, "attributeScores[TOXICITY].summaryScore.value must be"),
    ({"TOXICITY": {"summaryScore": {"type": "PROBABILITY"}}}, "attributeScores[TOXICITY].summaryScore.value must"),
    ({"TOXICITY": {"summaryScore": {"value": 3, "type": "RAW"}}}, "attributeScores[TOXICITY].summaryScore.type"),
    ({"TOXICITY": {"spanScores": [{"begin": 5, "score": {"value": 1}}]}}, "attributeScores[TOXICITY].spanScores[0]"),
    ({"FLIRTATION": {"summaryScore": {"value": 1}}}, "Unknown attribute: FLIRTATION"),
])
def test_bad_suggestions_are_refused_and_store_nothing(app: Flask, client: FlaskClient, key: str,
                                                       scores: dict[str, Any], starts: str) -> None:
    body = {"comment": {"text": CIVIL_TEXT}, "attributeScores": scores, "languages": ["en"]}
    error = google_error(client.post(f"{SUGGEST}?key={key}", json=body), 400, "INVALID_ARGUMENT")
    assert error["message"].startswith(starts)
    assert list(imported_decisions(app.extensions["moderation"].store)) == []


def test_suggestions_need_a_key_and_a_language_the_abuse_head_scores(client: FlaskClient, key: str) -> None:
    google_error(client.post(SUGGEST, json=coral_feedback(CIVIL_TEXT, "APPROVED")), 403, "PERMISSION_DENIED")
    spanish = {**coral_feedback(CIVIL_TEXT, "APPROVED"), "languages": ["es"]}
    google_error(client.post(f"{SUGGEST}?key={key}", json=spanish), 400, "INVALID_ARGUMENT")


# -- discovery -------------------------------------------------------------------------------------


def test_discovery_document_names_this_service_as_root(client: FlaskClient) -> None:
    document = client.get("/$discovery/rest?version=v1alpha1").get_json()
    assert document["rootUrl"] == "http://localhost/" and document["name"] == "commentanalyzer"
    methods = document["resources"]["comments"]["methods"]
    assert {name: m["path"] for name, m in methods.items()} == {
        "analyze": "v1alpha1/comments:analyze", "suggestscore": "v1alpha1/comments:suggestscore"}
    assert set(document["schemas"]) >= {"AnalyzeCommentRequest", "AnalyzeCommentResponse", "TextEntry", "SpanScore"}


def test_discovery_root_url_honours_the_trusted_proxy(redis: Redis, redis_url: str, model: Any) -> None:
    app = create_app({"TESTING": True, "REDIS_URL": redis_url, "SECRET_KEY": "k", "MODEL": model,
                      "RATE_LIMITS": "off", "API_KEY_RATE_LIMITS": "off", "TRUSTED_PROXIES": 1})
    try:
        document = app.test_client().get("/$discovery/rest?version=v1alpha1", headers={
            "X-Forwarded-Proto": "https", "X-Forwarded-Host": "comments.news.example", "X-Forwarded-For": "1.2.3.4",
        }).get_json()
        assert document["rootUrl"] == document["baseUrl"] == "https://comments.news.example/"
    finally:
        app.extensions["moderation"].redis.close()


def test_served_attributes_are_the_measured_ones() -> None:
    assert perspective.SERVED == ATTRIBUTES


# -- the text as sent and as scored ----------------------------------------------------------------


def test_html_is_read_as_text_with_each_character_traced_to_the_markup() -> None:
    sent = "<p>You&nbsp;are <b>an id</b>iot</p><br><script>var x = '<b>';</script>&lt;3 &unknown; <!-- hidden -->ok"
    comment = perspective.plain_text(sent, "HTML")
    assert comment.plain == " You\xa0are an idiot  <3 &unknown; ok"
    start = comment.plain.index("idiot")
    assert comment.to_sent((start, start + 5)) == (sent.index("id</b>"), sent.index("iot</p>") + 3)
    less = comment.plain.index("<")
    assert sent[slice(*comment.to_sent((less, less + 1)))] == "&lt;"
    assert perspective.plain_text(sent, "PLAIN_TEXT").plain == sent
    # Unclosed markup costs one pass, not one per "<": 20 KB of it is read as quickly as text.
    for hostile in ("<a" * 10_000, "<script" * 2_900, "<!--" * 5_000, "<b x='" * 3_000, "&amp;" * 4_000):
        assert len(perspective.plain_text(hostile, "HTML").plain) <= len(hostile)


def test_a_limit_that_does_not_parse_stops_the_app_from_starting(redis_url: str, model: Any) -> None:
    with pytest.raises(RuntimeError, match="MODERATION_API_KEY_RATE_LIMITS='lots'"):
        create_app({"TESTING": True, "REDIS_URL": redis_url, "SECRET_KEY": "k", "MODEL": model,
                    "API_KEY_RATE_LIMITS": "lots"})


def test_control_characters_do_not_stop_language_detection() -> None:
    assert perspective.detect_languages("\x00\x07" + CIVIL_TEXT + "\x85\x7f") == ["en"]
    assert perspective.detect_languages("ok") == []  # too short to tell: no guess
