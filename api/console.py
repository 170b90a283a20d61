"""The moderators' web console: server-rendered pages over the same core objects as the review API.

Sessions are Flask's signed cookie, scoped to /console, holding which token signed in (the moderator's
name and the time that token was issued), never the token itself; every request checks that token is
still live, so revoking a moderator ends their console sessions at once. Every POST carries a
per-session CSRF token. Forms work without JavaScript; console.js only adds the keyboard.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any, get_args
from urllib.parse import urlencode, urlsplit

import pycld2
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.blueprints import BlueprintSetupState
from pydantic import ValidationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from werkzeug.exceptions import HTTPException

from api.authors import change_standing
from api.dsa import apply_appeal_decision, apply_notice_decision, transparency_csv, transparency_report
from api.inputs import parse
from api.learning_curve import plot as learning_plot
from api.limits import client_ip, limiter
from api.problems import ProblemError
from api.services import services
from api.views import author_summary, review_items
from moderation import learn as learning
from moderation.authors.notes import TooManyNotes
from moderation.authors.standing import ADMIN_STATES
from moderation.dsa.appeals import Appellant
from moderation.dsa.statement import statement_for
from moderation.keys import QUEUES, SCORED_QUEUES
from moderation.model import signals
from moderation.model.languages import LANGUAGE_NAMES, SUPPORTED_LANGUAGES, UNDETERMINED, normalise_language
from moderation.moderators import Moderator
from moderation.policy import KNOWN_LANGUAGES, language_code
from moderation.registry import ModelRegistry, UnknownModel
from moderation.schemas import (
    AppealDecisionIn,
    DecisionIn,
    NoteIn,
    NoticeDecisionIn,
    RejectReason,
    StandingIn,
    article_id_or_none,
    is_comment_id,
)
from moderation.store import UNCERTAIN_CURSOR, Conflict, NotFound

bp = Blueprint("console", __name__, url_prefix="/console")

PAGE_SIZE = 25
BATCH_SIZES = (5, 10, 20, 50)
# A console session ends after this long even if the browser stays open.
SESSION_MAX_AGE_SECONDS = 12 * 3600
SIGN_IN_LIMITS = "10/minute;100/hour"
REJECT_REASONS: tuple[str, ...] = get_args(RejectReason)
REJECT_LABELS = {
    "spam": "Spam",
    "abuse": "Abuse",
    "off_topic": "Off topic",
    "personal_data": "Personal data",
    "other": "Other",
}
REASON_LABELS = {
    "spam": "Spam score",
    "abuse": "Abuse score",
    "links": "Too many links",
    "blocked_term": "Blocked term",
    "suspect_term": "Suspect term",
    "premoderated_article": "Premoderated article",
    "duplicate": "Duplicate",
    "new_author": "New author",
    "threat": "Threat of violence",
    "burst": "Comments on many articles at once",
    "author_premoderated": "Premoderated author",
    "author_record": "Author's record",
    "linked_author": "Network of a banned or suspended author",
    "blocked_email_domain": "Blocked email domain",
    "held_email_domain": "Held email domain",
    "blocked_network": "Blocked network",
    "held_network": "Held network",
    "blocked_website": "Blocked website",
    "held_website": "Held website",
    "unsupported_language": "Language the model does not know",
}
STANDING_LABELS = {
    "normal": "Normal",
    "trusted": "Trusted",
    "premoderated": "Premoderated",
    "suspended": "Suspended",
    "banned": "Banned",
}
# What each standing does, as the author page explains it beside the choice.
STANDING_HINTS = {
    "normal": "every comment is judged on its own",
    "premoderated": "every comment waits for a moderator",
    "suspended": "posts are refused until the date, with the message below",
    "banned": "posts are refused, with the message below",
    "trusted": "skips the new-author hold and the holds of doubtful scores",
}
# The author page's choices, from the mildest to the hardest, trust last (it is no sanction).
STANDING_CHOICES = ("normal", "premoderated", "suspended", "banned", "trusted")
SUSPENSION_DAYS = (1, 3, 7, 30)
# Pending comments listed on the confirmation of a ban: enough to see what goes, short enough to read.
PENDING_SHOWN = 50
SIGNAL_DESCRIPTIONS = signals.DESCRIPTIONS
QUEUE_LABELS = {"pending": "Pending", "reported": "Reported", "rejected": "Rejected", "approved": "Approved"}
CLAIMABLE = SCORED_QUEUES
SORT_LABELS = {"arrival": "Oldest first", "uncertain": "Nearest the threshold first"}
CONFLICT_DECIDED = "Another moderator decided this comment first."
# The notice categories (NoticeIn's, the Transparency Database's) whose codes do not read well as words.
CATEGORY_LABELS = {
    "data_protection_and_privacy_violations": "Data protection and privacy violations",
    "other_violation_tc": "Other breach of the terms",
    "not_specified_notice": "Not specified",
}
LEGALITY_LABELS = {
    "illegal": "Illegal content",
    "incompatible_with_terms": "Incompatible with the site's terms",
    "neither": "Neither",
}
NOTICE_ACTIONS = {"remove": "Remove the comment", "keep": "Keep the comment"}
# What an appealed decision was (Appeals' original_decision).
DECISION_LABELS = {"reject": "Rejected", "remove": "Removed", "keep": "Kept"}
OUTCOME_LABELS = {"upheld": "Upheld: the decision stands", "reversed": "Reversed: the decision is undone"}
# The comment history's DSA events, in words (the others read well as their codes).
EVENT_LABELS = {"notice": "notice received", "notice_decided": "notice decided"}


def _cld2_names() -> dict[str, str]:
    """CLD2's name of each language it detects, by ISO code (a name under the code itself before a variant's)."""
    names: dict[str, str] = {}
    for name, cld2 in pycld2.LANGUAGES:
        code = normalise_language(cld2)
        if code in KNOWN_LANGUAGES and (code == cld2 or code not in names):
            names[code] = name.removeprefix("X_").replace("_", " ").title()
    return names


# Every language's name by code: the model's as the model card names them, the others as CLD2 does.
LANGUAGE_LABELS = {**_cld2_names(), **LANGUAGE_NAMES, UNDETERMINED: "Undetermined"}


def language_label(code: str) -> str:
    """A language's name for a moderator ("German"), or its code when there is none."""
    return LANGUAGE_LABELS.get(code, code)


