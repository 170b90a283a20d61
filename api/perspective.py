"""Perspective API's surface: comments:analyze, comments:suggestscore, and the discovery document that Google's
client libraries build from. The protocol itself (checks, answers, errors) is moderation.perspective."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Blueprint, Flask, Response, g, jsonify, request
from flask_limiter.errors import RateLimitExceeded
from werkzeug.exceptions import HTTPException

from api.limits import api_key_identity, api_key_limits, limited, limiter
from api.problems import foreign_errors
from api.services import services
from moderation.api_keys import ApiKey, ApiKeys
from moderation.decisions import store_imported
from moderation.model.attributes import SpanRule, attribute_scores
from moderation.perspective import (
    SERVED,
    PerspectiveError,
    analyze_answer,
    discovery_document,
    error_body,
    parse_analyze,
    parse_body,
    parse_suggest,
    record_example,
    suggest_answer,
    suggestion_decision,
)
from moderation.redis_client import EarlyReads

bp = Blueprint("perspective", __name__)
PREFIXES = ("/v1alpha1/", "/$discovery/")
# The whole request may be far larger than the 20 KB text: clients escape non-ASCII text as \u00e9
# (six bytes for two) or \ud83d\ude00 (twelve for four), and send context besides.
MAX_BODY_BYTES = 256 * 1024
# Google's words for a request with no key, and with a key it does not know.
MISSING_KEY = ("Method doesn't allow unregistered callers (callers without established identity). "
               "Please use API Key or other form of API consumer identity to call this API.")
BAD_KEY = "API key not valid. Please pass a valid API key."
ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
_span_rules: dict[str, SpanRule] = {}


def google_error(status: int, message: str, headers: dict[str, str]) -> Response:
    """Any error on these routes, in Google's shape."""
    response = jsonify(error_body(status, message))
    response.status_code = status
    response.headers.update(headers)
    return response


@bp.errorhandler(PerspectiveError)
def _perspective_error(error: PerspectiveError) -> Response:
    response = jsonify(error.body())
    response.status_code = error.code
    return response


@bp.errorhandler(RateLimitExceeded)
def _over_quota(error: RateLimitExceeded) -> Response:
    limit = str(error.limit.limit)
    response = jsonify(PerspectiveError(429, f"Quota exceeded for this API key: {limit}.", [{
        "@type": ERROR_INFO, "reason": "RATE_LIMIT_EXCEEDED", "domain": "googleapis.com",
        "metadata": {"quota_limit_value": limit, "service": request.host},
    }]).body())
    response.status_code = 429
    return response


@bp.before_request
def _look_up_key() -> None:
    """Every method but the discovery document needs an API key, as `?key=` or the X-Goog-Api-Key header.

    The key's lookup goes to Redis now and its reply is read once the request is parsed and scored
    (`_api_key`), so Redis answers while the model works; a key error still comes before any other.
    """
    if request.path.startswith("/$discovery/"):
        return
    request.max_content_length = MAX_BODY_BYTES
    key = request.args.get("key") or request.environ.get("HTTP_X_GOOG_API_KEY", "")
    if not key:
        raise PerspectiveError(403, MISSING_KEY)
    reads = EarlyReads(services().redis)
    services().api_keys.queue_lookup(reads, key)
    reads.send()
    g.key_lookup = reads


@bp.teardown_request
def _close_lookup(_: BaseException | None) -> None:
    reads = g.pop("key_lookup", None)
    if reads is not None:
        reads.close()  # a request refused before its key was read (a 429): the reply is never needed


def _api_key() -> ApiKey:
    """The caller's key, from the lookup sent before the request was parsed; 400 API_KEY_INVALID if unknown."""
    found: ApiKey | None = g.get("api_key")
    if found is None:
        reads: EarlyReads = g.pop("key_lookup")
        try:
            found = ApiKeys.from_reply(reads.replies()[0])
        finally:
            reads.close()
        if found is None:
            raise PerspectiveError(400, BAD_KEY, [{"@type": ERROR_INFO, "reason": "API_KEY_INVALID",
                                                   "domain": "googleapis.com", "metadata": {"service": request.host}}])
        g.api_key = found
    return found


