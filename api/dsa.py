"""The EU Digital Services Act's routes: notices (Art. 16), the author's status and statement of reasons
(Art. 17), appeals (Art. 20) and the transparency report's counts (Art. 15, 24). See docs/DSA.md."""

from __future__ import annotations

import contextlib
import csv
import io
from datetime import UTC, date, datetime
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, redirect, render_template, request, url_for

from api.auth import require
from api.inputs import is_form, parse, query_int, raw_input
from api.limits import client_ip, limited, limiter, reporting_limits
from api.problems import ProblemError
from api.services import services
from api.views import review_items
from moderation.authors.standing import StandingChange, StandingConflict
from moderation.dsa import appeals as appeal_store
from moderation.dsa import notices as notice_store
from moderation.dsa.appeals import Appellant, public_appeal
from moderation.dsa.notices import REJECT_REASON, public_notice
from moderation.dsa.statement import appeal_deadline, statement_for, token_matches
from moderation.dsa.transparency import MAX_DAYS, report, rows
from moderation.schemas import (
    AppealDecisionIn,
    AppealIn,
    FieldError,
    NoticeDecisionIn,
    NoticeIn,
    is_comment_id,
)
from moderation.store import Conflict, NotFound, history_events

bp = Blueprint("dsa", __name__, url_prefix="/v1")
# The author's HTML page beside the API (no /v1: it is a page, not JSON), linked from the widget.
pages = Blueprint("dsa_pages", __name__)


def _no_comment() -> ProblemError:
    return ProblemError(404, "Not Found", "No comment with this id.")


def _bad(field: str, detail: str, status: int = 422) -> ProblemError:
    title = {422: "Unprocessable Content", 403: "Forbidden", 409: "Conflict"}.get(status, "Bad Request")
    return ProblemError(status, title, detail, errors=[FieldError(field=field, pointer=f"#/{field}", detail=detail)])


def _trusted_flagger() -> str:
    """The name of the trusted flagger (Art. 22) sending this request: a key from `moderation api-keys`,
    sent as X-Api-Key or ?key=, when MODERATION_TRUSTED_FLAGGERS lists its name or is unset."""
    key = request.headers.get("X-Api-Key") or request.args.get("key") or ""
    caller = services().api_keys.authenticate(key) if key else None
    if caller is None:
        if key:
            raise ProblemError(401, "Unauthorized", "This key is not valid; send a notice without one, or a valid "
                               "key from `moderation api-keys`.")
        return ""
    listed = current_app.config.get("TRUSTED_FLAGGERS") or ()
    return caller.name if not listed or caller.name in listed else ""


def _comment(comment_id: str) -> dict[str, str]:
    record = services().store.get(comment_id) if is_comment_id(comment_id) else None
    if record is None:
        raise _no_comment()
    return record


# -- notices (Art. 16) ---------------------------------------------------------------------------------


@bp.post("/comments/<comment_id>/notices")
@limited(limiter.limit(reporting_limits, key_func=client_ip))
def file_notice(comment_id: str) -> tuple[Response, int]:
    notice = parse(NoticeIn, raw_input())
    if not is_comment_id(comment_id):
        raise ProblemError(404, "Not Found", "No published comment with this id.")
    trusted = _trusted_flagger()
    try:
        filed = services().notices.file(
            comment_id, category=notice.category, explanation=notice.explanation,
            notifier_name=notice.notifier_name or "", notifier_email=notice.notifier_email or "",
            trusted_flagger=trusted,
        )
    except notice_store.NotFound:
        raise ProblemError(404, "Not Found", "No published comment with this id.") from None
    # Art. 16(4): an acknowledgement of receipt; the token lets the notifier appeal the decision (Art. 20).
    return jsonify(notice_id=filed.notice_id, notice_token=filed.token, comment_id=comment_id, status="open",
                   trusted_flagger=bool(trusted)), 201


def _reject_reason(category: str) -> str:
    return REJECT_REASON.get(category, "other")