def category_label(code: str) -> str:
    return CATEGORY_LABELS.get(code) or code.replace("_", " ").capitalize()


@bp.record_once
def _configure(state: BlueprintSetupState) -> None:
    """The session cookie is the console's alone: scoped to its path, never readable by scripts."""
    config = state.app.config
    config["SESSION_COOKIE_NAME"] = "moderation_console"
    config["SESSION_COOKIE_PATH"] = bp.url_prefix
    config["SESSION_COOKIE_HTTPONLY"] = True
    config["SESSION_COOKIE_SAMESITE"] = "Lax"
    config["SESSION_COOKIE_SECURE"] = config["ENV"] != "development"


# -- sessions and CSRF -------------------------------------------------------------------------


def csrf_token() -> str:
    """This session's CSRF token, made on first use; every console form posts it back."""
    token = session.get("csrf")
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def _csrf_ok() -> bool:
    expected = session.get("csrf")
    sent = request.form.get("csrf_token", "")
    return isinstance(expected, str) and bool(sent) and hmac.compare_digest(sent.encode(), expected.encode())


def _signed_in() -> Moderator | None:
    """The moderator this session belongs to, while their token is still live and the session young."""
    name, issued, at = session.get("moderator"), session.get("token_issued"), session.get("signed_in_at")
    if not isinstance(name, str) or not isinstance(issued, str) or not isinstance(at, int | float):
        return None
    if not 0 <= time.time() - at <= SESSION_MAX_AGE_SECONDS:
        return None
    # A revoked token is gone; a re-issued one has a new creation time.
    moderator = services().moderators.get(name)
    return moderator if moderator and moderator.created_at == issued else None


def _safe_next(target: str | None, fallback: str) -> str:
    """Only a path inside the console: never another host, so sign-in cannot redirect elsewhere."""
    if not target:
        return fallback
    parts = urlsplit(target)
    prefix = bp.url_prefix or "/console"
    if parts.scheme or parts.netloc or "\\" in target or not (parts.path + "/").startswith(prefix + "/"):
        return fallback
    return target


PUBLIC_ENDPOINTS = {"console.login", "console.sign_in"}


@bp.before_request
def _guard() -> Any:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    moderator = _signed_in()
    if moderator is None:
        if "moderator" in session:
            session.clear()
            flash("Your session ended; sign in again.", "error")
        if request.method != "GET":
            return redirect(url_for("console.login"), 303)
        return redirect(url_for("console.login", next=request.full_path.rstrip("?")), 303)
    g.moderator = moderator
    if request.method == "POST" and not _csrf_ok():
        abort(400, "This form has expired. Reload the page and try again.")
    return None


@bp.after_request
def _no_store(response: Response) -> Response:
    # Pages with emails and IP addresses must not sit in a shared or back/forward cache.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.context_processor
def _template_globals() -> dict[str, Any]:
    return {
        "csrf_token": csrf_token,
        "queue_labels": QUEUE_LABELS,
        "sort_labels": SORT_LABELS,
        "reason_labels": REASON_LABELS,
        "reject_reasons": [(code, REJECT_LABELS[code]) for code in REJECT_REASONS],
        "standing_labels": STANDING_LABELS,
        "moderator": g.get("moderator"),
        **_dsa_globals(),
        # The comment a conflict message is about, shown once with a link to where it stands now.
        "conflict_on": session.pop("conflict_on", None) if g.get("moderator") else None,
    }


def _dsa_globals() -> dict[str, Any]:
    """The top bar's open notices and appeals, and the terms a rejection may name as its ground (DSA Art.
    17(3)(e)); none when Redis is down, so that the page saying so still renders."""
    if not g.get("moderator"):
        return {"dsa_counts": {}, "policy_terms": ()}
    try:
        return {"dsa_counts": _dsa_counts(), "policy_terms": services().policies.current(1.0).terms}
    except (RedisConnectionError, RedisTimeoutError):
        return {"dsa_counts": {}, "policy_terms": ()}


def _error_page(status: int, title: str, detail: str) -> tuple[str, int]:
    return render_template("console/error.html", status=status, title=title, detail=detail), status


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Any:
    if error.code is None or error.code < 400:
        return error
    return _error_page(error.code, error.name, error.description or "")


@bp.errorhandler(RedisConnectionError)
@bp.errorhandler(RedisTimeoutError)
def _redis_down(error: Exception) -> tuple[str, int]:
    current_app.logger.error("console: redis unavailable: %s", type(error).__name__)
    return _error_page(503, "Service Unavailable", "The comment store is unavailable; nothing was changed.")


# -- presenting items --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of a comment's text, and the reasons whose evidence covers it (none for plain text)."""

    text: str
    codes: tuple[str, ...] = ()
    title: str = ""


def highlight(body: str, reasons: list[dict[str, Any]]) -> list[Segment]:
    """Split `body` at the evidence spans of `reasons`; the template escapes every piece."""
    spans: list[tuple[int, int, str, float]] = []
    for reason in reasons:
        # Spam signals read from the body (a phone number, a hidden link) are marked like words.
        body_signals = [s for s in reason.get("signals") or [] if s.get("field") == "body"]
        for word in [*(reason.get("words") or []), *body_signals]:
            start, end = word.get("start"), word.get("end")
            if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(body):
                weight = word.get("weight")
                spans.append((start, end, str(reason.get("code", "")), float(weight or 0)))
    if not spans:
        return [Segment(body)] if body else []
    cuts = sorted({0, len(body), *(s for s, _, _, _ in spans), *(e for _, e, _, _ in spans)})
    segments: list[Segment] = []
    for start, end in pairwise(cuts):
        covering = [(code, weight) for s, e, code, weight in spans if s <= start and end <= e]
        codes = tuple(dict.fromkeys(code for code, _ in covering))
        title = "; ".join(
            f"{REASON_LABELS.get(code, code)}" + (f" (weight {weight:.2f})" if weight else "")
            for code, weight in covering
        )
        piece = body[start:end]
        if segments and segments[-1].codes == codes and not codes:
            segments[-1] = Segment(segments[-1].text + piece)
        else:
            segments.append(Segment(piece, codes, title))
    return segments


