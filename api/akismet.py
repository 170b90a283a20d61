"""Akismet's protocol, so software that speaks it (WordPress's plugin, Django and other clients) can check comments
here: comment-check, submit-spam, submit-ham and verify-key, answered in Akismet's words (see moderation/akismet.py).

Akismet answers every request with 200 and a short text/plain body; what went wrong is in `X-akismet-debug-help`.
Nothing of a checked comment is stored (only metrics count it); submitted spam and ham become decisions that
`moderation train --decisions` and `moderation learn` read.
"""

from __future__ import annotations

import codecs
import re
import time
import uuid
from urllib.parse import parse_qsl

from flask import Blueprint, Response, g, request
from werkzeug.exceptions import TooManyRequests

from api import metrics
from api.limits import api_key_limits, limited, limiter
from api.problems import ProblemError
from api.services import services
from moderation.akismet import (
    THANKS,
    Submission,
    feedback,
    is_blog_url,
    missing,
    preset,
    verdict,
)
from moderation.api_keys import ApiKey
from moderation.authors.identity import identity_key
from moderation.authors.standing import NORMAL, Standing
from moderation.decisions import store_imported
from moderation.intake import assess
from moderation.policy import Policy

bp = Blueprint("akismet", __name__, url_prefix="/1.1")

# WordPress's plugin can send the key as the first label of the host (`KEY.rest.akismet.com`); only a key made
# with `moderation api-keys add NAME --akismet` (12 lower-case letters and digits) can travel that way.
_HOST_KEY = re.compile(r"^[a-z0-9]{12}$")
_MAX_FIELDS = 1000  # WordPress adds its server variables; far fewer than this


def _answer(body: str, debug_help: str | None = None) -> Response:
    response = Response(body, mimetype="text/plain")
    if debug_help:
        response.headers["X-akismet-debug-help"] = debug_help
    return response


def _fields() -> dict[str, str]:
    """The query string's fields, then the form's, decoded with the charset the client names (WordPress sends the
    blog's); any other body is refused."""
    if "akismet_fields" in g:
        fields: dict[str, str] = g.akismet_fields
        return fields
    fields = dict(request.args.items())
    mimetype = request.mimetype
    if mimetype == "application/x-www-form-urlencoded":
        charset = request.mimetype_params.get("charset", "utf-8")
        try:
            codecs.lookup(charset)
        except LookupError:
            charset = "utf-8"
        raw = request.get_data(cache=True).decode(charset, "replace")
        try:
            fields.update(parse_qsl(raw, keep_blank_values=True, encoding=charset, errors="replace",
                                    max_num_fields=_MAX_FIELDS))
        except ValueError:
            raise ProblemError(400, "Bad Request", f"More than {_MAX_FIELDS} form fields.") from None
    elif mimetype == "multipart/form-data":
        fields.update(request.form.items())
    elif request.content_length:
        raise ProblemError(415, "Unsupported Media Type", "Send application/x-www-form-urlencoded, as Akismet takes.")
    g.akismet_fields = fields
    return fields


def _given_key() -> str:
    """The key as clients send it: `api_key` (or verify-key's `key`) in the form or query, else the host's first
    label. For verify-key `key` comes first: WordPress sends the key to verify there and its stored one as api_key."""
    fields = _fields()
    names = ("key", "api_key") if request.path.endswith("/verify-key") else ("api_key", "key")
    for name in names:
        value = fields.get(name, "").strip()
        if value:
            return value
    host = request.host.rsplit(":", 1)[0].lower()
    label, _, rest = host.partition(".")
    return label if "." in rest and _HOST_KEY.match(label) else ""


def _caller() -> ApiKey | None:
    """The owner of the request's key, looked up once per request (the rate limit asks too)."""
    if "akismet_caller" not in g:
        key = _given_key()
        g.akismet_caller = services().api_keys.authenticate(key) if key else None
    caller: ApiKey | None = g.akismet_caller
    return caller


