"""What the site's pages call: post a comment, list an article's comments, report one."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, Response, current_app, jsonify, redirect, request

from api import metrics
from api.auth import bearer_moderator
from api.inputs import is_form, parse, query_int, raw_input
from api.limits import client_ip, limited, limiter, posting_headers, reporting_limits
from api.problems import ProblemError, invalid
from api.services import services
from api.sites import keyed_receipt, site_fields, site_key, take_language, take_origin
from api.views import public_comment, review_items
from moderation.authors.standing import Standing
from moderation.comments import Origin
from moderation.dsa.statement import standing_statement, status_token
from moderation.intake import ArticleClosed, AuthorRefused
from moderation.rate_limits import LimitState, RateLimited, email_identity, ip_identity
from moderation.schemas import CommentIn, FieldError, ReportIn, article_id_or_none, is_comment_id
from moderation.store import IdempotencyMismatch, NotFound, ParentNotFound

bp = Blueprint("public", __name__, url_prefix="/v1")

MAX_IDEMPOTENCY_KEY = 200


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""


def _return_to(data: dict[str, Any]) -> str | None:
    """The page to send an HTML form post back to; 422 unless it is on an allowed origin."""
    target = str(data.get("return_to") or request.referrer or "")
    allowed = {origin.lower().rstrip("/") for origin in current_app.config["ALLOWED_ORIGINS"]}
    allowed.add(_origin_of(request.host_url))  # back to the service's own pages (the demo) is safe too
    if target and _origin_of(target) in allowed and urlsplit(target).scheme in ("http", "https"):
        return target
    raise invalid([FieldError(
        field="return_to", pointer="#/return_to",
        detail="must be a URL on one of the site's allowed origins",
    )])


def _wants_html() -> bool:
    return request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"


def _with_receipt(url: str, comment_id: str, status: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("comment_id", "comment_status")]
    query += [("comment_id", comment_id), ("comment_status", status)]
    return urlunsplit(parts._replace(query=urlencode(query), fragment=parts.fragment or "comments"))


# A WordPress (or Newspaper theme) comment form posts `author`, `email`, `url` and `comment`; the
# widget's textarea is `comment` too, named for readers. A field sent under its own name wins.
FORM_ALIASES = {"comment": "body", "author": "name", "url": "website"}


def _form_aliases(data: dict[str, Any]) -> dict[str, str]:
    """Move aliased form fields to their names in `data`; returns {name: alias} for those moved."""
    moved = {}
    for alias, name in FORM_ALIASES.items():
        if name not in data and alias in data:
            data[name] = data.pop(alias)
            moved[name] = alias
    return moved


def _named_as_sent(error: ProblemError, aliases: dict[str, str]) -> ProblemError:
    """The 422 with each field named as the form sent it (`url`, not `website`)."""
    if aliases and error.errors:
        error.errors = [
            entry.model_copy(update={"field": aliases[entry.field], "pointer": f"#/{aliases[entry.field]}"})
            if entry.field in aliases else entry
            for entry in error.errors
        ]
    return error


def _refusal(standing: Standing) -> ProblemError:
    """403 for a banned or suspended author: the site's message and the end date, nothing else of theirs."""
    if standing.state == "suspended":
        detail = f"You cannot comment here until {standing.until}."
    else:
        detail = "You can no longer comment here."
    return ProblemError(403, "Forbidden", detail, extra={
        "type": "author-suspended", "state": standing.state, "until": standing.until, "message": standing.message,
        "statement": standing_statement(standing, services().policies.current(1.0)),
    })


def _with_refusal(url: str, standing: Standing) -> str:
    """The page a refused form post returns to, with what the widget (or the page) shows the author."""
    parts = urlsplit(url)
    drop = ("comment_id", "comment_status", "refused_until", "refused_message")
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in drop]
    query += [("comment_status", "refused"), ("refused_until", standing.until or ""),
              ("refused_message", standing.message or "")]
    return urlunsplit(parts._replace(query=urlencode(query), fragment=parts.fragment or "comments"))


def _too_many(state: LimitState) -> ProblemError:
    return ProblemError(429, "Too Many Requests", state.limit, headers=posting_headers(state))