def _remove(comment_id: str, reason: str, note: str, ground: str | None) -> None:
    """Reject a comment as this moderator's decision, whatever was decided before (a notice or appeal says so)."""
    store = services().store
    for _ in range(3):
        current = store.get(comment_id) or {}
        try:
            store.decide(comment_id, g.moderator.name, "reject", reason, note, int(current.get("version", 0)),
                         policy=services().policies.current(1.0), ground=ground)
            return
        except Conflict:
            continue  # the comment moved between the read and the decision: read it again
        except NotFound:
            return
    raise ProblemError(409, "Conflict", "The comment kept changing; try again.")


@bp.post("/review/notices/<notice_id>/decision")
@require("moderator")
def decide_notice(notice_id: str) -> Response:
    return jsonify(apply_notice_decision(notice_id, parse(NoticeDecisionIn, raw_input())))


def apply_notice_decision(notice_id: str, decision: NoticeDecisionIn) -> dict[str, Any]:
    """Decide a notice as g.moderator, removing its comment if so decided; the notice as it stands after.
    ProblemError (404, 409 with `current`, 422) as the API answers; the console shows its detail."""
    policy = services().policies.current(1.0)
    if decision.legality == "incompatible_with_terms" and policy.term(decision.ground) is None:
        raise _bad("ground", "is not the code of one of the policy's terms")
    notices = services().notices
    try:
        comment_id = notices.decide(notice_id, g.moderator.name, legality=decision.legality,
                                    ground=decision.ground or "", explanation=decision.explanation,
                                    action=decision.action)
    except notice_store.NotFound:
        raise ProblemError(404, "Not Found", "No notice with this id.") from None
    except notice_store.Decided:
        raise ProblemError(409, "Conflict", "Another moderator decided this notice first.", extra={
            "current": public_notice(notices.get(notice_id) or {})}) from None
    notice = notices.get(notice_id) or {}
    if decision.action == "remove":
        ground = decision.ground if decision.legality == "incompatible_with_terms" else None
        _remove(comment_id, _reject_reason(notice.get("category", "")), decision.explanation, ground)
    return public_notice(notice)


# -- the author's view and statement of reasons (Art. 17) -------------------------------------------


def _status(record: dict[str, str]) -> dict[str, Any]:
    statement = statement_for(record, services().policies.current(1.0))
    status = record.get("status", "pending")
    if status == "rejected" and statement is None:
        status = "pending"  # spam: its poster learns nothing (Art. 17(2) exempts it)
    return {"id": record["id"], "article_id": record.get("article_id", ""), "status": status,
            "statement": statement.as_dict() if statement else None}


@bp.get("/comments/<comment_id>/status")
def comment_status(comment_id: str) -> Response:
    record = _comment(comment_id)
    if not token_matches(services().intake.secret, comment_id, request.args.get("token", "")):
        raise ProblemError(403, "Forbidden", "The token does not match this comment (it came in the answer to "
                           "the post, as status_token).")
    found = _status(record)
    appeal = services().appeals.of(comment_id, Appellant("author"))
    # The author learns the outcome and its reasons; moderators' names stay with the newsroom.
    found["appeal"] = {k: v for k, v in public_appeal(appeal).items() if k not in ("original_by", "decided_by")} \
        if appeal else None
    return jsonify(found)


# -- appeals (Art. 20) ---------------------------------------------------------------------------------


_LABELS = {"published": "Published", "pending": "Awaiting moderation", "rejected": "Not published"}


@pages.get("/comments/<comment_id>/status")
def status_page(comment_id: str) -> str:
    """The author's own page for their comment: its status, the statement of reasons, and the appeal form."""
    record = _comment(comment_id)
    token = request.args.get("token", "")
    if not token_matches(services().intake.secret, comment_id, token):
        raise ProblemError(403, "Forbidden", "This link is not the one your comment was answered with.")
    found = _status(record)
    found["status_label"] = _LABELS[found["status"]]
    appeal = services().appeals.of(comment_id, Appellant("author"))
    return render_template("authors/status.html", found=found, statement=found["statement"], token=token,
                           appeal=public_appeal(appeal) if appeal else None, body=record.get("body", ""),
                           created_at=record.get("created_at", "")[:16].replace("T", " "))


