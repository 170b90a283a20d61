"""Akismet's protocol: the fields of a comment check, our verdict on them, and submitted spam and ham as decisions.

Matched against Akismet's API documentation (akismet.com/developers: comment-check, submit-spam, submit-ham,
verify-key) and the source of its clients: the `akismet` package on PyPI (ubernostrum/akismet,
src/akismet/_common.py and _sync_client.py: form fields `api_key`, `blog`, `user_ip` and the optional
`AkismetArguments`; `key` and `blog` for verify-key; the bodies `true`/`false`, `valid`/`invalid`, the submission
thanks, and `X-akismet-pro-tip: discard`) and WordPress's Akismet plugin (class.akismet.php: `http_post` sends
`api_key` in the body or the key as the first label of the host, `check_key_status` sends `key` and `blog`).

Languages: comment-check's `blog_lang` is "the language(s) in use on the blog or site, in ISO 639-1 format,
comma-separated. A site with articles in English and French might use: en, fr_ca" (Akismet's documentation,
as its clients quote it: akismet-api's `lang`, @cedx/akismet's `Blog.languages`). Its first language is the
hint and fallback of the comment's detected language, and the comment is scored in the language detected.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field

from moderation.authors.standing import NORMAL, Standing
from moderation.comments import now_iso
from moderation.decisions import Decision, email_domain
from moderation.markup import plain_text
from moderation.model.languages import ENGLISH, DetectedLanguage, detect_language, normalise_language
from moderation.model.signals import Author
from moderation.policy import Assessment, Policy, decide

# Every field Akismet documents for comment-check, submit-spam and submit-ham; others are ignored, as Akismet does
# with the extra server variables WordPress sends (POST_*, HTTP_*...).
FIELDS = (
    "api_key", "blog", "user_ip", "user_agent", "referrer", "permalink", "comment_type", "comment_author",
    "comment_author_email", "comment_author_url", "comment_content", "comment_context", "comment_date_gmt",
    "comment_post_modified_gmt", "blog_lang", "blog_charset", "user_role", "is_test", "recheck_reason",
    "honeypot_field_name",
)
REQUIRED = ("blog", "user_ip")
THANKS = "Thanks for making the web a better place."
# Akismet's documented test values: this author name or email always gets `true`, so a site can check that
# spam reaches its spam folder.
TEST_SPAM_AUTHOR = "viagra-test-123"
TEST_SPAM_EMAIL = "akismet-guaranteed-spam@example.com"
# The reasons that make a comment spam in Akismet's sense; abuse is not Akismet's question.
SPAM_REASONS = frozenset({"spam", "blocked_term"})
_TRUE = frozenset({"1", "true", "yes", "on"})
_NAME_MAX, _URL_MAX = 200, 2048


def blog_language(value: str) -> str | None:
    """The first language of `blog_lang` as ISO 639-1: Akismet documents it as the site's languages, ISO 639-1,
    comma-separated ("en, fr_ca"); WordPress's plugin sends the site's locale ("de_DE")."""
    for tag in value.split(","):
        code = normalise_language(tag)
        if code:
            return code
    return None


class AkismetFields(BaseModel):
    """The form fields of comment-check, submit-spam and submit-ham, as Akismet documents them (for /openapi.json;
    the routes read them as Akismet does: blank means absent, other fields are ignored)."""

    api_key: str = Field(default="", description="A key from `moderation api-keys add` (also accepted as `key`, "
                         "`?key=`, or the host's first label for a `--akismet` key)")
    blog: str = Field(default="", description="Required: the site's front page, a full http(s) URL")
    user_ip: str = Field(default="", description="Required: the commenter's IP address")
    user_agent: str = ""
    referrer: str = ""
    permalink: str = Field(default="", description="The article's URL; kept with submitted decisions")
    comment_type: str = ""
    comment_author: str = ""
    comment_author_email: str = Field(default="", description="Read by the spam head; of a submission only "
                                      "the domain is kept")
    comment_author_url: str = ""
    comment_content: str = Field(default="", description="The comment; HTML is read as its text")
    comment_context: str = ""
    comment_date_gmt: str = ""
    comment_post_modified_gmt: str = ""
    blog_lang: str = Field(default="", description="The site's languages, ISO 639-1, comma-separated (`en, "
                           "fr_ca`): the first is what a comment too short to tell is taken to be in")
    blog_charset: str = ""
    user_role: str = Field(default="", description="`administrator` is never spam")
    is_test: str = Field(default="", description="1 or true: submissions teach nothing")
    recheck_reason: str = ""
    honeypot_field_name: str = ""


class VerifyKeyFields(BaseModel):
    """verify-key's form fields: the key (as `key`, Akismet's original name, or `api_key`) and the site."""

    key: str = ""
    api_key: str = ""
    blog: str = ""


def missing(fields: Mapping[str, str]) -> str | None:
    """The first required field that is absent or blank, as Akismet names it."""
    return next((name for name in REQUIRED if not fields.get(name, "").strip()), None)


def is_blog_url(value: str) -> bool:
    """Akismet takes the site's front page as a full http(s) URL."""
    parts = urlsplit(value.strip())
    return parts.scheme in ("http", "https") and bool(parts.netloc)


