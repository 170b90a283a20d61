"""Admins: the policy, per-article modes, and erasure of an author's personal data."""

from __future__ import annotations

from flask import Blueprint, Response, g, jsonify, request
from pydantic import ValidationError

from api.auth import require
from api.inputs import parse, raw_input
from api.problems import ProblemError, invalid
from api.services import services
from moderation.policy import Policy
from moderation.schemas import ArticleLanguageIn, ArticleModeIn, FieldError, article_id_or_none, field_errors

bp = Blueprint("admin", __name__, url_prefix="/v1")
POLICY_MAX_BYTES = 4 * 1024 * 1024

@bp.get("/policy")
@require("admin")
def get_policy() -> Response:
    policies = services().policies
    return jsonify(policy=policies.load().model_dump(), article_modes=policies.article_modes(),
                   article_languages=policies.article_languages())


@bp.patch("/policy")
@require("admin")
def change_policy() -> Response:
    # The lists of domains and networks may run to thousands of entries: more than other bodies need.
    request.max_content_length = POLICY_MAX_BYTES
    changes = raw_input()
    unknown = sorted(set(changes) - set(Policy.model_fields))
    if unknown:
        raise invalid([FieldError(field=f, pointer=f"#/{f}", detail="is not a policy setting") for f in unknown])
    try:
        policy = services().policies.update(changes, g.moderator.name)
    except ValidationError as error:
        raise invalid(field_errors(error)) from None
    policies = services().policies
    return jsonify(policy=policy.model_dump(), article_modes=policies.article_modes(),
                   article_languages=policies.article_languages())


def _thread(article_id: str) -> str:
    """The article id as threads are keyed, or a 404 for one that cannot be."""
    thread = article_id_or_none(article_id)
    if thread is None:
        raise ProblemError(404, "Not Found", "No such article.")
    return thread


@bp.put("/articles/<article:article_id>/mode", merge_slashes=False)
@require("admin")
def set_article_mode(article_id: str) -> Response:
    mode = parse(ArticleModeIn, raw_input()).mode
    thread = _thread(article_id)
    services().policies.set_article_mode(thread, mode, g.moderator.name)
    return jsonify(article_id=thread, mode=mode)


@bp.put("/articles/<article:article_id>/language", merge_slashes=False)
@require("admin")
def set_article_language(article_id: str) -> Response:
    """The language an article's comments are taken to be in when too short to tell; null: the site's."""
    language = parse(ArticleLanguageIn, raw_input()).language
    thread = _thread(article_id)
    services().policies.set_article_language(thread, language, g.moderator.name)
    return jsonify(article_id=thread, language=language)


@bp.delete("/authors/<author_key>")
@require("admin")
def erase_author(author_key: str) -> Response:
    erased = services().store.erase_author(author_key, g.moderator.name)
    if erased == 0:
        raise ProblemError(404, "Not Found", "No comments from this author.")
    return jsonify(author_key=author_key, comments_erased=erased)


@bp.get("/webhooks/deliveries")
@require("admin")
def webhook_deliveries() -> Response:
    """The webhook delivery log, newest first (admins only: URLs may carry secrets)."""
    from api.inputs import query_int
    from moderation.webhooks import recent_deliveries

    store = services().store
    return jsonify(deliveries=recent_deliveries(store.redis, store.keys, query_int("limit", 50, 1, 1000)))
