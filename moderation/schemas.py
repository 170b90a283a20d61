"""Request and response shapes: they validate input and are what /openapi.json publishes."""

from __future__ import annotations

import ipaddress
import re
import sys
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlsplit

from email_validator import EmailNotValidError, validate_email
from email_validator.syntax import validate_email_domain_name as _validate_email_domain_name
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from moderation.policy import ArticleMode, Policy, language_code

# An article id is the thread's key as the site has it: a slug, a page's path (as Isso keys threads) or
# a full URL (Coral, Remark42). Any printable text up to 2,048 characters, the longest URL that every
# browser and proxy carries; the ids of the first version (letters, digits, `._:~-`) are a subset.
ARTICLE_ID_MAX = 2048
# Every accepted id must fit in a request line once percent-encoded, since GET /v1/articles/<id>/comments
# names it there (api/gunicorn_conf.py allows 8,190 bytes). An ASCII id of ARTICLE_ID_MAX characters
# takes at most 3 bytes a character; only a long id of non-ASCII text could take more, so it is capped.
ARTICLE_ID_MAX_ENCODED = 3 * ARTICLE_ID_MAX
# For the OpenAPI description: no control characters, no space at either end (the validator also
# refuses format characters, separators other than the space, and `.` or `..` between slashes).
ARTICLE_ID_PATTERN = r"^[^\x00-\x20\x7f-\x9f](?:[^\x00-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\x9f])?$"
COMMENT_ID_PATTERN = r"^[0-9A-HJKMNP-TV-Z]{26}$"
_COMMENT_ID = re.compile(COMMENT_ID_PATTERN)

QueueName = Literal["pending", "reported", "rejected", "approved"]
ReportReason = Literal["spam", "abuse", "off_topic", "other"]
RejectReason = Literal["spam", "abuse", "off_topic", "personal_data", "other"]
PosterStatus = Literal["published", "pending"]
# `arrival`: oldest first. `uncertain`: scores nearest the policy's hold thresholds first (pending and
# reported queues), the decisions that teach a young model most.
QueueSort = Literal["arrival", "uncertain"]
UNCERTAIN_CURSOR_PATTERN = r"^\d{7}:[0-9A-HJKMNP-TV-Z]{26}$"