@dataclass(frozen=True, slots=True)
class Submission:
    """A comment as an Akismet client describes it: what the model reads, and the flags that change the answer."""

    text: str
    author: Author
    permalink: str = ""
    user_role: str = ""
    is_test: bool = False
    ip: str = ""
    # The site's first language from `blog_lang`, the hint and fallback for detecting the comment's.
    blog_language: str | None = None

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> Submission:
        return cls(
            # WordPress forms allow some markup; the model reads what a reader sees, plus where links go.
            text=plain_text(fields.get("comment_content", "")).strip(),
            author=Author(
                fields.get("comment_author", "").strip()[:_NAME_MAX],
                fields.get("comment_author_email", "").strip()[:_URL_MAX],
                fields.get("comment_author_url", "").strip()[:_URL_MAX],
            ),
            permalink=fields.get("permalink", "").strip()[:_URL_MAX],
            user_role=fields.get("user_role", "").strip().lower(),
            is_test=fields.get("is_test", "").strip().lower() in _TRUE,
            ip=fields.get("user_ip", "").strip()[:64],
            blog_language=blog_language(fields.get("blog_lang", "")[:_NAME_MAX]),
        )

    def language(self) -> DetectedLanguage:
        """The comment's language: CLD2's, hinted with the site's first `blog_lang`; that language (English
        without one) for a comment too short to tell."""
        return detect_language(self.text, fallback=self.blog_language or ENGLISH)


@dataclass(frozen=True, slots=True)
class Verdict:
    """Akismet's answer: spam or not, whether it is safe to discard unseen, and what decided it (for metrics)."""

    spam: bool
    discard: bool
    reasons: tuple[str, ...]


def preset(submission: Submission) -> Verdict | None:
    """The answers Akismet documents whatever the content: never spam for an administrator, always spam for the
    test author name or email."""
    if submission.user_role == "administrator":
        return Verdict(False, False, ("administrator",))
    if submission.author.name == TEST_SPAM_AUTHOR or submission.author.email.lower() == TEST_SPAM_EMAIL:
        return Verdict(True, False, ("akismet_test",))
    return None


def verdict(policy: Policy, assessment: Assessment, submission: Submission, standing: Standing = NORMAL) -> Verdict:
    """Spam when the policy would hold or reject the comment for its spam score or a blocked term; safe to
    discard when its spam score alone would have it rejected.

    What identifies the author (the email, the IP address, the website) is checked too: a banned or
    suspended author, or a domain, network or host the policy blocks, is spam to discard. Holding is the
    client's own business (premoderation, held lists), as Akismet has no answer for it.
    """
    fixed = preset(submission)
    if fixed is not None:
        return fixed
    if standing.refuses:
        return Verdict(True, True, (f"author_{standing.state}",))
    author = submission.author
    blocked, _ = policy.author_lists.reasons(author.email, submission.ip, author.website, submission.text)
    if blocked:
        return Verdict(True, True, tuple(reason.code for reason in blocked))
    # Only the content speaks here: article modes and the new-author hold are the client's own business.
    decision = decide(policy, assessment, submission.text, article_mode="open", author_approved=1)
    reasons = tuple(code for code in decision.codes if code in SPAM_REASONS)
    return Verdict(bool(reasons), bool(reasons) and assessment.spam >= policy.spam_reject, reasons)


def feedback(submission: Submission, label: Literal["spam", "not_spam"]) -> Decision:
    """Submitted spam or ham as a decision for learning; of the email only its domain is kept."""
    return Decision.labelled(
        submission.text,
        label,
        article_id=submission.permalink,
        decided_at=now_iso(),
        source="akismet",
        name=submission.author.name,
        email_domain=email_domain(submission.author.email),
        website=submission.author.website,
    )