def when(stamp: str | None, style: str = "%-d %b %Y, %H:%M UTC") -> str:
    """'26 Nov 2026, 23:12 UTC' (or another strftime `style`) from a stored ISO timestamp."""
    if not stamp:
        return ""
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return stamp
    return moment.strftime(style)


def _reason_rows(reasons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for reason in reasons:
        code = str(reason.get("code", ""))
        score = reason.get("score")
        if score is None:
            detail = ""
        elif code in ("spam", "abuse"):
            detail = f"{float(score):.2f}"
        elif code == "links":
            detail = f"{int(score)} links"
        elif code == "duplicate":
            detail = f"{int(score)} authors"
        elif code == "burst":
            detail = f"{int(score)} articles"
        else:
            detail = str(score)
        # Rules about the author say what they matched: the listed entry, the record, the moderator's reason.
        author_detail = str(reason.get("detail") or "")
        linked = author_detail if code == "linked_author" and author_detail else None
        if code == "unsupported_language":
            author_detail = language_label(author_detail)
        if author_detail and not linked and not detail:
            detail = author_detail
        words = list(dict.fromkeys(str(w.get("text", "")) for w in reason.get("words") or [] if w.get("text")))
        signals = [f"{SIGNAL_DESCRIPTIONS.get(str(s.get('code')), s.get('code'))}: {s.get('text', '')}"
                   for s in reason.get("signals") or []]
        rows.append({"code": code, "label": REASON_LABELS.get(code, code), "detail": detail, "words": words,
                     "signals": signals,
                     "linked": url_for("console.author", author_key=linked) if linked else None})
    return rows


def standing_badge(standing: dict[str, Any]) -> dict[str, str] | None:
    """The badge an author's standing shows beside their name (None for normal): state, label, why."""
    state = str(standing.get("state") or "normal")
    if state == "normal":
        return None
    label = STANDING_LABELS.get(state, state)
    if state == "suspended" and standing.get("until"):
        label = f"Suspended until {when(standing.get('until'), '%-d %b %Y, %H:%M UTC')}"
    elif state == "premoderated" and standing.get("automatic"):
        label = "Premoderated: record"
    return {"state": state, "label": label, "why": str(standing.get("reason") or "")}


def record_text(record: dict[str, Any] | None) -> str:
    """'1 rejected, 2 approved in 30 days': what moderators decided within the reputation window."""
    if not record or not record.get("window_days"):
        return ""
    days = int(record["window_days"])
    span = "in the last day" if days == 1 else f"in {days} days"
    approved, rejected = int(record.get("approved") or 0), int(record.get("rejected") or 0)
    if not approved and not rejected:
        return f"no decisions {span}"
    return f"{rejected} rejected, {approved} approved {span}"


def present(item: dict[str, Any], me: str) -> dict[str, Any]:
    """A review item with what the templates show: highlighted text, reasons, claim and times."""
    holder = item.get("claimed_by")
    author = item.get("author") or {}
    return {
        **item,
        "standing_badge": standing_badge(author.get("standing") or {}),
        "record_text": record_text(author.get("record")),
        "segments": highlight(item.get("body", ""), item.get("reasons") or []),
        "reason_rows": _reason_rows(item.get("reasons") or []),
        "created_display": when(item.get("created_at")),
        "language_label": language_label(str(item.get("language") or "")),
        "claim_state": None if not holder else ("mine" if holder == me else "other"),
        "claim_until": when(item.get("claim_expires_at"), "%H:%M UTC"),
        "report_rows": [(k, v) for k, v in (item.get("reports") or {}).items() if k != "total" and v],
    }


def _items(records: list[dict[str, str]]) -> list[dict[str, Any]]:
    me = g.moderator.name
    return [present(item, me) for item in review_items(services().store, records)]


def _counts() -> dict[str, int]:
    queues: dict[str, int] = services().store.stats()["queues"]
    return queues


def _language_choices(counters: dict[str, int], chosen: str | None) -> list[tuple[str, str]]:
    """The queue filter's languages: the model's, then the others comments came in (from the stats), by name."""
    seen = {name.split(":")[1] for name in counters if name.startswith("language:")}
    others = sorted((seen | ({chosen} if chosen else set())) - set(SUPPORTED_LANGUAGES), key=language_label)
    return [(code, language_label(code)) for code in (*SUPPORTED_LANGUAGES, *others)]


def _dsa_counts() -> dict[str, int]:
    """Open notices and appeals, for the top bar."""
    s = services()
    pipe = s.redis.pipeline(transaction=False)
    for name in ("notices", "appeals"):
        pipe.zcard(s.store.keys.queue(name))
    notices, appeals = pipe.execute()
    return {"notices": int(notices), "appeals": int(appeals)}


def _batch_ids() -> list[str]:
    ids = session.get("batch")
    return [i for i in ids if isinstance(i, str) and is_comment_id(i)] if isinstance(ids, list) else []


# -- sign-in -----------------------------------------------------------------------------------


@bp.get("/login")
def login() -> Any:
    if _signed_in() is not None:
        return redirect(_safe_next(request.args.get("next"), url_for("console.queue")), 303)
    csrf_token()
    return render_template("console/login.html", next=request.args.get("next", ""))


@bp.post("/login")
@limiter.limit(SIGN_IN_LIMITS, key_func=client_ip)
def sign_in() -> Any:
    target = _safe_next(request.form.get("next"), url_for("console.queue"))
    if not _csrf_ok():
        flash("The sign-in form expired; please try again.", "error")
        return redirect(url_for("console.login", next=target), 303)
    moderator = services().moderators.authenticate(request.form.get("token", "").strip())
    if moderator is None:
        csrf_token()
        return render_template(
            "console/login.html", next=target, error="That token is not valid, or has been revoked."
        ), 401
    # A fresh session on every sign-in: nothing carried over from before, a new CSRF token.
    session.clear()
    session["moderator"] = moderator.name
    session["token_issued"] = moderator.created_at
    session["signed_in_at"] = int(time.time())
    csrf_token()
    return redirect(target, 303)


@bp.post("/logout")
def sign_out() -> Any:
    session.clear()
    csrf_token()
    flash("You are signed out.", "success")
    return redirect(url_for("console.login"), 303)


# -- the queue ---------------------------------------------------------------------------------


@bp.get("/")
def queue() -> Any:
    name = request.args.get("queue", "pending")
    if name not in QUEUES:
        abort(400, f"The queue must be one of {', '.join(QUEUES)}.")
    reason = request.args.get("reason") or None
    if reason is not None and reason not in REASON_LABELS:
        abort(400, "Unknown reason.")
    typed = (request.args.get("article") or "").strip() or None
    article = article_id_or_none(typed)
    problems = []
    if typed is not None and article is None:
        problems.append("An article id is printable text (a slug, a page path or a URL) of at most 2,048 characters.")
    language = request.args.get("language") or None
    if language is not None:
        try:
            language = language_code(language)
        except ValueError:
            abort(400, "Unknown language.")
    sort = request.args.get("sort") or "arrival"
    if sort not in SORT_LABELS:
        abort(400, "Unknown order.")
    if name not in SCORED_QUEUES:
        sort = "arrival"  # the other queues hold decided comments: oldest first only
    cursor = request.args.get("cursor") or None
    if cursor is not None and not (UNCERTAIN_CURSOR.match(cursor) if sort == "uncertain" else is_comment_id(cursor)):
        cursor = None
    records, next_cursor = services().store.queue_page(
        name, cursor, PAGE_SIZE, article_id=article, reason=reason, language=language,
        sort=sort, policy=services().policies.load() if sort == "uncertain" else None,
    )
    filters = {"queue": name, "reason": reason or "", "language": language or "", "article": article or "",
               "sort": sort if sort != "arrival" else ""}
    stats = services().store.stats()
    return render_template(
        "console/queue.html",
        view="queue",
        queue=name,
        filters=filters,
        filter_problems=problems,
        items=_items(records),
        counts=stats["queues"],
        language_choices=_language_choices(stats["counters"], language),
        batch_count=len(_batch_ids()),
        next_url=queue_url(**filters, cursor=next_cursor or "") if next_cursor else None,
        first_url=queue_url(**filters) if cursor else None,
        here=request.full_path.rstrip("?"),
    )


@bp.get("/batch")
def batch() -> Any:
    """The items this moderator claimed and still holds, in the order they were claimed."""
    items = [item for item in _items(services().store.get_many(_batch_ids())) if item["claim_state"] == "mine"]
    return render_template(
        "console/queue.html",
        view="batch",
        queue=session.get("batch_queue", "pending"),
        filters={"queue": session.get("batch_queue", "pending"), "reason": "", "language": "", "article": "",
                 "sort": session.get("batch_sort", "")},
        filter_problems=[],
        items=items,
        counts=_counts(),
        batch_count=len(items),
        next_url=None,
        first_url=None,
        here=url_for("console.batch"),
    )


@bp.post("/claim")
def claim() -> Any:
    name = request.form.get("queue", "pending")
    if name not in CLAIMABLE:
        abort(400, "Only the pending and reported queues can be claimed.")
    try:
        limit = int(request.form.get("limit", "10"))
    except ValueError:
        limit = 10
    limit = min(max(limit, 1), max(BATCH_SIZES))
    sort = request.form.get("sort") or "arrival"
    if sort not in SORT_LABELS:
        abort(400, "Unknown order.")
    lease = int(current_app.config["LEASE_SECONDS"])
    policy = services().policies.load() if sort == "uncertain" else None
    ids = services().store.claim(g.moderator.name, name, limit, lease, sort=sort, policy=policy)
    session["batch"] = ids
    session["batch_queue"] = name
    session["batch_sort"] = sort if sort != "arrival" else ""
    if ids:
        until = datetime.fromtimestamp(time.time() + lease, UTC).strftime("%H:%M UTC")
        flash(f"You claimed {len(ids)} comment{'s' if len(ids) != 1 else ''} until {until}.", "success")
    else:
        flash(f"No unclaimed comments are left in the {QUEUE_LABELS[name].lower()} queue.", "info")
    return redirect(url_for("console.batch"), 303)


# -- decisions ---------------------------------------------------------------------------------


def _excerpt(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _conflict_message(comment_id: str, why: str) -> str:
    current = services().store.get(comment_id) or {}
    by = current.get("decided_by") or ""
    if why == "claimed":
        holder = current.get("claimed_by") or "Another moderator"
        return f"{holder} holds this comment right now; it is theirs to decide until their claim expires."
    if by and by != g.moderator.name:
        outcome = {"published": "approved", "rejected": "rejected"}.get(current.get("status", ""), "decided")
        return f"{CONFLICT_DECIDED} {by} {outcome} it."
    if why == "decided":
        return CONFLICT_DECIDED
    return "This comment changed since the page was loaded; here is how it stands now."


def _apply(comment_id: str, decision: DecisionIn) -> tuple[str, str]:
    """Decide one comment through the store: ("done" | "conflict" | "missing" | "invalid", message)."""
    store = services().store
    policy = services().policies.current(1.0)
    ground = decision.ground if decision.action == "reject" else None
    if ground is not None and policy.term(ground) is None:
        return "invalid", "That ground is not one of the policy's terms; nothing was changed."
    try:
        decided = store.decide(
            comment_id, g.moderator.name, decision.action, decision.reason, decision.note, decision.version,
            policy=policy, ground=ground,
        )
    except NotFound:
        return "missing", "That comment no longer exists."
    except Conflict as conflict:
        return "conflict", _conflict_message(comment_id, conflict.why)
    record = store.get(decided.id) or {}
    verb = "Approved" if decision.action == "approve" else f"Rejected ({REJECT_LABELS.get(decision.reason or '')})"
    term = policy.term(ground)
    if term is not None:
        verb += f" under “{term.title}”"
    return "done", f"{verb}: “{_excerpt(record.get('body', ''))}” by {record.get('name', '')}."


def _decision_from_form(version: str | None) -> DecisionIn | str:
    data: dict[str, Any] = {"action": request.form.get("action", "")}
    if data["action"] == "reject":
        data["reason"] = request.form.get("reason") or None
        data["ground"] = request.form.get("ground") or None
    if request.form.get("note", "").strip():
        data["note"] = request.form["note"]
    if version:
        try:
            data["version"] = int(version)
        except ValueError:
            return "The form is out of date; reload the page."
    try:
        return DecisionIn.model_validate(data)
    except ValidationError as error:
        fields = {str(e["loc"][0]) if e["loc"] else "" for e in error.errors()}
        if "reason" in fields:
            return "Choose a reason to reject."
        if "ground" in fields:
            return "That ground is not one of the policy's terms; nothing was changed."
        return "Choose approve or reject."


def _back(fallback: str) -> str:
    return _safe_next(request.form.get("back"), fallback)


def _with_fragment(url: str, comment_id: str | None) -> str:
    return url + (f"#c-{comment_id}" if comment_id and is_comment_id(comment_id) else "")


@bp.post("/comments/<comment_id>/decision")
def decide(comment_id: str) -> Any:
    if not is_comment_id(comment_id):
        abort(404, "No comment with this id.")
    back = _back(url_for("console.queue"))
    decision = _decision_from_form(request.form.get("version"))
    if isinstance(decision, str):
        flash(decision, "error")
        return redirect(_with_fragment(back, comment_id), 303)
    outcome, message = _apply(comment_id, decision)
    if outcome == "done":
        flash(message, "success")
    elif outcome == "invalid":
        flash(message, "error")
    else:
        flash(message, "conflict")
        if outcome == "conflict":
            session["conflict_on"] = comment_id
    return redirect(_with_fragment(back, request.form.get("next") if outcome == "done" else comment_id), 303)


@bp.post("/decisions")
def decide_many() -> Any:
    back = _back(url_for("console.queue"))
    chosen = request.form.getlist("items")
    if not chosen:
        flash("Select at least one comment first.", "error")
        return redirect(back, 303)
    if len(chosen) > 200:
        abort(400, "At most 200 comments at once.")
    done, failed = 0, []
    for value in chosen:
        comment_id, _, version = value.partition(":")
        decision = _decision_from_form(version)
        if isinstance(decision, str):
            flash(decision, "error")
            return redirect(back, 303)
        if not is_comment_id(comment_id):
            continue
        outcome, message = _apply(comment_id, decision)
        if outcome == "invalid":
            flash(message, "error")
            return redirect(back, 303)
        if outcome == "done":
            done += 1
        else:
            failed.append(message)
    verb = "Approved" if request.form.get("action") == "approve" else "Rejected"
    if done:
        flash(f"{verb} {done} comment{'s' if done != 1 else ''}.", "success")
    for message in dict.fromkeys(failed):
        count = failed.count(message)
        flash(f"{count} not changed: {message}" if count > 1 else message, "conflict")
    return redirect(back, 303)


# -- one comment, one author -------------------------------------------------------------------


def _event_rows(comment_id: str) -> list[dict[str, Any]]:
    rows = []
    for fields in services().store.history(comment_id):
        details = {k: v for k, v in fields.items() if k not in ("event", "actor", "at") and v != ""}
        if fields.get("event", "").startswith("notice"):
            # A notice's codes in the words the notices page uses.
            if "legality" in details:
                details["legality"] = LEGALITY_LABELS.get(details["legality"], details["legality"])
            if "category" in details:
                details["category"] = category_label(details["category"])
        if "lease_expires_ms" in details:
            expires = datetime.fromtimestamp(int(details.pop("lease_expires_ms")) / 1000, UTC)
            details["lease until"] = expires.strftime("%H:%M:%S UTC")
        rows.append({
            "event": EVENT_LABELS.get(fields.get("event", ""), fields.get("event", "")),
            "actor": fields.get("actor", ""),
            "at": fields.get("at", ""),
            "at_display": when(fields.get("at")),
            "details": details,
        })
    return rows


@bp.get("/comments/<comment_id>")
def comment(comment_id: str) -> Any:
    store = services().store
    record = store.get(comment_id) if is_comment_id(comment_id) else None
    if record is None:
        abort(404, "No comment with this id.")
    parent = store.get(record["parent_id"]) if record.get("parent_id") else None
    items = _items([record] + ([parent] if parent else []))
    statement = statement_for(record, services().policies.current(1.0))
    return render_template(
        "console/comment.html",
        item=items[0],
        statement=_statement_view(statement.as_dict()) if statement else None,
        appeals=_appeals_of(record),
        parent=items[1] if parent else None,
        events=_event_rows(comment_id),
        counts=_counts(),
        batch_count=len(_batch_ids()),
        here=url_for("console.comment", comment_id=comment_id),
    )


def _identity(author_key: str) -> str:
    """The identity an author's standing and notes are kept under; 404 for a key nobody wrote under."""
    standings = services().standings
    if len(author_key) > 64 or not standings.known(author_key):
        abort(404, "No author with this key: no comments, standing or notes.")
    return standings.identity_of(author_key)


def _who(author_key: str) -> dict[str, str]:
    """The name and email the author last wrote under ('' once erased)."""
    records, _ = services().store.author_page(author_key, None, 1)
    first = records[0] if records else {}
    return {"name": first.get("name", ""), "email": first.get("email", "")}


def _standing_history(identity: str) -> list[dict[str, Any]]:
    rows = [{**event, "at_display": when(event.get("at")), "until_display": when(event.get("until"))}
            for event in services().standings.history(identity)]
    return rows[::-1]  # newest first: the page shows the current standing just above


def _author_context(author_key: str) -> dict[str, Any]:
    """What the author page and the ban confirmation show: who, standing, record, counts."""
    identity = _identity(author_key)
    who = _who(author_key)
    s = services()
    policy = s.policies.current(1.0)
    standing, record = s.standings.read_many({identity}, policy)[identity]
    summary = author_summary(s.store.author(author_key), standing, record)
    current = summary["standing"]
    return {
        "author_key": author_key,
        "identity": identity,
        "who": who,
        # No name: a standing set (from the command line) before they wrote anything.
        "display_name": who["name"] or "(no comments yet)",
        "history": {k: summary[k] for k in ("comments", "approved", "rejected")},
        "standing": {**current, "set_at_display": when(current.get("set_at")),
                     "until_display": when(current.get("until"))},
        "badge": standing_badge(current),
        "record": summary["record"],
        "record_text": record_text(summary["record"]),
        # A moderator may not lift what only an admin may set (change_standing refuses it anyway).
        "locked": current["state"] in ADMIN_STATES and not current["automatic"] and not g.moderator.is_admin,
        "counts": _counts(),
        "batch_count": len(_batch_ids()),
    }


def _author_page(author_key: str, *, form: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                 status: int = 200) -> tuple[str, int]:
    context = _author_context(author_key)
    cursor = request.args.get("cursor") or None
    if cursor is not None and not is_comment_id(cursor):
        cursor = None
    records, next_cursor = services().store.author_page(author_key, cursor, PAGE_SIZE)
    here = url_for("console.author", author_key=author_key, cursor=cursor) if cursor else \
        url_for("console.author", author_key=author_key)
    return render_template(
        "console/author.html",
        **context,
        notes=[{**note, "at_display": when(note.get("at"))} for note in services().notes.of(context["identity"])],
        standing_history=_standing_history(context["identity"]),
        states=[(state, STANDING_LABELS[state], STANDING_HINTS[state]) for state in STANDING_CHOICES],
        admin_states=ADMIN_STATES,
        suspension_days=SUSPENSION_DAYS,
        form=form or {},
        errors=errors or {},
        items=_items(records),
        next_url=url_for("console.author", author_key=author_key, cursor=next_cursor) if next_cursor else None,
        here=here,
    ), status


@bp.get("/authors/<author_key>")
def author(author_key: str) -> Any:
    return _author_page(author_key)


def _pending_of(author_key: str) -> list[dict[str, str]]:
    """The author's pending comments (what a ban with reject_pending rejects), oldest first."""
    store = services().store
    found: list[dict[str, str]] = []
    cursor: str | None = None
    for _ in range(10):  # at most 2,000 comments read: a ban page must not hang on a flood
        records, cursor = store.author_page(author_key, cursor, 200)
        found += [record for record in records if record.get("status") == "pending"]
        if not cursor:
            break
    return found


def _ban_page(author_key: str, *, form: dict[str, str] | None = None, errors: dict[str, str] | None = None,
              status: int = 200) -> tuple[str, int]:
    if not g.moderator.is_admin:
        abort(403, "Only an admin may ban an author.")
    context = _author_context(author_key)
    pending = _pending_of(author_key)
    back = _safe_next((form or {}).get("back") or request.args.get("back"),
                      url_for("console.author", author_key=author_key))
    return render_template(
        "console/ban.html",
        **context,
        pending=[{**record, "excerpt": _excerpt(record.get("body", ""), 120),
                  "created_display": when(record.get("created_at"))} for record in pending[:PENDING_SHOWN]],
        pending_count=len(pending),
        back=back,
        form=form or {},
        errors=errors or {},
    ), status


@bp.get("/authors/<author_key>/ban")
def ban(author_key: str) -> Any:
    """The confirmation of "ban and reject all pending": a page, so it needs no script and no dialog."""
    return _ban_page(author_key)


# Form fields that may carry an error, by the StandingIn field pydantic names.
_FIELD_OF = {"state": "state", "reason": "reason", "message": "message", "note": "note", "version": "state"}
_FIELD_ERRORS = {
    "state": "Choose a standing.",
    "reason": "Give a reason: moderators read it in the standing's history.",
}


def _until(form: dict[str, str]) -> tuple[str | None, str | None, str]:
    """A suspension's end from the form ('until_date', else 'days' from now): (ISO time, error, field)."""
    typed = form.get("until_date", "").strip()
    if typed:
        try:
            day = date.fromisoformat(typed)
        except ValueError:
            return None, "Give the date as YYYY-MM-DD.", "until_date"
        # "Until 20 December" means they may post again from the start of that day.
        end = datetime(day.year, day.month, day.day, tzinfo=UTC)
        if end <= datetime.now(UTC):
            return None, "The date must be in the future.", "until_date"
        return end.strftime("%Y-%m-%dT%H:%M:%SZ"), None, "until_date"
    try:
        days = int(form.get("days", ""))
    except ValueError:
        return None, "Choose how long the suspension lasts.", "days"
    if days not in SUSPENSION_DAYS:
        return None, "Choose how long the suspension lasts.", "days"
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ"), None, "days"


def _standing_from_form(form: dict[str, str]) -> tuple[StandingIn | None, dict[str, str]]:
    """The change a standing form asks for, or the message for each field that is wrong."""
    state = form.get("state", "")
    data: dict[str, Any] = {"state": state, "reject_pending": form.get("reject_pending") == "1"}
    for name in ("reason", "message", "note"):
        if form.get(name, "").strip():
            data[name] = form[name]
    if form.get("version", "").isdigit():
        data["version"] = int(form["version"])
    errors: dict[str, str] = {}
    if state == "suspended":
        until, error, field = _until(form)
        if error:
            errors[field] = error
        data["until"] = until
    try:
        wanted = StandingIn.model_validate(data)
    except ValidationError as error:
        for problem in error.errors():
            name = str(problem["loc"][0]) if problem["loc"] else "state"
            if name == "until":
                continue  # _until said what is wrong with the date
            field = _FIELD_OF.get(name, "state")
            errors.setdefault(field, _FIELD_ERRORS.get(field) or str(problem["msg"]).removeprefix("Value error, "))
        return None, errors
    return (None, errors) if errors else (wanted, {})


def _standing_done(name: str, standing: dict[str, Any], rejected: int) -> str:
    who = name or "The author"
    state = str(standing.get("state"))
    if state == "suspended":
        now = f"suspended until {when(standing.get('until'))}"
    elif state == "normal":
        now = "back to normal"
    else:
        now = STANDING_LABELS.get(state, state).lower()
    done = f"{who} is {now}."
    if rejected:
        done += f" {rejected} pending comment{'s' if rejected != 1 else ''} rejected."
    return done


@bp.post("/authors/<author_key>/standing")
def set_standing(author_key: str) -> Any:
    _identity(author_key)
    form = {k: v for k, v in request.form.items() if k != "csrf_token"}
    from_ban = form.get("from") == "ban"
    page = _ban_page if from_ban else _author_page
    wanted, errors = _standing_from_form(form)
    if wanted is None:
        return page(author_key, form=form, errors=errors, status=422)
    reject_as = form.get("reject_as") or None
    try:
        changed = change_standing(author_key, wanted, reject_as=reject_as)
    except ProblemError as problem:
        if problem.status == 404:
            abort(404, problem.detail)
        if problem.status == 409:
            current = problem.extra.get("current") or {}
            flash(f"{problem.detail} It is {STANDING_LABELS.get(current.get('state', ''), 'unknown').lower()} "
                  "now; nothing was changed.", "conflict")
            return redirect(url_for("console.author", author_key=author_key) + "#standing", 303)
        flash(problem.detail or problem.title, "error")
        return redirect(url_for("console.author", author_key=author_key) + "#standing", 303)
    flash(_standing_done(_who(author_key)["name"], changed["standing"], changed["rejected_pending"]), "success")
    fallback = url_for("console.author", author_key=author_key)
    return redirect(_safe_next(form.get("back"), fallback) if from_ban else fallback, 303)


@bp.post("/authors/<author_key>/notes")
def add_note(author_key: str) -> Any:
    identity = _identity(author_key)
    text = request.form.get("text", "")
    try:
        checked = NoteIn.model_validate({"text": text}).text
    except ValidationError:
        error = "Write the note first." if not text.strip() else "A note is plain text of at most 2,000 characters."
        return _author_page(author_key, form={"note_text": text}, errors={"note_text": error}, status=422)
    try:
        services().notes.add(identity, checked, g.moderator.name)
    except TooManyNotes:
        flash("This author has as many notes as an author may have; delete one first.", "error")
    else:
        flash("Note added.", "success")
    return redirect(url_for("console.author", author_key=author_key) + "#notes", 303)


@bp.post("/authors/<author_key>/notes/<note_id>/delete")
def delete_note(author_key: str, note_id: str) -> Any:
    identity = _identity(author_key)
    if services().notes.delete(identity, note_id[:64]):
        flash("Note deleted.", "success")
    else:
        flash("That note was already deleted.", "info")
    return redirect(url_for("console.author", author_key=author_key) + "#notes", 303)


# -- the Digital Services Act: notices, appeals, statements, transparency -----------------------------


def _statement_view(statement: dict[str, Any]) -> dict[str, Any]:
    """A statement of reasons (as the author reads it) with its times in words."""
    appeal = statement["redress"]["appeal"]
    return {**statement, "decided_display": when(statement.get("decided_at")),
            "until_display": when(appeal.get("until")),
            "category_label": category_label(statement["category"])}


def _appeals_of(record: dict[str, str]) -> list[dict[str, Any]]:
    """The appeals on this comment's decisions: its author's, and its notice's notifier's."""
    appeals = services().appeals
    found = [appeals.of(record["id"], Appellant("author"))]
    if record.get("notice_id"):
        found.append(appeals.of(record["id"], Appellant("notifier", record["notice_id"])))
    return [{**appeal, "created_display": when(appeal.get("created_at")),
             "decided_display": when(appeal.get("decided_at"))} for appeal in found if appeal]


def _comment_view(comment_id: str, records: dict[str, dict[str, str]]) -> dict[str, Any] | None:
    """The compact comment a notice or appeal is about (its history page has the rest)."""
    record = records.get(comment_id)
    if record is None:
        return None
    return {"id": comment_id, "name": record.get("name", ""), "email": record.get("email", ""),
            "body": record.get("body", ""), "status": record.get("status", ""),
            "article_id": record.get("article_id", ""), "created_display": when(record.get("created_at")),
            "decided_by": record.get("decided_by", ""), "decision": record.get("decision", "")}


def _comments_of(items: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    ids = list(dict.fromkeys(item.get("comment_id", "") for item in items if item.get("comment_id")))
    return {record["id"]: record for record in services().store.get_many(ids) if record}


def _cursor() -> str | None:
    cursor = request.args.get("cursor") or None
    return cursor if cursor and len(cursor) <= 32 and cursor.isalnum() else None


def _problem_message(problem: ProblemError) -> str:
    """What a refused decision tells the moderator: each wrong field, else the problem's detail."""
    if problem.errors:
        return "Nothing was changed: " + "; ".join(f"{e.field} {e.detail}" for e in problem.errors) + "."
    return problem.detail or problem.title


@bp.get("/notices")
def notices() -> Any:
    """Open notices of illegal content (DSA Art. 16), trusted flaggers' first."""
    cursor = _cursor()
    found, more = services().notices.page(cursor, PAGE_SIZE)
    records = _comments_of(found)
    items = [{**notice, "created_display": when(notice.get("created_at")),
              "category_label": category_label(notice.get("category", "")),
              "comment": _comment_view(notice.get("comment_id", ""), records)} for notice in found]
    return render_template(
        "console/notices.html",
        view="notices",
        items=items,
        legality_labels=LEGALITY_LABELS,
        notice_actions=NOTICE_ACTIONS,
        counts=_counts(),
        batch_count=len(_batch_ids()),
        next_url=url_for("console.notices", cursor=more) if more else None,
        first_url=url_for("console.notices") if cursor else None,
    )


@bp.post("/notices/<notice_id>/decision")
def decide_notice(notice_id: str) -> Any:
    back = url_for("console.notices")
    form = request.form
    legality = form.get("legality", "")
    ground = {"illegal": form.get("law", ""), "incompatible_with_terms": form.get("term", "")}.get(legality, "")
    data: dict[str, Any] = {"legality": legality, "explanation": form.get("explanation", ""),
                            "action": form.get("action", "")}
    if ground.strip():
        data["ground"] = ground
    try:
        decided = apply_notice_decision(notice_id[:64], parse(NoticeDecisionIn, data))
    except ProblemError as problem:
        if problem.status == 409:
            current = problem.extra.get("current") or {}
            flash(f"{problem.detail} {current.get('decided_by') or 'Someone'} found it "
                  f"{LEGALITY_LABELS.get(current.get('legality') or '', 'decided').lower()} and chose to "
                  f"{current.get('action') or 'act'}; nothing was changed.", "conflict")
            if is_comment_id(current.get("comment_id") or ""):
                session["conflict_on"] = current["comment_id"]
        else:
            flash(_problem_message(problem), "error")
        return redirect(back + f"#n-{notice_id[:64]}", 303)
    verb = "removed" if decided.get("action") == "remove" else "kept"
    flash(f"Notice decided: {LEGALITY_LABELS.get(decided.get('legality') or '', '').lower()}; the comment is "
          f"{verb}.", "success")
    return redirect(back, 303)


@bp.get("/appeals")
def appeals() -> Any:
    """Open appeals against decisions (DSA Art. 20), oldest first."""
    cursor = _cursor()
    found, more = services().appeals.page(cursor, PAGE_SIZE)
    records = _comments_of(found)
    notices_store = services().notices
    items = []
    for appeal in found:
        notice = notices_store.get(appeal.get("notice_id", "")) if appeal.get("notice_id") else None
        items.append({
            **appeal,
            "created_display": when(appeal.get("created_at")),
            "notice": notice,
            "comment": _comment_view(appeal.get("comment_id", ""), records),
            # Art. 20(6): not the person who made the decision; the server refuses it anyway (403).
            "own": appeal.get("original_by") == g.moderator.name,
        })
    return render_template(
        "console/appeals.html",
        view="appeals",
        items=items,
        outcome_labels=OUTCOME_LABELS,
        decision_labels=DECISION_LABELS,
        legality_labels=LEGALITY_LABELS,
        counts=_counts(),
        batch_count=len(_batch_ids()),
        next_url=url_for("console.appeals", cursor=more) if more else None,
        first_url=url_for("console.appeals") if cursor else None,
    )


@bp.post("/appeals/<appeal_id>/decision")
def decide_appeal(appeal_id: str) -> Any:
    back = url_for("console.appeals")
    data = {"outcome": request.form.get("outcome", ""), "explanation": request.form.get("explanation", "")}
    try:
        decided = apply_appeal_decision(appeal_id[:64], parse(AppealDecisionIn, data))
    except ProblemError as problem:
        if problem.status == 409:
            current = problem.extra.get("current") or {}
            flash(f"{problem.detail} {current.get('decided_by') or 'Someone'} {current.get('outcome') or 'decided'} "
                  "it; nothing was changed.", "conflict")
            if is_comment_id(current.get("comment_id") or ""):
                session["conflict_on"] = current["comment_id"]
        else:
            flash(_problem_message(problem), "error")
        return redirect(back + f"#a-{appeal_id[:64]}", 303)
    done = "the decision stands" if decided.get("outcome") == "upheld" else "the decision is undone"
    flash(f"Appeal {decided.get('outcome')}: {done}.", "success")
    return redirect(back, 303)


@bp.get("/transparency")
def transparency() -> Any:
    """The transparency report's counts (DSA Art. 15, 24) for admins, and the same as CSV."""
    if not g.moderator.is_admin:
        abort(403, "The transparency report is for admins.")
    try:
        found = transparency_report()
    except ProblemError as problem:
        abort(422, _problem_message(problem))
    if request.args.get("format") == "csv":
        return transparency_csv(found)
    return render_template(
        "console/transparency.html",
        view="transparency",
        report=found,
        category_label=category_label,
        legality_labels=LEGALITY_LABELS,
        csv_url=url_for("console.transparency", **{"from": found["from"], "to": found["to"], "format": "csv"}),
        counts=_counts(),
        batch_count=len(_batch_ids()),
    )


# -- the model (admins) ----------------------------------------------------------------------------


VERDICT_LABELS = {
    "promoted": "Promoted",
    "shadow": "Kept in shadow",
    "unchanged": "Unchanged",
    "skipped": "Skipped",
    "failed": "Failed",
}


def _admins_only() -> None:
    if not g.moderator.is_admin:
        abort(403, "The model page is for admins.")


def _version_rows(registry: ModelRegistry) -> list[dict[str, Any]]:
    rows = []
    for entry in reversed(registry.versions()):
        try:
            metadata = registry.metadata(entry["version"])
        except UnknownModel:
            continue
        adapted = bool(metadata.get("base"))
        rows.append({
            **entry,
            "registered_display": when(entry.get("registered_at")),
            "kind": f"{metadata.get('base')} adapted to this site's decisions" if adapted else metadata.get("name", ""),
            "decisions": metadata.get("decisions") if adapted else None,
        })
    return rows


@bp.get("/model")
def model() -> Any:
    _admins_only()
    found = services()
    registry = found.registry
    live, shadow = registry.pointers()
    recorded = learning.runs(found.redis, found.store.keys, 50)
    history = [entry for entry in found.policies.audit(200) if entry.get("event", "").startswith("model_")][:10]
    return render_template(
        "console/model.html",
        view="model",
        shipped=found.models.shipped.version,
        live=live,
        shadow=shadow,
        previous=registry.previous() if live else None,
        versions=_version_rows(registry),
        runs=[{**run, "at_display": when(run.get("at")), "verdict_label": VERDICT_LABELS.get(run["verdict"],
               run["verdict"])} for run in recorded],
        curve=learning_plot(learning.learning_curve(recorded)),
        history=[{**entry, "at_display": when(entry.get("at"))} for entry in history],
        counts=_counts(),
        batch_count=len(_batch_ids()),
    )


@bp.post("/model/promote")
def promote_model() -> Any:
    _admins_only()
    version = request.form.get("version", "")
    try:
        services().registry.promote(version, g.moderator.name)
    except UnknownModel:
        flash("No registered model has that version.", "error")
    else:
        flash(f"{version} is live; every server switches to it within seconds.", "success")
    return redirect(url_for("console.model"), 303)


@bp.post("/model/rollback")
def rollback_model() -> Any:
    _admins_only()
    target = services().registry.rollback(g.moderator.name)
    flash(f"Rolled back: {target or 'the shipped model'} is live again; every server switches within seconds.",
          "success")
    return redirect(url_for("console.model"), 303)


def queue_url(**filters: str) -> str:
    """A queue link keeping only the filters that are set."""
    query = {k: v for k, v in filters.items() if v}
    return url_for("console.queue") + ("?" + urlencode(query) if query else "")


bp.add_app_template_global(queue_url, "console_queue_url")
