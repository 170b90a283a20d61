"""The OpenAPI 3.1 description, built from the pydantic schemas that validate requests."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from api import perspective
from moderation import schemas as s
from moderation.akismet import AkismetFields, VerifyKeyFields
from moderation.coral import CoralPhaseRequest, CoralPhaseResponse
from moderation.policy import Policy

_REF = "#/components/schemas/{model}"


def _collect(models: list[type[BaseModel]]) -> dict[str, Any]:
    components: dict[str, Any] = {}
    for model in models:
        schema = model.model_json_schema(ref_template=_REF)
        components.update(schema.pop("$defs", {}))
        components[model.__name__] = schema
    return components


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": _REF.format(model=model.__name__)}


def _json(model: type[BaseModel], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(model)}}}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {"schema": _ref(s.Problem)}}}


_ERRORS = {
    "400": _problem("Malformed request"),
    "422": _problem("Invalid fields, one entry per field in `errors`"),
    "503": _problem("The comment store is unavailable; retry after `Retry-After` seconds"),
}
_AUTH = {"401": _problem("No valid moderator token"), "403": _problem("The role may not do this")}
_SECURED: list[dict[str, list[str]]] = [{"bearer": []}]


def _op(summary: str, responses: dict[str, Any], *, body: type[BaseModel] | None = None,
        form: bool = False, secured: bool = False, params: list[dict[str, Any]] | None = None,
        extra_errors: dict[str, Any] | None = None) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": {**responses, **_ERRORS, **(extra_errors or {})}}
    if body is not None:
        content: dict[str, Any] = {"application/json": {"schema": _ref(body)}}
        if form:
            content["application/x-www-form-urlencoded"] = {"schema": _ref(body)}
        op["requestBody"] = {"required": True, "content": content}
    if secured:
        op["security"] = _SECURED
        op["responses"].update(_AUTH)
    if params:
        op["parameters"] = params
    return op


def _path(name: str, pattern: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if pattern:
        schema["pattern"] = pattern
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _query(name: str, schema: dict[str, Any], description: str | None = None) -> dict[str, Any]:
    param = {"name": name, "in": "query", "required": False, "schema": schema}
    if description:
        param["description"] = description
    return param


def _akismet(summary: str, answers: list[str], body: type[BaseModel] = AkismetFields) -> dict[str, Any]:
    """An Akismet method: a form in, 200 with a short text/plain answer out, whatever went wrong."""
    text = {"text/plain": {"schema": {"type": "string", "examples": answers}}}
    header = {"schema": {"type": "string"}}
    return {
        "summary": summary,
        "description": "Akismet's protocol (akismet.com/developers). A refused request also answers 200: `invalid` "
                       "for a missing or unknown key or an unparseable blog, `Missing required field: blog.` or "
                       "`user_ip.` for those, with the reason in `X-akismet-debug-help`.",
        "requestBody": {"required": True, "content": {
            "application/x-www-form-urlencoded": {"schema": _ref(body)},
            "multipart/form-data": {"schema": _ref(body)},
        }},
        "responses": {
            "200": {"description": "Akismet's answer", "content": text, "headers": {
                "X-akismet-debug-help": {**header, "description": "Why the request was refused"},
                "X-akismet-pro-tip": {**header, "description": "`discard` for spam the policy would reject"},
                "X-akismet-guid": {**header, "description": "An id for this check (comment-check)"},
            }},
            "400": _problem("More form fields than any client sends"),
            "413": _problem("Body too large"),
            "415": _problem("Not a form"),
            "429": {"description": "This key is over `MODERATION_API_KEY_RATE_LIMITS`", "content": {
                "text/plain": {"schema": {"type": "string"}}}, "headers": {"Retry-After": header}},
            "503": _problem("The comment store is unavailable; retry after `Retry-After` seconds"),
        },
    }


def _coral() -> dict[str, Any]:
    return {
        "summary": "Coral's external moderation phase: hold, reject or leave a Coral comment",
        "description": "Coral posts each new or edited comment, signed with the phase's secret. 204: nothing to do "
                       "(clean, empty, or a staff role); 200: Coral's `status` (`SYSTEM_WITHHELD` or `REJECTED`) "
                       "and FLAG `actions`, with our scores and reasons in `metadata`. Nothing is stored.",
        "parameters": [{"name": "X-Coral-Signature", "in": "header", "required": True, "schema": {"type": "string"},
                        "description": "`sha256=<hex HMAC-SHA256(secret, raw body)>`, comma-separated, one per "
                                       "secret Coral signs with; one must match MODERATION_CORAL_SIGNING_SECRETS"}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": _ref(CoralPhaseRequest)}}},
        "responses": {
            "200": _json(CoralPhaseResponse, "Hold or reject, in Coral's terms"),
            "204": {"description": "Nothing to do"},
            "400": _problem("Not JSON, or not a request as Coral sends them; see `errors`"),
            "401": _problem("X-Coral-Signature missing or matching no configured secret; nothing was scored"),
            "413": _problem("Body too large"),
            "415": _problem("Not application/json"),
            "503": _problem("MODERATION_CORAL_SIGNING_SECRETS is unset, or the comment store is unavailable"),
        },
    }


SITE_KEY = {"name": "X-Api-Key", "in": "header", "required": False, "schema": {"type": "string"}, "description": (
    "A key from `moderation api-keys`: a site's server (the WordPress plugin). On POST /v1/comments it allows the "
    "fields `ip`, `user_agent` and `referer` (the reader's) and `language` (the page's, an ISO 639-1 code or BCP 47 "
    "tag: the language of a comment too short to tell, unless its article has one set), each refused with 422 "
    "without a key, and answers the true status with `reasons`, `scores` and the comment's `language`; on a "
    "decision it stands for a moderator's token, with X-Acting-User")}
ACTING_USER = {"name": "X-Acting-User", "in": "header", "required": False, "schema": {"type": "string"},
               "description": "With X-Api-Key: the site's user who decided (recorded as `wordpress:<login>@<key>`)"}


def sites_paths() -> dict[str, Any]:
    """A site's privacy requests by email (its key, or an admin's token)."""
    email_body = {"required": True, "content": {"application/json": {"schema": _ref(s.AuthorEmailIn)}}}
    auth = {"401": _problem("No valid key or token"), "403": _problem("A token without the admin role")}
    return {
        "/v1/authors/exports": {"post": {
            "summary": "An author's comments with their personal data, by email (100 a page)",
            "parameters": [SITE_KEY, {"name": "cursor", "in": "query", "required": False,
                                      "schema": {"type": "string", "pattern": s.COMMENT_ID_PATTERN}}],
            "requestBody": email_body,
            "responses": {"200": _json(s.AuthorExport), **_ERRORS, **auth},
        }},
        "/v1/authors/erasures": {"post": {
            "summary": "Erase an author's name, email and network data everywhere, by email, keeping decisions",
            "parameters": [SITE_KEY], "requestBody": email_body,
            "responses": {"200": _json(s.ErasureResult), **_ERRORS, **auth},
        }},
    }


def build() -> dict[str, Any]:
    """The whole description, as served at /openapi.json."""
    comment_id = _path("comment_id", s.COMMENT_ID_PATTERN)
    article_id = {**_path("article_id", s.ARTICLE_ID_PATTERN), "description": (
        "The thread's id: a slug, a page path or a full URL, up to 2,048 characters. Percent-encode it as one "
        "segment (encodeURIComponent), or leave its slashes as they are and encode the rest."
    )}
    cursor = _query("cursor", {"type": "string", "pattern": s.COMMENT_ID_PATTERN})
    limit = _query("limit", {"type": "integer", "minimum": 1, "maximum": 200})
    not_found = {"404": _problem("No such comment")}
    paths: dict[str, Any] = {
        "/v1/comments": {"post": _op(
            "Post a reader's comment (JSON, or a form post answered with 303 when it asks for HTML)",
            {"201": _json(s.CommentReceipt, "Accepted"), "303": {"description": "Back to `return_to`"}},
            body=s.CommentIn, form=True,
            params=[{"name": "Idempotency-Key", "in": "header", "required": False,
                     "schema": {"type": "string", "minLength": 1, "maxLength": 200}}, SITE_KEY],
            extra_errors={"401": _problem("X-Api-Key is not a live key"),
                          "403": {"description": "The article is closed, or (type `author-suspended`) the author is "
                                                 "banned or suspended: nothing was stored", "content": {
                                                     "application/problem+json": {"schema": _ref(s.AuthorRefusal)}}},
                          "409": _problem("Key reused"),
                          "413": _problem("Body too large"), "415": _problem("Wrong content type"),
                          "429": _problem("Over `MODERATION_RATE_LIMITS` for this IP address or email (every post "
                                          "counts, invalid ones too); retry after `Retry-After` seconds. Every "
                                          "answer carries `X-RateLimit-Limit`, `-Remaining` and `-Reset` for "
                                          "the limit nearest to refusing the poster")},
        )},
        **sites_paths(),
        "/v1/articles/{article_id}/comments": {"get": _op(
            "An article's published comments, oldest first", {"200": _json(s.CommentPage)},
            params=[article_id, cursor, limit], extra_errors={"404": _problem("No such article")},
        )},
        "/v1/comments/{comment_id}": {"get": _op(
            "One published comment (any comment, in full, for a moderator)",
            {"200": _json(s.PublicComment)}, params=[comment_id], extra_errors=not_found,
        )},
        "/v1/comments/{comment_id}/reports": {"post": _op(
            "Report a published comment", {"201": _json(s.ReportReceipt)}, body=s.ReportIn, form=True,
            params=[comment_id], extra_errors={**not_found, "415": _problem("Wrong content type")},
        )},
        "/v1/review/queue": {"get": _op(
            "A review queue, oldest first or nearest the hold thresholds first", {"200": _json(s.QueuePage)},
            secured=True,
            params=[_query("queue", {"type": "string", "enum": ["pending", "reported", "rejected", "approved"]}),
                    _query("article_id", {"type": "string", "pattern": s.ARTICLE_ID_PATTERN,
                                           "maxLength": s.ARTICLE_ID_MAX}),
                    _query("reason", {"type": "string"}),
                    _query("language", {"type": "string", "pattern": "^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$"},
                           "Only comments in this language (ISO 639-1, as `de`; `und`: undetermined). A comment "
                           "stored before languages were detected is `en`"),
                    _query("sort", {"type": "string", "enum": ["arrival", "uncertain"], "default": "arrival"},
                           "`arrival`: oldest first. `uncertain` (pending and reported queues): the comments whose "
                           "nearer score (spam or abuse) lies closest to the policy's hold threshold for it "
                           "first, ties oldest first; a moderator's decision on those teaches a young model "
                           "most. The order follows policy changes at once."),
                    _query("cursor", {"type": "string", "anyOf": [{"pattern": s.COMMENT_ID_PATTERN},
                                                                  {"pattern": s.UNCERTAIN_CURSOR_PATTERN}]},
                           "`next_cursor` of the previous page, read with the same `sort`"),
                    limit],
        )},
        "/v1/review/claim": {"post": _op(
            "Lease unclaimed items to the caller, oldest first or (`sort: uncertain`) nearest the hold "
            "thresholds first", {"200": _json(s.ClaimResult)}, body=s.ClaimIn, secured=True,
        )},
        "/v1/review/{comment_id}/decision": {"post": _op(
            "Approve or reject one comment", {"200": _json(s.DecisionResult)}, body=s.DecisionIn,
            secured=True, params=[comment_id, SITE_KEY, ACTING_USER],
            extra_errors={**not_found, "409": _problem("Another decision came first; `current` is the state")},
        )},
        "/v1/review/decisions": {"post": _op(
            "Approve or reject many comments, with a result each", {"200": _json(s.BulkDecisionResults)},
            body=s.BulkDecisionIn, secured=True,
        )},
        "/v1/review/comments/{comment_id}/history": {"get": _op(
            "A comment's audit trail", {"200": _json(s.CommentHistory)}, secured=True, params=[comment_id],
            extra_errors=not_found,
        )},
        "/v1/comments/{comment_id}/notices": {"post": _op(
            "Notify illegal content (DSA Art. 16); a trusted flagger (Art. 22) sends its key as X-Api-Key",
            {"201": _json(s.NoticeReceipt, "Acknowledged")}, body=s.NoticeIn, params=[comment_id],
            extra_errors={"401": _problem("An X-Api-Key that is not valid"),
                          "404": _problem("No published comment with this id"),
                          "429": _problem("Over `MODERATION_REPORT_RATE_LIMITS`")},
        )},
        "/v1/comments/{comment_id}/status": {"get": _op(
            "The author's view of their comment and its statement of reasons (DSA Art. 17)",
            {"200": _json(s.CommentStatus)}, params=[comment_id, {**_query("token", {"type": "string"}),
                                                                  "required": True}],
            extra_errors={"403": _problem("The token does not match"), "404": _problem("No such comment")},
        )},
        "/v1/comments/{comment_id}/appeals": {"post": _op(
            "Appeal a decision (DSA Art. 20): the author with the status token, a notifier with the notice token",
            {"201": _json(s.AppealReceipt, "Filed")}, body=s.AppealIn,
            params=[comment_id, {**_query("token", {"type": "string"}), "required": True}],
            extra_errors={"403": _problem("The token matches neither the author nor a notice on this comment"),
                          "404": _problem("No such comment"),
                          "409": _problem("Nothing decided to appeal, appealed already, or past six months"),
                          "429": _problem("Over `MODERATION_REPORT_RATE_LIMITS`")},
        )},
        "/v1/review/notices/{notice_id}/decision": {"post": _op(
            "Decide a notice: legality, ground, explanation, remove or keep", {"200": _json(s.NoticeView)},
            body=s.NoticeDecisionIn, secured=True, params=[_path("notice_id")],
            extra_errors={"404": _problem("No such notice"), "409": _problem("Decided already; `current` says how")},
        )},
        "/v1/review/appeals/{appeal_id}/decision": {"post": _op(
            "Decide an appeal (not by the moderator who made the decision); reversed undoes it",
            {"200": _json(s.AppealView)}, body=s.AppealDecisionIn, secured=True, params=[_path("appeal_id")],
            extra_errors={"404": _problem("No such appeal"), "409": _problem("Decided already")},
        )},
        "/v1/review/transparency": {"get": {**_op(
            "Counts for the transparency report (DSA Art. 15, 24), JSON or CSV (format=csv)",
            {"200": {"description": "The counts", "content": {
                "application/json": {"schema": _ref(s.TransparencyReport)},
                "text/csv": {"schema": {"type": "string"}}}}},
            secured=True, params=[_query("from", {"type": "string", "format": "date"}),
                                  _query("to", {"type": "string", "format": "date"}),
                                  _query("format", {"enum": ["json", "csv"]})],
        )}},
        "/v1/review/authors": {"get": _op(
            "The authors a moderator set in one standing", {"200": _json(s.AuthorsPage)}, secured=True,
            params=[{**_query("standing", {"enum": ["trusted", "premoderated", "suspended", "banned"]}),
                     "required": True}, _query("cursor", {"type": "string"}), limit],
        )},
        "/v1/review/authors/{author_key}": {"get": _op(
            "An author's comments and decisions, standing, record and notes", {"200": _json(s.AuthorView)},
            secured=True, params=[_path("author_key"), cursor, limit],
            extra_errors={"404": _problem("No such author")},
        )},
        "/v1/review/authors/{author_key}/standing": {"put": _op(
            "Set an author's standing (ban and trust: admins), optionally rejecting their pending comments at once",
            {"200": _json(s.StandingResult)}, body=s.StandingIn, secured=True, params=[_path("author_key")],
            extra_errors={"404": _problem("No such author"),
                          "409": _problem("Another change came first; `current` is the standing now")},
        )},
        "/v1/review/authors/{author_key}/notes": {"post": _op(
            "A moderator's note on an author", {"201": _json(s.NoteView)}, body=s.NoteIn, secured=True,
            params=[_path("author_key")], extra_errors={"404": _problem("No such author"),
                                                        "409": _problem("The author has as many notes as allowed")},
        )},
        "/v1/review/authors/{author_key}/notes/{note_id}": {"delete": _op(
            "Delete a note", {"204": {"description": "Deleted"}}, secured=True,
            params=[_path("author_key"), _path("note_id")], extra_errors={"404": _problem("No such note")},
        )},
        "/v1/review/stats": {"get": _op(
            "Queue depths, decision counts, and comments by language", {"200": _json(s.Stats)}, secured=True,
        )},
        "/v1/policy": {
            "get": _op("The policy and article modes", {"200": _json(s.PolicyView)}, secured=True),
            "patch": _op("Change some policy settings; the others stay", {"200": _json(s.PolicyView)},
                         body=Policy, secured=True),
        },
        "/v1/articles/{article_id}/mode": {"put": _op(
            "Set an article's mode: open, premoderated or closed", {"200": _json(s.ArticleModeView)},
            body=s.ArticleModeIn, secured=True, params=[article_id],
            extra_errors={"404": _problem("Not an article id")},
        )},
        "/v1/articles/{article_id}/language": {"put": _op(
            "Set the language an article's comments are taken to be in when too short to tell (null: the "
            "site's); it is also the language detector's hint", {"200": _json(s.ArticleLanguageView)},
            body=s.ArticleLanguageIn, secured=True, params=[article_id],
            extra_errors={"404": _problem("Not an article id")},
        )},
        "/v1/authors/{author_key}": {"delete": _op(
            "Erase an author's name and email everywhere, keeping decisions", {"200": _json(s.ErasureResult)},
            secured=True, params=[_path("author_key")], extra_errors={"404": _problem("No such author")},
        )},
        "/v1/webhooks/deliveries": {"get": _op(
            "The webhook delivery log, newest first", {"200": {"description": "OK", "content": {
                "application/json": {"schema": {"type": "object", "properties": {
                    "deliveries": {"type": "array", "items": {"type": "object"}}}}}}}},
            secured=True, params=[_query("limit", {"type": "integer", "minimum": 1, "maximum": 1000})],
        )},
        "/embed.js": {"get": {"summary": "The comment widget for a page of another origin: "
                              "<div id=\"comments\" data-article-id=\"...\"></div> and this script, async",
                              "responses": {"200": {"description": "The script", "content": {
                                  "text/javascript": {"schema": {"type": "string"}}}},
                                            "304": {"description": "Not modified since the ETag sent"}}}},
        **perspective.openapi_paths(),
        "/v1/coral/moderation-phase": {"post": _coral()},
        "/1.1/comment-check": {"post": _akismet(
            "Akismet: is this comment spam? (nothing is stored)", ["true", "false", "invalid"])},
        "/1.1/submit-spam": {"post": _akismet(
            "Akismet: this comment is spam (a decision for learning)", ["Thanks for making the web a better place."])},
        "/1.1/submit-ham": {"post": _akismet(
            "Akismet: this comment is not spam (a decision for learning)",
            ["Thanks for making the web a better place."])},
        "/1.1/verify-key": {"post": _akismet("Akismet: is this key valid?", ["valid", "invalid"], VerifyKeyFields)},
        "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {"200": {
            "description": "Prometheus text format", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
        "/openapi.json": {"get": {"summary": "This description", "responses": {"200": {"description": "OK"}}}},
        "/healthz": {"get": {"summary": "The process is up", "responses": {"200": {"description": "OK"}}}},
        "/readyz": {"get": {"summary": "Redis answers and the model is loaded",
                            "responses": {"200": {"description": "Ready"}, "503": _problem("Not ready")}}},
    }
    models: list[type[BaseModel]] = [
        s.CommentIn, s.CommentReceipt, s.CommentPage, s.PublicComment, s.ReportIn, s.ReportReceipt,
        s.QueuePage, s.ClaimIn, s.ClaimResult, s.DecisionIn, s.DecisionResult, s.BulkDecisionIn,
        s.BulkDecisionResults, s.CommentHistory, s.AuthorView, s.Stats, s.Problem, Policy, s.PolicyView,
        s.ArticleModeIn, s.ArticleModeView, s.ArticleLanguageIn, s.ArticleLanguageView,
        s.ErasureResult, CoralPhaseRequest, CoralPhaseResponse, AkismetFields,
        VerifyKeyFields, s.AuthorRefusal, s.NoticeIn, s.NoticeReceipt, s.NoticeView, s.NoticeDecisionIn, s.AppealIn,
        s.AppealReceipt, s.AppealView, s.AppealDecisionIn, s.CommentStatus, s.TransparencyReport, s.AuthorsPage,
        s.StandingIn, s.StandingResult, s.NoteIn, s.NoteView, s.AuthorEmailIn, s.AuthorExport,
    ]
    return {
        "openapi": "3.1.0",
        "info": {"title": "Newsroom comment moderation", "version": "1"},
        "paths": paths,
        "components": {
            "schemas": {**_collect(models), **perspective.openapi_schemas()},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"},
                                "apiKey": {"type": "apiKey", "in": "query", "name": "key"}},
        },
    }
