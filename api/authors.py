"""The moderators' hold on people: an author's page, standing and notes, and the authors in a standing."""

from __future__ import annotations

from typing import Any, get_args

from flask import Blueprint, Response, g, jsonify, request

from api.auth import require
from api.inputs import parse, query_int, raw_input
from api.problems import ProblemError
from api.services import services
from api.views import author_summary, review_items
from moderation.authors.notes import TooManyNotes
from moderation.authors.standing import ADMIN_STATES, REFUSING, STATES, StandingChange, StandingConflict
from moderation.schemas import FieldError, NoteIn, RejectReason, StandingIn, is_comment_id, parse_time

bp = Blueprint("authors", __name__, url_prefix="/v1/review/authors")

_CONFLICTS = {
    "version": "The author's standing changed since the version you saw.",
    "same": "The author already has this standing; another moderator may have set it just now.",
}
_REJECT_REASONS = frozenset(get_args(RejectReason))


def _not_found() -> ProblemError:
    return ProblemError(404, "Not Found", "No author with this key: it has no comments, standing or notes.")


def _known_identity(author_key: str) -> str:
    standings = services().standings
    if len(author_key) > 64 or not standings.known(author_key):
        raise _not_found()
    return standings.identity_of(author_key)


def _field(name: str, detail: str, status: int = 422, title: str = "Unprocessable Content") -> ProblemError:
    return ProblemError(status, title, detail, errors=[FieldError(field=name, pointer=f"#/{name}", detail=detail)])


@bp.get("")
@require("moderator")
def in_standing() -> Response:
    state = request.args.get("standing", "")
    if state not in STATES or state == "normal":
        raise ProblemError(422, "Unprocessable Content", "The request has invalid fields; see errors.", errors=[
            FieldError(field="standing", pointer="?standing",
                       detail=f"must be one of {', '.join(s for s in STATES if s != 'normal')}")])
    cursor = request.args.get("cursor") or None
    rows, next_cursor = services().standings.page(state, cursor, query_int("limit", 50, 1, 200))
    return jsonify(standing=state, items=rows, next_cursor=next_cursor)


@bp.get("/<author_key>")
@require("moderator")
def author(author_key: str) -> Response:
    cursor = request.args.get("cursor") or None
    if cursor is not None and not is_comment_id(cursor):
        raise _field("cursor", "is not a cursor from this API")
    identity = _known_identity(author_key)
    s = services()
    policy = s.policies.current(1.0)
    counts = s.store.author(author_key)
    standing, record = s.standings.read_many({identity}, policy)[identity]
    records, next_cursor = s.store.author_page(author_key, cursor, query_int("limit", 25, 1, 200))
    summary = author_summary(counts, standing, record)
    return jsonify(
        author={"author_key": author_key, **summary},
        standing=summary["standing"],
        record=summary["record"],
        notes=s.notes.of(identity),
        standing_history=s.standings.history(identity),
        items=review_items(s.store, records),
        next_cursor=next_cursor,
    )


def change_standing(author_key: str, wanted: StandingIn, reject_as: str | None = None) -> dict[str, Any]:
    """Apply a moderator's standing change (the API's and the console's), or raise the problem to answer.

    `reject_as`: the reason the pending comments are rejected for (the console asks for it apart from the
    standing's free-text reason); without it, the standing's reason when it is one, else `other`."""
    s = services()
    if wanted.state in ADMIN_STATES and not g.moderator.is_admin:
        raise _field("state", f"only an admin may set `{wanted.state}`", 403, "Forbidden")
    identity = _known_identity(author_key)
    policy = s.policies.current(1.0)
    current = s.standings.read(identity, policy)
    if current.state in ADMIN_STATES and not current.automatic and not g.moderator.is_admin:
        raise _field("state", f"the author is {current.state}: only an admin may change that", 403, "Forbidden")
    change = StandingChange(
        state=wanted.state, reason=wanted.reason or "", until=parse_time(wanted.until) if wanted.until else None,
        message=wanted.message or "", note=wanted.note or "", reject_pending=wanted.reject_pending,
        version=wanted.version,
    )
    networks = s.standings.networks_used(identity, author_key, s.intake.secret) if wanted.state in REFUSING else ()
    reason = next((r for r in (reject_as, wanted.reason) if r in _REJECT_REASONS), "other")
    try:
        changed = s.standings.change(identity, author_key, change, g.moderator.name, networks=networks,
                                     reject_reason=reason or "other")
    except StandingConflict as conflict:
        raise ProblemError(409, "Conflict", _CONFLICTS[conflict.why], extra={
            "current": s.standings.read(identity, policy).as_dict()}) from None
    return {"author_key": author_key, "standing": s.standings.read(identity, policy).as_dict(),
            "rejected_pending": changed.rejected_pending}


@bp.put("/<author_key>/standing")
@require("moderator")
def set_standing(author_key: str) -> Response:
    return jsonify(change_standing(author_key, parse(StandingIn, raw_input())))


@bp.post("/<author_key>/notes")
@require("moderator")
def add_note(author_key: str) -> Response:
    text = parse(NoteIn, raw_input()).text
    identity = _known_identity(author_key)
    try:
        note = services().notes.add(identity, text, g.moderator.name)
    except TooManyNotes:
        raise _field("text", "the author has as many notes as an author may have; delete one first", 409,
                     "Conflict") from None
    response = jsonify(note)
    response.status_code = 201
    return response


@bp.delete("/<author_key>/notes/<note_id>")
@require("moderator")
def delete_note(author_key: str, note_id: str) -> Response:
    identity = _known_identity(author_key)
    if not services().notes.delete(identity, note_id):
        raise ProblemError(404, "Not Found", "No note with this id on this author.")
    return Response(status=204)