@bp.post("/comments")
def post_comment() -> Any:
    data = raw_input(allow_form=True)
    form_post = is_form()
    aliases = _form_aliases(data) if form_post else {}
    # Only a keyed request (a site's server) costs the key's lookup; a reader's post goes on as it was.
    site = site_key()
    reader_origin = take_origin(data, site)
    page_language = take_language(data, site)
    # The posting limits count every post, per IP address and per email (intake counts a valid one
    # in its own round trip; an invalid one is counted here, so a flood of them is refused too).
    ip = ip_identity(request.remote_addr or "")
    try:
        return_to = _return_to(data) if form_post and _wants_html() else None
        comment = parse(CommentIn, data, strict=not form_post)
    except ProblemError as error:
        state = services().intake.count_post((ip, email_identity(str(data.get("email") or ""))))
        if state is not None and state.refused:
            raise _too_many(state) from None
        raise _named_as_sent(error, aliases) from None

    # Headers straight from the environ: werkzeug's Headers.get raises and catches a KeyError for
    # every header that is absent, as Idempotency-Key usually is.
    environ = request.environ
    key = environ.get("HTTP_IDEMPOTENCY_KEY")
    if key is not None and not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY:
        raise ProblemError(400, "Bad Request", f"Idempotency-Key must be 1-{MAX_IDEMPOTENCY_KEY} characters.")
    origin = reader_origin or Origin(
        ip=request.remote_addr or "",
        user_agent=environ.get("HTTP_USER_AGENT", "")[:500],
        referer=environ.get("HTTP_REFERER", "")[:1000],
    )
    if reader_origin is not None and reader_origin.ip:
        ip = ip_identity(reader_origin.ip)  # the site's server posts for many readers: limit each reader
    try:
        receipt = services().intake.submit(comment, origin, key, identities=(ip, email_identity(comment.email)),
                                           also_store=site_fields(site), language=page_language)
    except RateLimited as refused:
        raise _too_many(refused.state) from None
    except ArticleClosed:
        raise ProblemError(403, "Forbidden", "This article is closed for comments.") from None
    except AuthorRefused as refused:
        metrics.record_decision("automatic", "refused", (f"author_{refused.standing.state}",))
        if return_to:
            return redirect(_with_refusal(return_to, refused.standing), 303)
        raise _refusal(refused.standing) from None
    except ParentNotFound:
        raise invalid([FieldError(
            field="parent_id", pointer="#/parent_id", detail="no such comment on this article",
        )]) from None
    except IdempotencyMismatch:
        raise ProblemError(
            409, "Conflict", "This Idempotency-Key was already used for a different comment."
        ) from None

    if not receipt.duplicate:
        metrics.SCORING.observe(receipt.scoring_seconds)
        metrics.record_decision("automatic", receipt.decision, receipt.reasons)
        metrics.record_received(receipt.language, receipt.decision)
    if return_to:
        response = redirect(_with_receipt(return_to, receipt.id, receipt.status), 303)
        response.headers.update(posting_headers(receipt.limit))
        return response
    answer = {"id": receipt.id, "article_id": receipt.article_id, "status": receipt.status,
              "created_at": receipt.created_at, "status_token": status_token(services().intake.secret, receipt.id)}
    response = jsonify(answer | keyed_receipt(receipt) if site is not None else answer)
    response.status_code = 201
    response.headers["Location"] = f"/v1/comments/{receipt.id}"
    response.headers.update(posting_headers(receipt.limit))
    if receipt.duplicate:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.get("/articles/<article:article_id>/comments", merge_slashes=False)
def list_comments(article_id: str) -> Response:
    thread = article_id_or_none(article_id)
    if thread is None:
        raise ProblemError(404, "Not Found", "No such article.")
    cursor = request.args.get("cursor") or None
    if cursor is not None and not is_comment_id(cursor):
        raise invalid([FieldError(field="cursor", pointer="?cursor", detail="is not a cursor from this API")])
    limit = query_int("limit", 50, 1, 200)
    records, next_cursor = services().store.published_page(thread, cursor, limit)
    return jsonify(comments=[public_comment(record) for record in records], next_cursor=next_cursor)


@bp.get("/comments/<comment_id>")
def get_comment(comment_id: str) -> Response:
    record = services().store.get(comment_id) if is_comment_id(comment_id) else None
    if record and request.headers.get("Authorization") and bearer_moderator():
        return jsonify(review_items(services().store, [record])[0])
    if record and record.get("status") == "published":
        return jsonify(public_comment(record))
    raise ProblemError(404, "Not Found", "No published comment with this id.")


@bp.post("/comments/<comment_id>/reports")
@limited(limiter.limit(reporting_limits, key_func=client_ip))
def report_comment(comment_id: str) -> tuple[Response, int]:
    report = parse(ReportIn, raw_input(allow_form=True), strict=not is_form())
    if not is_comment_id(comment_id):
        raise ProblemError(404, "Not Found", "No published comment with this id.")
    try:
        total = services().store.report(comment_id, report.reason, report.note or "")
    except NotFound:
        raise ProblemError(404, "Not Found", "No published comment with this id.") from None
    return jsonify(id=comment_id, reports=total), 201