@bp.post("/comments/<comment_id>/appeals")
@limited(limiter.limit(reporting_limits, key_func=client_ip))
def file_appeal(comment_id: str) -> Any:
    appeal = parse(AppealIn, raw_input(allow_form=True), strict=not is_form())
    record = _comment(comment_id)
    token = request.args.get("token", "")
    s = services()
    if token_matches(s.intake.secret, comment_id, token):
        appellant = Appellant("author")
        standing = s.standings.read(s.standings.identity_of(record.get("author_key", "")), s.policies.current(1.0))
        if record.get("status") == "rejected":
            decided_at, original_by = record.get("decided_at") or record.get("created_at", ""), \
                record.get("decided_by") or ""
            original = "reject"
        elif standing.refuses and standing.set_at:
            # A suspended or banned author appeals their standing with the token of any comment of theirs.
            decided_at, original_by, original = standing.set_at, standing.set_by or "", f"standing:{standing.state}"
        else:
            raise ProblemError(409, "Conflict", "There is no decision against this comment or its author to appeal.")
    else:
        notice = s.notices.by_token(token)
        if notice is None or notice.get("comment_id") != comment_id:
            raise ProblemError(403, "Forbidden", "The token matches neither this comment's author nor a notice on it.")
        if notice.get("status") != "decided":
            raise ProblemError(409, "Conflict", "The notice has not been decided yet.")
        appellant = Appellant("notifier", notice["id"])
        decided_at, original_by, original = notice.get("decided_at", ""), notice.get("decided_by", ""), \
            notice.get("action", "")
    if datetime.now(UTC).isoformat() > appeal_deadline(decided_at).replace("Z", "+00:00"):
        raise ProblemError(409, "Conflict", "The six months to appeal this decision have passed (DSA Art. 20(1)).")
    try:
        appeal_id = s.appeals.file(comment_id, appellant, appeal.text, original_by=original_by,
                                   original_decision=original)
    except appeal_store.AlreadyAppealed as already:
        raise ProblemError(409, "Conflict", "This decision was appealed already.",
                           extra={"appeal_id": already.appeal_id}) from None
    if is_form() and request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html":
        return redirect(url_for("dsa_pages.status_page", comment_id=comment_id, token=token), 303)
    return jsonify(appeal_id=appeal_id, comment_id=comment_id, status="open"), 201


@bp.post("/review/appeals/<appeal_id>/decision")
@require("moderator")
def decide_appeal(appeal_id: str) -> Response:
    return jsonify(apply_appeal_decision(appeal_id, parse(AppealDecisionIn, raw_input())))


def apply_appeal_decision(appeal_id: str, decision: AppealDecisionIn) -> dict[str, Any]:
    """Decide an appeal as g.moderator, undoing the decision if reversed; the appeal as it stands after.
    ProblemError (404, 403 for the original decider, 409 with `current`) as the API answers."""
    appeals = services().appeals
    try:
        appeal = appeals.decide(appeal_id, g.moderator.name, decision.outcome, decision.explanation)
    except appeal_store.NotFound:
        raise ProblemError(404, "Not Found", "No appeal with this id.") from None
    except appeal_store.SameModerator:
        raise ProblemError(403, "Forbidden", "Another moderator must decide an appeal against your own decision "
                           "(DSA Art. 20(6)).") from None
    except appeal_store.Decided:
        raise ProblemError(409, "Conflict", "Another moderator decided this appeal first.", extra={
            "current": public_appeal(appeals.get(appeal_id) or {})}) from None
    if decision.outcome == "reversed":
        _reverse(appeal, decision.explanation)
    return public_appeal(appeals.get(appeal_id) or {})


def _lift_standing(record: dict[str, str], appeal: dict[str, str], explanation: str) -> None:
    """A comment rejected in the step that suspended or banned its author: reversing it lifts that standing too,
    unless a moderator has set another since (Art. 20(4): the decision is reversed, all of it)."""
    set_with = [event for event in history_events(record.get("history")) if event.get("standing")]
    if set_with:
        _lift(record, appeal, explanation, set_with[-1]["standing"], set_with[-1].get("at"))


