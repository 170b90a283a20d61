"""The moderators' API: the queues, claims, decisions, audit trails, authors and stats."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request

from api import dsa, metrics
from api.auth import require
from api.inputs import article_query, parse, query_int, raw_input
from api.problems import ProblemError, invalid, problem
from api.services import services
from api.sites import moderator_or_site
from api.views import review_items
from moderation.keys import QUEUES, SCORED_QUEUES
from moderation.model.languages import SUPPORTED_LANGUAGES
from moderation.policy import language_code
from moderation.schemas import (
    BulkDecisionIn,
    ClaimIn,
    DecisionIn,
    FieldError,
    is_comment_id,
)
from moderation.store import SORTS, UNCERTAIN_CURSOR, Conflict, NotFound

bp = Blueprint("review", __name__, url_prefix="/v1/review")

_CONFLICTS = {
    "decided": "Another decision on this comment came first.",
    "version": "The comment changed since the version you saw.",
    "claimed": "Another moderator holds the lease on this comment.",
}


def _bad(field: str, detail: str) -> ProblemError:
    return invalid([FieldError(field=field, pointer=f"?{field}", detail=detail)])


@bp.get("/queue")
@require("moderator")
def queue() -> Response:
    name = request.args.get("queue", "pending")
    if name in ("notices", "appeals"):
        return dsa.queue_page(name)
    if name not in QUEUES:
        raise _bad("queue", f"must be one of {', '.join((*QUEUES, 'notices', 'appeals'))}")
    article_id = article_query("article_id")
    sort = request.args.get("sort", "arrival")
    if sort not in SORTS:
        raise _bad("sort", f"must be one of {', '.join(SORTS)}")
    if sort == "uncertain" and name not in SCORED_QUEUES:
        raise _bad("sort", f"uncertain applies to the {' and '.join(SCORED_QUEUES)} queues")
    cursor = request.args.get("cursor") or None
    if cursor is not None and not (UNCERTAIN_CURSOR.match(cursor) if sort == "uncertain" else is_comment_id(cursor)):
        raise _bad("cursor", "is not a cursor from this API for this order")
    limit = query_int("limit", 25, 1, 200)
    language = request.args.get("language") or None
    if language is not None:
        try:
            language = language_code(language)
        except ValueError as error:
            raise _bad("language", str(error)) from None
    store = services().store
    records, next_cursor = store.queue_page(
        name, cursor, limit, article_id=article_id, reason=request.args.get("reason") or None, language=language,
        sort=sort, policy=services().policies.load() if sort == "uncertain" else None,
    )
    return jsonify(queue=name, items=review_items(store, records), next_cursor=next_cursor)


@bp.post("/claim")
@require("moderator")
def claim() -> Response:
    wanted = parse(ClaimIn, raw_input(allow_empty=True))
    lease = int(current_app.config["LEASE_SECONDS"])
    store = services().store
    policy = services().policies.load() if wanted.sort == "uncertain" else None
    ids = store.claim(g.moderator.name, wanted.queue, wanted.limit, lease, sort=wanted.sort, policy=policy)
    return jsonify(lease_seconds=lease, items=review_items(store, store.get_many(ids)))


def _decide(comment_id: str, decision: DecisionIn) -> dict[str, Any]:
    store = services().store
    policy = services().policies.current(1.0)
    if decision.ground is not None and policy.term(decision.ground) is None:
        raise invalid([FieldError(field="ground", pointer="#/ground",
                                  detail="is not the code of one of the policy's terms")])
    try:
        decided = store.decide(
            comment_id, g.moderator.name, decision.action, decision.reason, decision.note, decision.version,
            policy=policy, ground=decision.ground,
        )
    except NotFound:
        raise ProblemError(404, "Not Found", "No comment with this id.") from None
    except Conflict as conflict:
        current = store.get(comment_id) or {}
        raise ProblemError(
            409,
            "Conflict",
            _CONFLICTS[conflict.why],
            extra={"current": review_items(store, [current])[0] if current else None},
        ) from None
    metrics.record_decision("human", decision.action, (decision.reason or "none",))
    return {"id": decided.id, "status": decided.status, "version": decided.version}


@bp.post("/<comment_id>/decision")
@moderator_or_site
@require("moderator")
def decide(comment_id: str) -> Response:
    decision = parse(DecisionIn, raw_input())
    if not is_comment_id(comment_id):
        raise ProblemError(404, "Not Found", "No comment with this id.")
    return jsonify(_decide(comment_id, decision))


@bp.post("/decisions")
@require("moderator")
def decide_many() -> Response:
    batch = parse(BulkDecisionIn, raw_input())
    results: list[dict[str, Any]] = []
    for item in batch.decisions:
        try:
            results.append({"id": item.id, "status": 200, "result": _decide(item.id, item)})
        except ProblemError as error:
            body = problem(error.status, error.title, error.detail, extra=error.extra).get_json()
            results.append({"id": item.id, "status": error.status, "problem": body})
    return jsonify(results=results)


@bp.get("/comments/<comment_id>/history")
@require("moderator")
def history(comment_id: str) -> Response:
    store = services().store
    if not is_comment_id(comment_id) or store.get(comment_id) is None:
        raise ProblemError(404, "Not Found", "No comment with this id.")
    events = []
    for fields in store.history(comment_id):
        details = {k: v for k, v in fields.items() if k not in ("event", "actor", "at")}
        events.append({"event": fields.get("event"), "actor": fields.get("actor"), "at": fields.get("at"),
                       "details": details})
    return jsonify(id=comment_id, events=events)


@bp.get("/stats")
@require("moderator")
def stats() -> Response:
    raw = services().store.stats()
    decisions: dict[str, dict[str, int]] = {"human": {}, "automatic": {}}
    by_model: dict[str, dict[str, int]] = {}
    reports: dict[str, int] = {}
    languages: dict[str, dict[str, Any]] = {}
    for name, value in raw["counters"].items():
        kind, _, rest = name.partition(":")
        if kind == "human":
            decisions["human"][rest] = value
        elif kind == "auto":
            decisions["automatic"][rest] = value
        elif kind == "reports":
            reports[rest] = value
        elif kind == "model":
            version, _, outcome = rest.partition(":")
            by_model.setdefault(version, {})[outcome] = value
        elif kind == "language":
            code, _, status = rest.partition(":")
            _language_entry(languages, code)["automatic"][status] = value
    pending, counted = services().store.pending_languages()
    for code, count in pending.items():
        _language_entry(languages, code)["pending"] = count
    for entry in languages.values():
        entry["received"] = sum(entry["automatic"].values())
    return jsonify(
        queues=raw["queues"],
        oldest_pending_age_seconds=raw["oldest_pending_age_seconds"],
        decisions=decisions,
        by_model_version=by_model,
        reports=reports,
        languages=dict(sorted(languages.items(), key=lambda item: (-item[1]["received"], item[0]))),
        languages_pending_counted=counted,
    )


def _language_entry(languages: dict[str, dict[str, Any]], code: str) -> dict[str, Any]:
    """One language's counts in the stats, made on first use."""
    if code not in languages:
        languages[code] = {"supported": code in SUPPORTED_LANGUAGES, "received": 0,
                           "automatic": {"published": 0, "pending": 0, "rejected": 0}, "pending": 0}
    return languages[code]