@contextmanager
def _key_first() -> Iterator[None]:
    """Answer a bad key's error rather than any error about the request itself, as Google checks the key first."""
    try:
        yield
    except (PerspectiveError, HTTPException):
        _api_key()
        raise


def _body() -> dict[str, Any]:
    mimetype = request.mimetype
    # No type, or text/plain (sent to skip a browser's preflight), is read as JSON too.
    if mimetype and mimetype not in ("application/json", "text/plain") and not mimetype.endswith("+json"):
        raise PerspectiveError(415, f"Send the request body as application/json, not {mimetype}.")
    return parse_body(request.get_data(cache=False))


def _span_rule(model: Any) -> SpanRule:
    """The span rule the model card measured for this model (read once per model version)."""
    version = str(getattr(model, "version", ""))
    rule = _span_rules.get(version)
    if rule is None:
        rule = _span_rules[version] = SpanRule.of(getattr(model, "metadata", None) or {})
    return rule


@bp.post("/v1alpha1/comments:analyze")
@limited(limiter.shared_limit(api_key_limits, scope="api-key", key_func=api_key_identity),
         setting="API_KEY_RATE_LIMITS")
def analyze() -> Response:
    with _key_first():
        checked = parse_analyze(_body(), SERVED)
    scores = {}
    language = checked.languages.scoring
    # No attribute left (dropUnsupportedAttributes dropped them all) or no language: nothing to score.
    if checked.attributes and language is not None:
        model = services().models.current().live
        text = checked.comment.plain
        scored = model.score(text, language=language)
        rule = _span_rule(model) if checked.span_annotations else None
        scores = attribute_scores(text, scored, [wanted.name for wanted in checked.attributes], rule)
        key = _api_key()
        if not checked.do_not_store:
            record_example(services().redis, services().store.keys, checked, scored.spam, scored.abuse,
                           model.version, key.name)
    _api_key()
    return jsonify(analyze_answer(checked, scores))


@bp.post("/v1alpha1/comments:suggestscore")
@limited(limiter.shared_limit(api_key_limits, scope="api-key", key_func=api_key_identity),
         setting="API_KEY_RATE_LIMITS")
def suggestscore() -> Response:
    with _key_first():
        checked = parse_suggest(_body(), SERVED)
    _api_key()
    decision = suggestion_decision(checked)
    if decision is not None:
        store_imported(services().store, [decision])
    return jsonify(suggest_answer(checked))


@bp.get("/$discovery/rest")
def discovery() -> Response:
    """The discovery document, with this service (as the client reached it) as rootUrl."""
    version = request.args.get("version") or "v1alpha1"
    if version != "v1alpha1":
        raise PerspectiveError(404, f"Discovery document not found for API service: commentanalyzer, "
                                    f"format: rest, version: {version}")
    return jsonify(discovery_document(request.host_url))


def init_app(app: Flask) -> None:
    """Register the routes, and Google's error shape for every error under them (404 and 405 too)."""
    foreign_errors(app, PREFIXES, google_error)
    app.register_blueprint(bp)


# -- the OpenAPI description (api/openapi.py) -------------------------------------------------------

_PREFIX = "Perspective"