def _limit_key() -> str:
    # An unknown key is answered `invalid` and counted nowhere: Flask-Limiter skips a limit whose key is empty.
    caller = _caller()
    return "api-key:" + caller.name if caller else ""


# Each Akismet method counts on its own, per key (the Perspective methods share one count).
per_key = limited(limiter.limit(api_key_limits, key_func=_limit_key), setting="API_KEY_RATE_LIMITS")


def _refused() -> Response | None:
    """Akismet's answer to a request it would not act on, in Akismet's order: the key, then the fields."""
    if not _given_key():
        return _answer("invalid", 'Empty "api_key" value')
    if _caller() is None:
        return _answer("invalid", "Invalid key")
    fields = _fields()
    absent = missing(fields)
    if absent == "blog":
        return _answer("Missing required field: blog.", 'Empty "blog" value')
    if not is_blog_url(fields["blog"]):
        return _answer("invalid", "We were unable to parse your blog URI")
    if absent:
        return _answer(f"Missing required field: {absent}.", f'Empty "{absent}" value')
    return None


@bp.errorhandler(TooManyRequests)
def _over_limit(error: TooManyRequests) -> Response:
    response = _answer("Too Many Requests", f"This key is over its limit ({error.description}).")
    response.status_code = 429
    return response


@bp.post("/verify-key")
@per_key
def verify_key() -> Response:
    fields = _fields()
    if not _given_key():
        return _answer("invalid", 'Empty "api_key" value')
    if not fields.get("blog", "").strip():
        return _answer("invalid", 'Empty "blog" value')
    if not is_blog_url(fields["blog"]):
        return _answer("invalid", "We were unable to parse your blog URI")
    if _caller() is None:
        return _answer("invalid", "Invalid key")
    return _answer("valid")


def _standing(email: str, policy: Policy) -> Standing:
    """The standing of the comment's author, by their address (the one field that names them to us)."""
    if not email:
        return NORMAL
    found = services()
    return found.standings.read(identity_key(found.intake.secret, email), policy)


@bp.post("/comment-check")
@per_key
def comment_check() -> Response:
    refused = _refused()
    if refused is not None:
        return refused
    submission = Submission.from_fields(_fields())
    answer = preset(submission)
    if answer is None:
        models = services().models.current()
        started = time.perf_counter()
        # Scored in the comment's own language (the site's `blog_lang` as the hint), never as English regardless.
        assessment = assess(models.live, submission.text, submission.author, submission.language().code)
        metrics.SCORING.observe(time.perf_counter() - started)
        policy = services().policies.current()
        answer = verdict(policy, assessment, submission, _standing(submission.author.email, policy))
    outcome = "discard" if answer.discard else "spam" if answer.spam else "ham"
    metrics.record_decision("akismet", outcome, answer.reasons)
    response = _answer("true" if answer.spam else "false")
    if answer.discard:
        response.headers["X-akismet-pro-tip"] = "discard"
    # WordPress keeps this with the comment; nothing here refers to it again, since nothing is stored.
    response.headers["X-akismet-guid"] = uuid.uuid4().hex
    return response


def _submit(label: str) -> Response:
    refused = _refused()
    if refused is not None:
        return refused
    submission = Submission.from_fields(_fields())
    # is_test asks Akismet to learn nothing from the call; an empty comment has nothing to learn from.
    if submission.is_test or not submission.text:
        kept = "test" if submission.is_test else "empty"
    else:
        store_imported(services().store, [feedback(submission, "spam" if label == "spam" else "not_spam")])
        kept = "stored"
    metrics.record_decision("akismet_feedback", label, (kept,))
    return _answer(THANKS)


@bp.post("/submit-spam")
@per_key
def submit_spam() -> Response:
    return _submit("spam")


@bp.post("/submit-ham")
@per_key
def submit_ham() -> Response:
    return _submit("ham")
