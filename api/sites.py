"""A site's own server (the WordPress plugin) calling with its API key: readers' origins, decisions, privacy.

A key from `moderation api-keys` in `X-Api-Key` makes a request a site's: its comments may carry the
reader's `ip`, `user_agent` and `referer` (the site's server posts on the reader's behalf), its answer
tells the true status with the reasons and scores, and the site may decide the comments it sent on
behalf of one of its own users (`X-Acting-User`), and export or erase an author's data by email.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from api.auth import bearer_moderator
from api.inputs import parse, raw_input
from api.problems import ProblemError, invalid
from api.services import services
from moderation.api_keys import ApiKey
from moderation.comments import Origin, author_key
from moderation.intake import Receipt
from moderation.moderators import Moderator
from moderation.policy import language_code
from moderation.schemas import AuthorEmailIn, FieldError, is_comment_id

bp = Blueprint("sites", __name__, url_prefix="/v1")

ORIGIN_FIELDS = ("ip", "user_agent", "referer")
# The same caps as for the request's own headers (see api.public.post_comment).
ORIGIN_LIMITS = {"user_agent": 500, "referer": 1000}
# The comment's record keeps the name of the key that sent it: a site decides only its own comments.
SITE_FIELD = "site"
# A WordPress login: letters, digits, spaces and `_ . - @` (sanitize_user's strict set), up to 60.
ACTING_USER = re.compile(r"^[A-Za-z0-9 _.@-]{1,60}$")
EXPORT_PAGE = 100


def _unauthorized(detail: str) -> ProblemError:
    return ProblemError(401, "Unauthorized", detail, headers={"WWW-Authenticate": 'ApiKey header="X-Api-Key"'})


def site_key() -> ApiKey | None:
    """The site whose key the request carries; None without `X-Api-Key`, 401 for a key that is not live."""
    key = request.environ.get("HTTP_X_API_KEY")
    if key is None:
        return None
    site = services().api_keys.authenticate(key.strip())
    if site is None:
        raise _unauthorized("This X-Api-Key is not a live key from `moderation api-keys`.")
    return site


def take_origin(data: dict[str, Any], site: ApiKey | None) -> Origin | None:
    """Pop the reader's origin fields from `data`: None when none came, 422 naming each without a key."""
    sent = {name: data.pop(name) for name in ORIGIN_FIELDS if name in data}
    if not sent:
        return None
    if site is None:
        raise invalid([FieldError(
            field=name, pointer=f"#/{name}",
            detail="only a site's server may send it, with its key in X-Api-Key",
        ) for name in sent])
    errors = []
    for name, value in sent.items():
        if not isinstance(value, str):
            errors.append(FieldError(field=name, pointer=f"#/{name}", detail="must be a string"))
    ip = sent.get("ip", "")
    if isinstance(ip, str) and ip:
        try:
            ip = str(ipaddress.ip_address(ip.strip()))
        except ValueError:
            errors.append(FieldError(field="ip", pointer="#/ip", detail="must be an IPv4 or IPv6 address"))
    if errors:
        raise invalid(errors)
    return Origin(
        ip=str(ip),
        user_agent=str(sent.get("user_agent", ""))[: ORIGIN_LIMITS["user_agent"]],
        referer=str(sent.get("referer", ""))[: ORIGIN_LIMITS["referer"]],
    )


def take_language(data: dict[str, Any], site: ApiKey | None) -> str | None:
    """Pop the page's `language` from `data` (its ISO 639-1 code): 422 naming it without a key or when it names none.

    Only a site's server may send it: it is the fallback for a comment too short to tell, and a language
    the model does not know takes the abuse score out of the decision, so a reader must not choose it.
    """
    if "language" not in data:
        return None
    sent = data.pop("language")
    if site is None:
        detail = "only a site's server may send it, with its key in X-Api-Key"
    elif not isinstance(sent, str):
        detail = "must be a string"
    elif not sent.strip():
        return None
    else:
        try:
            return language_code(sent)
        except ValueError as error:
            detail = str(error)
    raise invalid([FieldError(field="language", pointer="#/language", detail=detail)])