def _normalise(value: Any) -> Any:
    """NFC-normalise text and unify line endings, so equal-looking comments compare equal."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n")).strip()
    return value


# Unicode's Cc category is exactly these 65 code points (C0, DEL and C1); a regex finds the first
# one without a Python loop over the text (tests/test_schemas.py checks the set against unicodedata).
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")
_CONTROLS_BUT_NEWLINES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _no_controls(allow_newlines: bool) -> Callable[[str], str]:
    pattern = _CONTROLS_BUT_NEWLINES if allow_newlines else _CONTROLS

    def check(value: str) -> str:
        found = pattern.search(value)
        if found:
            raise ValueError(f"must not contain control characters (found U+{ord(found.group()):04X})")
        return value

    return check


@lru_cache(maxsize=256)
def _email_domain(domain: str, test_environment: bool, globally_deliverable: bool) -> Any:
    # Readers' addresses share a few hundred domains: their IDNA and special-use checks are the
    # larger part of validate_email's time, and their answer depends on the domain alone.
    # validate_email only reads the dict it gets back, so one copy can serve every call.
    return _validate_email_domain_name(
        domain, test_environment=test_environment, globally_deliverable=globally_deliverable
    )


def _domain_name(domain: str, **options: Any) -> Any:
    if set(options) == {"test_environment", "globally_deliverable"}:
        return _email_domain(domain, bool(options["test_environment"]), bool(options["globally_deliverable"]))
    return _validate_email_domain_name(domain, **options)  # a call this cache does not know: as before


def _cached_domain_checks() -> None:
    """Have email_validator look each domain up in `_email_domain` (same answers, same errors)."""
    # The package's own name `validate_email` is the function; the module is in sys.modules.
    module = sys.modules["email_validator.validate_email"]
    if getattr(module, "validate_email_domain_name", None) is _validate_email_domain_name:
        module.validate_email_domain_name = _domain_name  # type: ignore[attr-defined]


_cached_domain_checks()


@lru_cache(maxsize=4096)
def _email(value: str) -> str:
    # Cached too: a regular reader posts from the same address again and again. Errors are not cached.
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise ValueError(str(error)) from None


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _unprintable(value: str) -> str | None:
    """The first character of `value` that a reader could not see or that changes how text reads, if any.

    str.isprintable() refuses controls, format characters (zero-width, bidi overrides), surrogates,
    line and paragraph separators and every space but U+0020; unassigned and private-use code points
    are let through, so the answer does not depend on Python's Unicode version.
    """
    if value.isprintable():
        return None
    return next((c for c in value if not c.isprintable() and unicodedata.category(c) not in ("Cn", "Co")), None)


def check_article_id(value: str) -> str:
    """`value` if it is an article id (surrounding spaces already stripped); else ValueError saying why."""
    if not value:
        raise ValueError("must not be empty")
    if len(value) > ARTICLE_ID_MAX:
        raise ValueError(f"must be at most {ARTICLE_ID_MAX} characters")
    found = _unprintable(value)
    if found is not None:
        raise ValueError(f"must be printable text (found U+{ord(found):04X})")
    if not value.isascii() and len(quote(value, safe="")) > ARTICLE_ID_MAX_ENCODED:
        raise ValueError(f"must take at most {ARTICLE_ID_MAX_ENCODED} bytes percent-encoded")
    # Browsers and proxies resolve `.` and `..` path segments, so such an id sent with its slashes
    # as they are would name another thread. A lone "." or ".." was a valid id before slashes were.
    if "/" in value and not {".", ".."}.isdisjoint(value.split("/")):
        raise ValueError("must not have . or .. between slashes")
    return value


def article_id_or_none(value: str | None) -> str | None:
    """The article id `value` names (surrounding spaces stripped), or None when it is not one."""
    if value is None:
        return None
    try:
        return check_article_id(value.strip())
    except ValueError:
        return None


# A reader's website: WordPress keeps comment_author_url in a 200-character column and its comment
# form refuses longer, so every form that sends `url` fits; a homepage needs no more, and a longer
# link is a spam payload, not an address.
WEBSITE_MAX = 200
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):(?!\d)")
# RFC 3986's characters; non-ASCII ones (an IRI) are let through, browsers encode them.
_URL_CHARS = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%\u0080-\U0010ffff]+$")
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
WEBSITE_RULE = "must be a website address starting http:// or https://"


@lru_cache(maxsize=4096)
def _host_ok(host: str) -> bool:
    # Cached: readers' sites share hosts; and an address is tried only when it looks like one, since
    # ip_address's ValueError for every name would cost more than the rest of the check.
    if ":" in host or host.replace(".", "").isdigit():
        try:
            ipaddress.ip_address(host)
            return True
        except ValueError:
            return False
    try:
        ascii_host = host.encode("idna").decode("ascii").lower().rstrip(".")
    except UnicodeError:
        return False
    labels = ascii_host.split(".")
    # A public address has a dot: "localhost" or "intranet" is nobody's homepage.
    return len(labels) > 1 and all(_HOST_LABEL.match(label) for label in labels)


def _website(value: str) -> str | None:
    """An http(s) URL, as WordPress-style forms send it; "" (the field left blank) is none.

    A value with no scheme gets http:// in front, as WordPress does with the same field
    ("www.example.com/blog"); any other scheme (javascript:, data:, mailto:) is refused.
    """
    if not value:
        return None
    scheme = _SCHEME.match(value)
    if scheme is None:
        value = "http://" + value
    elif scheme.group(1).lower() not in ("http", "https"):
        raise ValueError(WEBSITE_RULE)
    if len(value) > WEBSITE_MAX:
        raise ValueError(f"must be at most {WEBSITE_MAX} characters")
    found = _unprintable(value)
    if found is not None:
        raise ValueError(f"must be printable text (found U+{ord(found):04X})")
    if not _URL_CHARS.match(value):
        raise ValueError(f"{WEBSITE_RULE}, with no spaces, quotes or angle brackets")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number 0-65535
    except ValueError:
        raise ValueError(WEBSITE_RULE) from None
    if "@" in parts.netloc:
        raise ValueError("must not carry a user name or password")
    if not parts.hostname or not _host_ok(parts.hostname):
        raise ValueError(f"{WEBSITE_RULE} and a host name such as example.com")
    return value


_normalised = BeforeValidator(_normalise)
Name = Annotated[str, _normalised, Field(min_length=1, max_length=80), AfterValidator(_no_controls(False))]
ShortText = Annotated[str, _normalised, Field(min_length=1, max_length=500), AfterValidator(_no_controls(False))]
Body = Annotated[str, _normalised, Field(min_length=1, max_length=5000), AfterValidator(_no_controls(True))]
Email = Annotated[
    str, _normalised, Field(min_length=3, max_length=254, json_schema_extra={"format": "email"}), AfterValidator(_email)
]
ArticleId = Annotated[
    str, BeforeValidator(_strip), Field(json_schema_extra={"pattern": ARTICLE_ID_PATTERN, "maxLength": ARTICLE_ID_MAX}),
    AfterValidator(check_article_id),
]
Website = Annotated[
    str, BeforeValidator(_strip), Field(json_schema_extra={"format": "uri", "maxLength": WEBSITE_MAX}),
    AfterValidator(_website),
]
CommentId = Annotated[str, Field(pattern=COMMENT_ID_PATTERN)]
Note = Annotated[str, _normalised, Field(max_length=1000), AfterValidator(_no_controls(True))]


class _Input(BaseModel):
    # strict: a number where text belongs is a client bug worth reporting, not coercing
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class CommentIn(_Input):
    """A reader's comment as the site's form sends it."""

    article_id: ArticleId
    name: Name
    email: Email
    body: Body
    parent_id: CommentId | None = None
    website: Website | None = Field(
        default=None, description="The author's homepage, an http(s) URL; shown only as a rel=\"nofollow ugc\" link",
    )


# The DSA Transparency Database's statement categories, lower case without STATEMENT_CATEGORY_: its second
# schema's (1 July 2025, moderation/dsa/tdb.py CATEGORIES), then the first schema's names it renamed, still taken
# from notifiers who know those and exported under their new names.
NoticeCategory = Literal[
    "animal_welfare", "consumer_information", "cyber_violence", "cyber_violence_against_women",
    "data_protection_and_privacy_violations", "illegal_or_harmful_speech", "intellectual_property_infringements",
    "negative_effects_on_civic_discourse_or_elections", "not_specified_notice", "other_violation_tc",
    "protection_of_minors", "risk_for_public_security", "scams_and_fraud", "self_harm",
    "unsafe_and_prohibited_products", "violence",
    "scope_of_platform_service", "unsafe_and_illegal_products", "non_consensual_behaviour",
]
Explanation = Annotated[str, _normalised, Field(min_length=1, max_length=5000), AfterValidator(_no_controls(True))]


class NoticeIn(_Input):
    """A notice of illegal content (DSA Art. 16(2)): why, what kind, who, and in good faith."""

    explanation: Explanation
    category: NoticeCategory = Field(description="The EU Transparency Database's category, lower case, without "
                                     "STATEMENT_CATEGORY_")
    notifier_name: Name | None = Field(default=None, validate_default=True)
    notifier_email: Email | None = Field(default=None, validate_default=True)
    good_faith: bool = Field(description="The notifier's bona fide belief that the notice is accurate and complete")

    @field_validator("notifier_name", "notifier_email")
    @classmethod
    def _named_unless_minors(cls, value: str | None, info: ValidationInfo) -> str | None:
        # Art. 16(2)(c): optional only for offences of Directive 2011/93/EU (child sexual abuse), which fall
        # under the Database's protection_of_minors.
        if value is None and info.data.get("category") != "protection_of_minors":
            raise ValueError("is required (optional only for protection_of_minors)")
        return value

    @field_validator("good_faith")
    @classmethod
    def _in_good_faith(cls, value: bool) -> bool:
        if value is not True:
            raise ValueError("must be true: the notifier confirms the notice is accurate and complete")
        return value


class NoticeDecisionIn(_Input):
    """A moderator's decision on a notice."""

    legality: Literal["illegal", "incompatible_with_terms", "neither"]
    ground: ShortText | None = Field(default=None, validate_default=True, description=(
        "For illegal: the law relied on; for incompatible_with_terms: a term's code from the policy's terms"))
    explanation: Explanation
    action: Literal["remove", "keep"]

    @field_validator("ground")
    @classmethod
    def _ground_unless_neither(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None and info.data.get("legality") in ("illegal", "incompatible_with_terms"):
            raise ValueError("is required: the law, or a term's code")
        return value

    @field_validator("action")
    @classmethod
    def _keep_what_breaks_nothing(cls, value: str, info: ValidationInfo) -> str:
        if value == "remove" and info.data.get("legality") == "neither":
            raise ValueError("a comment neither illegal nor against the terms is kept")
        return value


class AppealIn(_Input):
    """An appeal against a decision (DSA Art. 20)."""

    text: Explanation


class AppealDecisionIn(_Input):
    """A moderator's decision on an appeal."""

    outcome: Literal["upheld", "reversed"]
    explanation: Explanation


class ReportIn(_Input):
    """A reader's report on a published comment."""

    reason: ReportReason
    note: Note | None = None


class DecisionIn(_Input):
    """A moderator's decision on one comment."""

    action: Literal["approve", "reject"]
    reason: RejectReason | None = Field(default=None, validate_default=True)
    note: Note | None = None
    version: int | None = Field(default=None, ge=0)
    ground: str | None = Field(default=None, max_length=64, description=(
        "A rejection's ground: a term's code from the policy's terms (the reason's own term otherwise)"))

    @field_validator("reason")
    @classmethod
    def _reason_for_reject(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None and info.data.get("action") == "reject":
            raise ValueError("is required to reject")
        return value


StandingState = Literal["normal", "trusted", "premoderated", "suspended", "banned"]
NoteText = Annotated[str, _normalised, Field(min_length=1, max_length=2000), AfterValidator(_no_controls(True))]


def parse_time(value: str) -> datetime:
    """An ISO 8601 time; one without a zone is read as UTC."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError("must be an ISO 8601 time, such as 2026-12-31T18:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class StandingIn(_Input):
    """A moderator's change to an author's standing."""

    state: StandingState
    reason: ShortText | None = Field(default=None, validate_default=True)
    until: str | None = Field(default=None, validate_default=True,
                              description="ISO 8601; required for `suspended`, in the future")
    message: Note | None = Field(default=None, description="Shown to the author when a post is refused")
    note: Note | None = Field(default=None, description="For moderators: kept in the standing's history")
    reject_pending: bool = False
    version: int | None = Field(default=None, ge=0, description="The standing's version you saw (GET)")

    @field_validator("reason")
    @classmethod
    def _reason_unless_normal(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None and info.data.get("state") not in (None, "normal"):
            raise ValueError("is required for this state")
        return value

    @field_validator("until")
    @classmethod
    def _until_for_suspensions(cls, value: str | None, info: ValidationInfo) -> str | None:
        state = info.data.get("state")
        if value is None:
            if state == "suspended":
                raise ValueError("is required to suspend")
            return None
        if state != "suspended":
            raise ValueError("applies only to `suspended`")
        if parse_time(value) <= datetime.now(UTC):
            raise ValueError("must be in the future")
        return value


class NoteIn(_Input):
    """A moderator's note on an author."""

    text: NoteText


class BulkDecisionItem(DecisionIn):
    """One decision of a bulk request."""

    id: CommentId


class BulkDecisionIn(_Input):
    """Many decisions at once, each applied and answered on its own."""

    decisions: list[BulkDecisionItem] = Field(min_length=1, max_length=200)


class ClaimIn(_Input):
    """How many items to lease, from which queue, in which order."""

    limit: int = Field(default=10, ge=1, le=100)
    queue: QueueName = "pending"
    sort: QueueSort = "arrival"

    @field_validator("sort")
    @classmethod
    def _uncertain_where_scored(cls, value: str, info: ValidationInfo) -> str:
        if value == "uncertain" and info.data.get("queue") not in ("pending", "reported"):
            raise ValueError("uncertain applies to the pending and reported queues")
        return value


# Responses: built through these models, so the description cannot drift from what is sent.


class CommentReceipt(BaseModel):
    """What the poster learns: never scores, and an automatic rejection reads as pending."""

    id: str
    article_id: str
    status: PosterStatus | Literal["rejected"] = Field(
        description="`rejected` only for a request with X-Api-Key (a site's server); a reader sees `pending`")
    created_at: str
    status_token: str = Field(description="The author's token for GET /v1/comments/<id>/status and appeals; "
                              "keep it with the page, never show it to others")
    reasons: list[str] | None = Field(default=None, description="Only for a request with X-Api-Key")
    scores: dict[str, float] | None = Field(default=None, description="`spam`, `abuse`; only with X-Api-Key")
    language: str | None = Field(default=None, description="The comment's language (ISO 639-1, `und` when nobody "
                                 "could tell), as detected; only with X-Api-Key")


class AuthorEmailIn(BaseModel):
    """An author, named by the email their comments carry (a site's privacy request)."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)
    email: Email


class AuthorExport(BaseModel):
    """An author's comments with every personal field, for a privacy export."""

    author_key: str
    comments: list[dict[str, str | None]]
    next_cursor: str | None


class PublicComment(BaseModel):
    """A published comment as an article page shows it."""

    id: str
    parent_id: str | None
    name: str
    website: str | None = Field(description='The author\'s http(s) URL: render it only as a rel="nofollow ugc" link')
    body: str
    created_at: str


class CommentPage(BaseModel):
    """One page of an article's published comments, oldest first."""

    comments: list[PublicComment]
    next_cursor: str | None


class ReportReceipt(BaseModel):
    id: str
    reports: int


class Evidence(BaseModel):
    start: int
    end: int
    text: str
    weight: float


class SignalEvidence(BaseModel):
    """Spam evidence outside the words, read from one form field (a span of it when the field is the body)."""

    code: str
    field: Literal["body", "name", "email", "website"]
    text: str
    weight: float
    start: int = 0
    end: int = 0


class Reason(BaseModel):
    """Why a comment was held: the score or rule that fired, the words that weighed most, other spam signals."""

    code: str
    score: float | None = None
    words: list[Evidence] = []
    signals: list[SignalEvidence] = []
    detail: str | None = Field(default=None, description="What an author rule matched: a listed network or "
                               "domain, the linked author's key, the record")


class Scores(BaseModel):
    spam: float
    abuse: float


class AuthorHistory(BaseModel):
    author_key: str
    approved: int
    rejected: int
    comments: int
    standing: StandingView | None = None
    record: RecordView | None = None


class ReviewItem(BaseModel):
    """Everything a moderator needs to decide on one comment."""

    id: str
    article_id: str
    parent_id: str | None
    name: str
    email: str
    website: str | None
    body: str
    created_at: str
    ip: str
    user_agent: str
    referer: str
    status: Literal["published", "pending", "rejected"]
    scores: Scores
    reasons: list[Reason]
    model_version: str
    language: str = Field(description="ISO 639-1 code detected at intake (`und`: undetermined; `en` for a comment "
                          "stored before languages were)")
    language_supported: bool = Field(description="Whether the model has an abuse head for the language; without "
                                     "one the abuse score is a rough cross-language one that decided nothing")
    reports: dict[str, int]
    author: AuthorHistory
    claimed_by: str | None
    claim_expires_at: str | None
    decided_by: str | None
    decision: str | None
    decision_reason: str | None
    version: int


class QueuePage(BaseModel):
    queue: QueueName
    items: list[ReviewItem]
    next_cursor: str | None


class ClaimResult(BaseModel):
    lease_seconds: int
    items: list[ReviewItem]


class DecisionResult(BaseModel):
    id: str
    status: Literal["published", "rejected"]
    version: int


class BulkDecisionResult(BaseModel):
    id: str
    status: int
    result: DecisionResult | None = None
    problem: dict[str, Any] | None = None


class BulkDecisionResults(BaseModel):
    results: list[BulkDecisionResult]


class AuditEvent(BaseModel):
    event: str
    actor: str
    at: str
    details: dict[str, str]


class CommentHistory(BaseModel):
    id: str
    events: list[AuditEvent]


class StandingView(BaseModel):
    """An author's standing as it applies now (`automatic`: set by the reputation rule, not a moderator)."""

    state: StandingState
    until: str | None
    reason: str | None
    message: str | None
    set_by: str | None
    set_at: str | None
    automatic: bool
    version: int


class RecordView(BaseModel):
    """Moderators' decisions on the author's comments within the reputation window."""

    approved: int
    rejected: int
    window_days: int


class NoteView(BaseModel):
    id: str
    text: str
    by: str
    at: str


class AuthorView(BaseModel):
    author: AuthorHistory
    standing: StandingView
    record: RecordView
    notes: list[NoteView]
    standing_history: list[dict[str, str]]
    items: list[ReviewItem]
    next_cursor: str | None


class StandingResult(BaseModel):
    author_key: str
    standing: StandingView
    rejected_pending: int


class AuthorStanding(BaseModel):
    author_key: str
    standing: StandingView


class AuthorsPage(BaseModel):
    standing: StandingState
    items: list[AuthorStanding]
    next_cursor: str | None


class LanguageCounts(BaseModel):
    """One language's comments: received since languages were counted, the machine's decisions, pending now."""

    supported: bool = Field(description="Whether the model has an abuse head for the language")
    received: int
    automatic: dict[str, int] = Field(description="The automatic decision at intake: `published`, `pending`, "
                                      "`rejected`")
    pending: int = Field(description="Waiting in the pending queue now (of the oldest items counted, see "
                         "`languages_pending_counted`)")


class Stats(BaseModel):
    queues: dict[str, int]
    oldest_pending_age_seconds: float | None
    decisions: dict[str, dict[str, int]]
    by_model_version: dict[str, dict[str, int]]
    reports: dict[str, int]
    languages: dict[str, LanguageCounts] = Field(description="By ISO 639-1 code, most received first")
    languages_pending_counted: int = Field(description="How many pending items the per-language `pending` counts "
                                           "cover: the whole queue, or its oldest 5,000")


class PolicyView(BaseModel):
    policy: Policy
    article_modes: dict[str, ArticleMode]
    article_languages: dict[str, str] = Field(description="Articles with a language of their own (ISO 639-1)")


class ArticleModeIn(_Input):
    mode: ArticleMode


class ArticleModeView(BaseModel):
    article_id: str
    mode: ArticleMode


class ArticleLanguageIn(_Input):
    """The language an article's comments are in, when too short to tell from their text."""

    language: Annotated[str, AfterValidator(language_code)] | None = Field(
        description="ISO 639-1 code (a BCP 47 tag such as `pt-BR` is taken as `pt`); null: the site's (the policy's "
                    "`language`)")


class ArticleLanguageView(BaseModel):
    article_id: str
    language: str | None


class ErasureResult(BaseModel):
    author_key: str
    comments_erased: int


class FieldError(BaseModel):
    field: str
    pointer: str
    detail: str


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldError] | None = None


class NoticeReceipt(BaseModel):
    """The acknowledgement of a notice (Art. 16(4)); the token lets the notifier appeal its decision."""

    notice_id: str
    notice_token: str
    comment_id: str
    status: Literal["open"]
    trusted_flagger: bool


class NoticeView(BaseModel):
    id: str
    comment_id: str
    category: str
    explanation: str
    notifier_name: str | None
    notifier_email: str | None
    trusted: str | None
    status: Literal["open", "decided"]
    created_at: str
    decided_by: str | None
    decided_at: str | None
    legality: str | None
    ground: str | None
    decision_explanation: str | None
    action: str | None


class AppealReceipt(BaseModel):
    appeal_id: str
    comment_id: str
    status: Literal["open"]


class AppealView(BaseModel):
    id: str
    comment_id: str
    appellant: Literal["author", "notifier"]
    notice_id: str | None
    text: str
    status: Literal["open", "decided"]
    created_at: str
    original_by: str | None = None
    original_decision: str | None
    decided_by: str | None
    decided_at: str | None
    outcome: str | None
    explanation: str | None


class CommentStatus(BaseModel):
    """The author's own view of their comment (DSA Art. 17): its status and statement of reasons."""

    id: str
    article_id: str
    status: Literal["published", "pending", "rejected"]
    statement: dict[str, Any] | None = Field(description="The statement of reasons: restriction, facts, ground, "
                                             "automated means, redress; null unless restricted other than as spam")
    appeal: dict[str, Any] | None


class TransparencyReport(BaseModel):
    """Counts for a transparency report (DSA Art. 15(1), 24(1)) over whole UTC days."""

    model_config = ConfigDict(extra="allow")

    notices: dict[str, Any]
    actions: dict[str, Any]
    appeals: dict[str, Any]
    authors: dict[str, int]


class AuthorRefusal(Problem):
    """403 to a banned or suspended author: what they are told, and nothing else of theirs."""

    type: str = "author-suspended"
    state: Literal["suspended", "banned"]
    until: str | None = Field(description="When a suspension ends; null for a ban")
    message: str | None = Field(description="The site's message to the author")
    statement: dict[str, Any] | None = Field(default=None, description="The statement of reasons for the "
                                             "suspension or ban (DSA Art. 17(1)(d))")


def field_errors(error: ValidationError) -> list[FieldError]:
    """One entry per bad field, in words a site developer can act on."""
    entries: list[FieldError] = []
    seen: set[str] = set()
    for item in error.errors(include_url=False):
        # A dict key's own error (a language code that is none) is the entry's: `[key]` names nothing a client sent.
        path = [str(part) for part in item["loc"] if part != "[key]"] or ["(body)"]
        field = ".".join(path)
        if field in seen:
            continue
        seen.add(field)
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "missing":
            message = "is required"
        elif item["type"] in ("too_short", "string_too_short"):
            least = item.get("ctx", {}).get("min_length", 1)
            message = "must not be empty" if least == 1 else f"must be at least {least} characters"
        elif item["type"] in ("too_long", "string_too_long"):
            message = f"must be at most {item.get('ctx', {}).get('max_length')} characters"
        elif item["type"] == "string_pattern_mismatch":
            message = f"must match {item['ctx']['pattern']}"
        entries.append(FieldError(field=field, pointer="#/" + "/".join(path), detail=message))
    return entries


def is_comment_id(value: str) -> bool:
    return bool(_COMMENT_ID.match(value))


def is_article_id(value: str) -> bool:
    """Whether `value` is an article id as stored (no surrounding spaces)."""
    return article_id_or_none(value) == value