def _lift(record: dict[str, str], appeal: dict[str, str], explanation: str, state: str, set_at: str | None) -> None:
    """Set the author back to normal if their standing is still the one appealed (state, and when if known)."""
    s = services()
    key = record.get("author_key", "")
    identity = s.standings.identity_of(key)
    standing = s.standings.read(identity, s.policies.current(1.0))
    if standing.automatic or standing.state != state or (set_at is not None and standing.set_at != set_at):
        return
    change = StandingChange("normal", reason=f"appeal {appeal.get('id', '')} reversed", note=explanation)
    with contextlib.suppress(StandingConflict):  # changed meanwhile: the newer standing stands
        s.standings.change(identity, key, change, g.moderator.name)


def _reverse(appeal: dict[str, str], explanation: str) -> None:
    """Undo the appealed decision: the author's rejected comment is published, a notifier's kept one removed."""
    store = services().store
    comment_id = appeal["comment_id"]
    if appeal.get("original_decision", "").startswith("standing:"):
        _lift(store.get(comment_id) or {}, appeal, explanation, appeal["original_decision"].partition(":")[2], None)
        return
    if appeal.get("appellant") == "author":
        for _ in range(3):
            current = store.get(comment_id) or {}
            try:
                store.decide(comment_id, g.moderator.name, "approve", None, explanation,
                             int(current.get("version", 0)), policy=services().policies.current(1.0))
                _lift_standing(current, appeal, explanation)
                return
            except Conflict:
                continue
            except NotFound:
                return
        raise ProblemError(409, "Conflict", "The comment kept changing; try again.")
    notices = services().notices
    notice = notices.get(appeal.get("notice_id", "")) or {}
    if notice:
        notices.mark_removed_on_appeal(notice, explanation)
    _remove(comment_id, _reject_reason(notice.get("category", "")), explanation, None)


# -- transparency (Art. 15, 24) -----------------------------------------------------------------------


def _day(name: str, default: date) -> date:
    raw = request.args.get(name)
    if not raw:
        return default
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        raise ProblemError(422, "Unprocessable Content", "The request has invalid fields; see errors.", errors=[
            FieldError(field=name, pointer=f"?{name}", detail="must be a date, such as 2026-01-31")]) from None


def transparency_report() -> dict[str, Any]:
    """The report for ?from= and ?to= (this year so far by default); 422 for a bad or too long range."""
    today = datetime.now(UTC).date()
    start, end = _day("from", today.replace(month=1, day=1)), _day("to", today)
    if end < start or (end - start).days >= MAX_DAYS:
        raise ProblemError(422, "Unprocessable Content", "The request has invalid fields; see errors.", errors=[
            FieldError(field="to", pointer="?to", detail=f"must be on or after from, and at most {MAX_DAYS} days on")])
    s = services()
    return report(s.redis, s.store.keys, start, end)


def transparency_csv(found: dict[str, Any]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["measure", "value"])
    writer.writerows(rows(found))
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="transparency-{found["from"]}-{found["to"]}.csv"'
    return response


@bp.get("/review/transparency")
@require("admin")
def transparency() -> Response:
    found = transparency_report()
    if request.args.get("format") == "csv":
        return transparency_csv(found)
    return jsonify(found)


def queue_page(name: str) -> Response:
    """The notices or appeals queue, each item with its comment as moderators see it."""
    s = services()
    cursor = request.args.get("cursor") or None
    limit = query_int("limit", 25, 1, 200)
    if name == "notices":
        found, more = s.notices.page(cursor, limit)
        items = [public_notice(notice) for notice in found]
    else:
        found, more = s.appeals.page(cursor, limit)
        items = [public_appeal(appeal) for appeal in found]
    records = s.store.get_many([item["comment_id"] for item in items if item["comment_id"]])
    comments = {item["id"]: item for item in review_items(s.store, records)}
    for item in items:
        item["comment"] = comments.get(item["comment_id"] or "")
    return jsonify(queue=name, items=items, next_cursor=more)