def site_fields(site: ApiKey | None) -> dict[str, str] | None:
    """What a keyed comment's record keeps of the site that sent it."""
    return {SITE_FIELD: site.name} if site is not None else None


def keyed_receipt(receipt: Receipt) -> dict[str, Any]:
    """The 201's extra fields for a site: the true status, the reasons, the scores and the comment's language."""
    scores = None if receipt.spam is None else {"spam": round(receipt.spam, 4), "abuse": round(receipt.abuse or 0, 4)}
    return {"status": receipt.decision or receipt.status, "reasons": list(receipt.reasons), "scores": scores,
            "language": receipt.language}


def moderator_or_site(view: Callable[..., Any]) -> Callable[..., Any]:
    """A moderator's bearer token, or a site's key deciding its own comment for one of its users.

    The site's decision is recorded as a human one by `wordpress:<login>@<key name>` (the login from
    `X-Acting-User`), so the audit trail names the person and learning takes it like a moderator's.
    """

    @wraps(view)
    def guarded(comment_id: str, *args: Any, **kwargs: Any) -> Any:
        if request.headers.get("Authorization") or "HTTP_X_API_KEY" not in request.environ:
            return view(comment_id, *args, **kwargs)
        site = site_key()
        assert site is not None
        login = request.headers.get("X-Acting-User", "").strip()
        if not ACTING_USER.match(login):
            raise ProblemError(400, "Bad Request",
                               "X-Acting-User must name the site's user who decided (1-60 letters, digits, ' _.@-').")
        record = services().store.get(comment_id) if is_comment_id(comment_id) else None
        if record is None or record.get(SITE_FIELD) != site.name:
            raise ProblemError(404, "Not Found", "No comment with this id from this site.")
        g.moderator = Moderator(f"wordpress:{login}@{site.name}", "moderator", site.created_at)
        return view.__wrapped__(comment_id, *args, **kwargs)  # type: ignore[attr-defined]

    return guarded


def _site_or_admin() -> str:
    """Who asks: a site's key or an admin's token (401 otherwise); the name the audit trail keeps."""
    site = site_key()
    if site is not None:
        return f"site:{site.name}"
    moderator = bearer_moderator()
    if moderator is None:
        raise _unauthorized("Send the site's key as X-Api-Key, or an admin's token as 'Authorization: Bearer'.")
    if not moderator.is_admin:
        raise ProblemError(403, "Forbidden", "This needs the admin role.")
    return moderator.name


def _key_of(email: str) -> str:
    return author_key(services().intake.secret, email)


@bp.post("/authors/exports")
def export_author() -> Response:
    """An author's comments with every personal field, by email (a privacy request's export), paginated."""
    _site_or_admin()
    who = parse(AuthorEmailIn, raw_input())
    cursor = request.args.get("cursor") or None
    if cursor is not None and not is_comment_id(cursor):
        raise invalid([FieldError(field="cursor", pointer="?cursor", detail="is not a cursor from this API")])
    key = _key_of(who.email)
    records, next_cursor = services().store.author_page(key, cursor, EXPORT_PAGE)
    fields = ("id", "article_id", "parent_id", "name", "email", "website", "body", "ip", "user_agent",
              "referer", "created_at", "status")
    comments = [{name: record.get(name, "") for name in fields} for record in records]
    return jsonify(author_key=key, comments=comments, next_cursor=next_cursor)


@bp.post("/authors/erasures")
def erase_author_by_email() -> tuple[Response, int]:
    """Erase an author's personal data by email, as `DELETE /v1/authors/<author_key>` does."""
    actor = _site_or_admin()
    who = parse(AuthorEmailIn, raw_input())
    key = _key_of(who.email)
    erased = services().store.erase_author(key, actor)
    return jsonify(author_key=key, comments_erased=erased), 200