def _openapi_schema(schema: Any) -> Any:
    """A discovery-document schema as JSON Schema: its $refs pointed at components, Google's own keywords dropped."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            return {"$ref": f"#/components/schemas/{_PREFIX}{schema['$ref']}"}
        return {key: _openapi_schema(value) for key, value in schema.items()
                if key not in ("id", "enumDescriptions", "location")}
    if isinstance(schema, list):
        return [_openapi_schema(item) for item in schema]
    return schema


def openapi_schemas() -> dict[str, Any]:
    """The discovery document's schemas, for /openapi.json, with what the service requires made explicit."""
    schemas = {f"{_PREFIX}{name}": _openapi_schema(schema)
               for name, schema in discovery_document("/")["schemas"].items()}
    served = {"propertyNames": {"enum": list(SERVED)}, "minProperties": 1}
    # Any language tag is well formed; which attribute is backed in which language is the 400 the errors name.
    tag = {"type": "string", "pattern": "^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$"}
    analyze = schemas[f"{_PREFIX}AnalyzeCommentRequest"]
    analyze["required"] = ["comment", "requestedAttributes"]
    analyze["properties"]["requestedAttributes"].update(served)
    analyze["properties"]["languages"]["items"] = tag
    suggest = schemas[f"{_PREFIX}SuggestCommentScoreRequest"]
    suggest["required"] = ["comment", "attributeScores"]
    suggest["properties"]["attributeScores"].update(served)
    suggest["properties"]["languages"]["items"] = tag
    schemas[f"{_PREFIX}TextEntry"]["required"] = ["text"]
    schemas[f"{_PREFIX}TextEntry"]["properties"]["text"]["minLength"] = 1
    # Only probabilities are served or taken; a Context holds entries or an article and parent, not both.
    probability = ["SCORE_TYPE_UNSPECIFIED", "PROBABILITY"]
    schemas[f"{_PREFIX}AttributeParameters"]["properties"]["scoreType"]["enum"] = probability
    score = schemas[f"{_PREFIX}Score"]
    score["properties"]["type"]["enum"] = probability
    score["properties"]["value"].update(minimum=0, maximum=1)
    score["required"] = ["value"]
    span = schemas[f"{_PREFIX}SpanScore"]
    span["required"] = ["begin", "end", "score"]
    for name in ("begin", "end"):
        span["properties"][name].update(minimum=0, maximum=2**31 - 1)
    schemas[f"{_PREFIX}AttributeScores"]["anyOf"] = [
        {"required": ["summaryScore"]}, {"required": ["spanScores"], "properties": {"spanScores": {"minItems": 1}}}]
    schemas[f"{_PREFIX}Context"]["maxProperties"] = 1
    schemas[f"{_PREFIX}Error"] = {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["code", "message", "status"], "properties": {
            "code": {"type": "integer"}, "message": {"type": "string"}, "status": {"type": "string"},
            "details": {"type": "array", "items": {"type": "object"}}}}}}
    return schemas


def openapi_paths() -> dict[str, Any]:
    """The Perspective routes for /openapi.json: Perspective's answers, and Google's error shape for every error."""

    def ref(name: str) -> dict[str, Any]:
        return {"$ref": f"#/components/schemas/{_PREFIX}{name}"}

    def answer(name: str, description: str = "OK") -> dict[str, Any]:
        return {"description": description, "content": {"application/json": {"schema": ref(name)}}}

    errors = {
        "400": answer("Error", "INVALID_ARGUMENT: a malformed request, an unknown attribute, an attribute with "
                               "no backing in the comment's language (LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE), a "
                               "language that cannot be detected, a text over 20 KB, or a wrong key (reason "
                               "API_KEY_INVALID)"),
        "403": answer("Error", "PERMISSION_DENIED: no API key"),
        "413": answer("Error", "The body is over 256 KB"),
        "415": answer("Error", "The body is not JSON"),
        "429": answer("Error", "RESOURCE_EXHAUSTED: over the key's API_KEY_RATE_LIMITS"),
        "503": answer("Error", "UNAVAILABLE: the store is unavailable"),
    }
    key = {"name": "key", "in": "query", "required": False, "schema": {"type": "string"},
           "description": "An API key from `moderation api-keys add NAME` (or the X-Goog-Api-Key header)."}

    def method(summary: str, request: str, response: str) -> dict[str, Any]:
        return {"summary": summary, "parameters": [key], "security": [{"apiKey": []}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": ref(request)}}},
                "responses": {"200": answer(response), **errors}}

    return {
        "/v1alpha1/comments:analyze": {"post": method(
            "Perspective's AnalyzeComment: attribute scores (and spans) for a comment", "AnalyzeCommentRequest",
            "AnalyzeCommentResponse")},
        "/v1alpha1/comments:suggestscore": {"post": method(
            "Perspective's SuggestCommentScore: a suggested score, kept as a labelled example to learn from",
            "SuggestCommentScoreRequest", "SuggestCommentScoreResponse")},
        "/$discovery/rest": {"get": {
            "summary": "The discovery document for Google's client libraries (commentanalyzer v1alpha1)",
            "parameters": [{"name": "version", "in": "query", "required": False,
                            "schema": {"type": "string", "enum": ["v1alpha1"]}}],
            "responses": {"200": {"description": "Google's discovery format", "content": {
                "application/json": {"schema": {"type": "object"}}}},
                "404": answer("Error", "NOT_FOUND: another version")},
        }},
    }
