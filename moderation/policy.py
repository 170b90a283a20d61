"""Moderation policy: thresholds and rules that turn scores into a decision, with its reasons."""

from __future__ import annotations

import hashlib
import ipaddress
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Annotated, Any, Literal, Self

import pycld2
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from moderation.model.languages import ENGLISH, SUPPORTED_LANGUAGES, UNDETERMINED, normalise_language
from moderation.model.signals import Signal
from moderation.threats import find_threats

if TYPE_CHECKING:
    from moderation.authors.rules import CompiledLists

ArticleMode = Literal["open", "premoderated", "closed"]
Status = Literal["published", "pending", "rejected"]

# Bare domains count too: spammers drop the scheme precisely because link counters look for it.
LINK = re.compile(
    r"(?i)\b(?:https?://|www\.)\S+"
    r"|\b[a-z0-9-]{2,}\.(?:com|net|org|info|biz|ru|xyz|top|io|ly|co|me|club|online|site|shop)\b(?:/\S*)?"
)


# How long a list of domains, networks or hosts may be: far more than a site writes by hand, few enough
# that the whole policy still parses in a fraction of a second when an admin changes it.
MAX_LIST = 20_000
_HOST = re.compile(r"^(?=.{1,253}$)[^\s/@:?#\[\]]+$")


def _hosts(entries: tuple[str, ...]) -> tuple[str, ...]:
    """Domains in lower case, without a leading `*.`, `.` or `@`; each must be a plain host name."""
    cleaned = []
    for entry in entries:
        host = entry.strip().casefold().removeprefix("*.").lstrip(".@").rstrip(".")
        if not _HOST.match(host):
            raise ValueError(f"{entry!r} is not a domain name")
        cleaned.append(host)
    return tuple(dict.fromkeys(cleaned))


def _networks(entries: tuple[str, ...]) -> tuple[str, ...]:
    """CIDR networks (a bare address is its own /32 or /128), in their canonical text."""
    cleaned = []
    for entry in entries:
        try:
            cleaned.append(str(ipaddress.ip_network(entry.strip(), strict=False)))
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP network in CIDR notation (203.0.113.0/24, 2001:db8::/32)") \
                from None
    return tuple(dict.fromkeys(cleaned))


# The languages a policy may name: those CLD2 can give a comment (ISO 639-1, a few 639-2 where 639-1 has
# none), the model's, and `und` (a comment nobody could place), so a typo ("gr" for Greek) is refused.
KNOWN_LANGUAGES: frozenset[str] = frozenset(
    code for code in (normalise_language(cld2) for _, cld2 in pycld2.LANGUAGES)
    if code and code not in ("xx", "xxx") and not code.startswith("zz")
) | frozenset(SUPPORTED_LANGUAGES) | {UNDETERMINED}


def language_code(value: str) -> str:
    """The ISO 639-1 code of a language tag ('de-AT' gives de); ValueError for one no detector knows."""
    code = normalise_language(value)
    if code is None or code not in KNOWN_LANGUAGES:
        raise ValueError(f"{value!r} is not a language code (ISO 639-1, as 'de' or 'pt-BR'; 'und' for undetermined)")
    return code


LanguageCode = Annotated[str, AfterValidator(language_code)]
HostList = Annotated[tuple[str, ...], Field(default=(), max_length=MAX_LIST), AfterValidator(_hosts)]
NetworkList = Annotated[tuple[str, ...], Field(default=(), max_length=MAX_LIST), AfterValidator(_networks)]


class Term(BaseModel):
    """A clause of the site's terms, which a moderator's rejection may name as its ground (DSA Art. 17(3)(e))."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    title: str = Field(min_length=1, max_length=200)
    url: str = Field(pattern=r"^https?://\S+$", max_length=2000)


_THRESHOLD_NAMES = ("spam_hold", "spam_reject", "abuse_hold", "abuse_reject")


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The score thresholds that apply to one comment: the policy's, or its language's where it sets them."""

    spam_hold: float
    spam_reject: float
    abuse_hold: float
    abuse_reject: float


class LanguageThresholds(BaseModel):
    """Thresholds for comments in one language; a threshold left out is the policy's own."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    spam_hold: float | None = Field(default=None, ge=0, le=1)
    spam_reject: float | None = Field(default=None, ge=0, le=1)
    abuse_hold: float | None = Field(default=None, ge=0, le=1)
    abuse_reject: float | None = Field(default=None, ge=0, le=1)


class Policy(BaseModel):
    """What the newsroom decided: stored in Redis, so a change applies without a restart."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    spam_hold: float = Field(default=0.5, ge=0, le=1)
    spam_reject: float = Field(default=0.98, ge=0, le=1)
    abuse_hold: float = Field(default=0.5, ge=0, le=1)
    abuse_reject: float = Field(default=0.98, ge=0, le=1)
    max_links: int = Field(default=2, ge=0, le=100)
    blocked_terms: tuple[str, ...] = Field(default=(), max_length=5000)
    suspect_terms: tuple[str, ...] = Field(default=(), max_length=5000)
    hold_new_authors: bool = True
    # Hold comments that threaten violence against a person (see moderation.threats), whatever the scores.
    hold_threats: bool = True
    default_article_mode: ArticleMode = "open"
    # The same text from the same author within the window is rejected; from this many different
    # authors within the window, it is held as coordinated.
    duplicate_window_seconds: int = Field(default=600, ge=10, le=7 * 24 * 3600)
    coordinated_authors: int = Field(default=3, ge=2, le=1000)
    # An author who comments on this many different articles within the window is held (reason burst):
    # a reader reads before they comment, a spammer's script does not.
    burst_articles: int = Field(default=5, ge=2, le=1000)
    burst_window_seconds: int = Field(default=600, ge=60, le=24 * 3600)
    # Whether a rescore may take a published comment back to the queue when the new model flags it.
    rescore_unpublish: bool = False
    # Reputation: an author a moderator rejected (for one of `reputation_reasons`) within the window is
    # premoderated (reason author_record) until a moderator sets their standing, or until that many of
    # their comments since the rejection were approved. A window of 0 turns the rule off.
    reputation_window_days: int = Field(default=30, ge=0, le=365)
    reputation_recovery_approvals: int = Field(default=3, ge=0, le=1000)
    reputation_reasons: tuple[Literal["spam", "abuse", "off_topic", "personal_data", "other"], ...] = (
        "spam", "abuse")
    # A new address posting from a network a banned or suspended author used within a day is held
    # (reason linked_author), never refused: households, offices and carriers share networks.
    hold_linked_authors: bool = True
    # WordPress's disallowed and moderation keys, by kind: rejected (blocked_...) or held (held_...).
    blocked_email_domains: HostList = ()
    held_email_domains: HostList = ()
    blocked_networks: NetworkList = ()
    held_networks: NetworkList = ()
    blocked_website_hosts: HostList = ()
    held_website_hosts: HostList = ()

    # The site's language (ISO 639-1): what a comment too short to tell is taken to be in, unless its
    # article has a language of its own, and the hint the language detector is given.
    language: LanguageCode = ENGLISH
    # Thresholds per language (ISO 639-1 codes), each overriding some of the four above for comments in it.
    language_thresholds: dict[LanguageCode, LanguageThresholds] = Field(default_factory=dict, max_length=300)
    # A comment in a language the model has no abuse head for: its abuse score (a rough cross-language
    # one, shown to moderators) never holds or rejects it; `hold` holds it for a moderator
    # (reason unsupported_language), `publish` leaves it to the other rules.
    unsupported_language: Literal["publish", "hold"] = "publish"

    # The site's terms (DSA Art. 17(3)(e)), and which term each rejection reason or rule stands for; a
    # reason with no term of its own cites the term whose code is the reason's name, if there is one.
    terms: tuple[Term, ...] = Field(default=(), max_length=200)
    reason_terms: dict[str, str] = Field(default_factory=dict, max_length=200)

    @model_validator(mode="after")
    def _terms_exist(self) -> Self:
        codes = {term.code for term in self.terms}
        if len(codes) != len(self.terms):
            raise ValueError("terms: each code must be used once")
        unknown = sorted(code for code in self.reason_terms.values() if code not in codes)
        if unknown:
            raise ValueError(f"reason_terms names terms the policy does not have: {', '.join(unknown)}")
        return self

    @field_validator("language_thresholds", mode="before")
    @classmethod
    def _one_entry_a_language(cls, value: Any) -> Any:
        """Refuse two entries for one language ('de' and 'de-AT'), which would otherwise merge silently."""
        if isinstance(value, dict):
            seen: dict[str, str] = {}
            for tag in value:
                code = normalise_language(tag) if isinstance(tag, str) else None
                if code is not None and code in seen:
                    raise ValueError(f"{seen[code]!r} and {tag!r} name the same language")
                if code is not None:
                    seen[code] = tag
        return value

    @field_validator("language_thresholds")
    @classmethod
    def _language_holds_before_rejects(cls, value: dict[str, LanguageThresholds],
                                       info: ValidationInfo) -> dict[str, LanguageThresholds]:
        """Refuse a language whose hold threshold, merged with the policy's own, is above its reject threshold."""
        # The policy's own thresholds are validated before this field (they are declared first).
        base = {name: info.data.get(name) for name in _THRESHOLD_NAMES}
        if None in base.values():
            return value  # one of them is invalid: its own error says so
        for code, overrides in value.items():
            merged = {name: base[name] if getattr(overrides, name) is None else getattr(overrides, name)
                      for name in _THRESHOLD_NAMES}
            for head in ("spam", "abuse"):
                if merged[f"{head}_hold"] > merged[f"{head}_reject"]:  # type: ignore[operator]
                    raise ValueError(f"{code}: {head}_hold must not exceed {head}_reject")
        return value

    def thresholds(self, language: str = ENGLISH) -> Thresholds:
        """The thresholds for a comment in `language`: its own where `language_thresholds` sets them."""
        overrides = self.language_thresholds.get(language)
        if overrides is None:
            return Thresholds(self.spam_hold, self.spam_reject, self.abuse_hold, self.abuse_reject)
        return Thresholds(*(getattr(self, name) if getattr(overrides, name) is None else getattr(overrides, name)
                            for name in _THRESHOLD_NAMES))

    def term(self, code: str | None) -> Term | None:
        """The term with this code, or None."""
        return next((term for term in self.terms if term.code == code), None)

    def term_for(self, reason: str) -> Term | None:
        """The term a rejection reason or rule stands for (reason_terms, else the term named like it)."""
        return self.term(self.reason_terms.get(reason, reason))

    @cached_property
    def author_lists(self) -> CompiledLists:
        """The six lists compiled for matching, once per parsed policy."""
        from moderation.authors.rules import CompiledLists

        return CompiledLists.of(self)

    @model_validator(mode="after")
    def _holds_before_rejects(self) -> Self:
        if self.spam_hold > self.spam_reject:
            raise ValueError("spam_hold must not exceed spam_reject")
        if self.abuse_hold > self.abuse_reject:
            raise ValueError("abuse_hold must not exceed abuse_reject")
        return self


@dataclass(frozen=True, slots=True)
class Word:
    start: int
    end: int
    text: str
    weight: float


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    score: float | None = None
    words: tuple[Word, ...] = ()
    # Spam evidence outside the words: a shortened link, a name that reads as an advert, a throwaway email...
    signals: tuple[Signal, ...] = ()
    # What a rule about the author matched: the listed network or domain, the linked author's key, the record.
    detail: str = ""

    def as_dict(self) -> dict[str, object]:
        entry: dict[str, object] = {
            "code": self.code,
            "score": self.score,
            "words": [
                {"start": w.start, "end": w.end, "text": w.text, "weight": round(w.weight, 4)}
                for w in self.words
            ],
        }
        if self.signals:
            entry["signals"] = [
                {"code": s.code, "field": s.field, "text": s.text, "weight": round(s.weight, 4),
                 "start": s.start, "end": s.end}
                for s in self.signals
            ]
        if self.detail:
            entry["detail"] = self.detail
        return entry


@dataclass(frozen=True, slots=True)
class Assessment:
    """The model's view of one comment: calibrated scores and the words behind each."""

    spam: float
    abuse: float
    spam_words: tuple[Word, ...] = ()
    abuse_words: tuple[Word, ...] = ()
    spam_signals: tuple[Signal, ...] = ()
    # The comment's language (ISO 639-1, or `und`), and whether the model has an abuse head for it.
    language: str = ENGLISH
    language_supported: bool = True


@dataclass(frozen=True, slots=True)
class Decision:
    status: Status
    reasons: tuple[Reason, ...] = field(default=())

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(reason.code for reason in self.reasons)


@dataclass(frozen=True, slots=True)
class AuthorContext:
    """What intake knows of the person behind a comment: their standing, links and the policy's lists."""

    trusted: bool = False
    # author_premoderated (a moderator's standing) or author_record (the reputation rule).
    premoderated: Reason | None = None
    linked: Reason | None = None
    rejects: tuple[Reason, ...] = ()
    holds: tuple[Reason, ...] = ()


NO_CONTEXT = AuthorContext()

_NOT_WORDS = re.compile(r"[\W\d_]+")


def text_fingerprint(text: str) -> str:
    """Equal for texts that differ only in case, width, digits, punctuation or spacing."""
    folded = _NOT_WORDS.sub(" ", _fold(text)).strip()
    return hashlib.blake2b(folded.encode(), digest_size=12).hexdigest()


def count_links(text: str) -> int:
    return len(LINK.findall(text))


@lru_cache(maxsize=16)
def _term_pattern(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    words = sorted({_fold(term) for term in terms if term.strip()}, key=len, reverse=True)
    if not words:
        return None
    # Any run of spaces between a term's words matches, so "buy  viagra" cannot slip past "buy viagra".
    alternatives = (r"\s+".join(re.escape(part) for part in word.split()) for word in words)
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)")


def _fold(text: str) -> str:
    # NFKC turns full-width and stylised letters into plain ones; casefold handles ß and friends.
    # Both keep most strings the same length, and we fall back to no spans when they do not.
    return unicodedata.normalize("NFKC", text).casefold()


def find_terms(text: str, terms: tuple[str, ...]) -> tuple[Word, ...]:
    """The occurrences of any of `terms` in `text`, as whole words, ignoring case and width."""
    pattern = _term_pattern(terms)
    if pattern is None:
        return ()
    folded = _fold(text)
    aligned = len(folded) == len(text)
    found = []
    for match in pattern.finditer(folded):
        start, end = (match.start(), match.end()) if aligned else (0, 0)
        found.append(Word(start, end, text[start:end] if aligned else match.group(), 1.0))
    return tuple(found)


def score_reasons(policy: Policy, assessment: Assessment, *,
                  trusted: bool = False) -> tuple[list[Reason], list[Reason]]:
    """What the scores reject and hold, at the thresholds of the comment's language.

    The abuse score of a language the model has no head for is a rough cross-language one: it never
    holds or rejects; the policy's `unsupported_language` says whether such a comment waits for a
    moderator. A trusted author skips the holds (the rejects still apply).
    """
    limits = policy.thresholds(assessment.language)
    heads: list[tuple[str, float, tuple[Word, ...], tuple[Signal, ...], float, float]] = [
        ("spam", assessment.spam, assessment.spam_words, assessment.spam_signals, limits.spam_hold,
         limits.spam_reject),
    ]
    if assessment.language_supported:
        heads.append(("abuse", assessment.abuse, assessment.abuse_words, (), limits.abuse_hold, limits.abuse_reject))
    rejects: list[Reason] = []
    holds: list[Reason] = []
    for code, score, words, signals, hold, reject in heads:
        if score >= reject:
            rejects.append(Reason(code, round(score, 4), words, signals))
        elif score >= hold and not trusted:
            holds.append(Reason(code, round(score, 4), words, signals))
    if not assessment.language_supported and policy.unsupported_language == "hold" and not trusted:
        holds.append(Reason("unsupported_language", detail=assessment.language))
    return rejects, holds


def decide(
    policy: Policy,
    assessment: Assessment,
    text: str,
    *,
    article_mode: ArticleMode,
    author_approved: int,
    own_repeat: bool = False,
    other_authors: int = 0,
    recent_articles: int = 1,
    author: AuthorContext = NO_CONTEXT,
) -> Decision:
    """Publish, hold or reject a comment, naming every rule that fired.

    A trusted author skips the new-author hold, the burst rule and the holds of doubtful scores (and of a
    language the model does not know); everything that rejects, threats, links, suspect terms and article
    modes still apply. Scores are read at the thresholds of the comment's language (`score_reasons`).
    """
    rejects: list[Reason] = list(author.rejects)
    holds: list[Reason] = list(author.holds)

    if own_repeat:
        rejects.append(Reason("duplicate"))
    elif other_authors + 1 >= policy.coordinated_authors:
        holds.append(Reason("duplicate", float(other_authors + 1)))
    blocked = find_terms(text, policy.blocked_terms)
    if blocked:
        rejects.append(Reason("blocked_term", words=blocked))
    if policy.hold_threats:
        threats = tuple(Word(start, end, text[start:end], 1.0) for start, end in find_threats(text))
        if threats:
            holds.append(Reason("threat", words=threats))
    score_rejects, score_holds = score_reasons(policy, assessment, trusted=author.trusted)
    rejects += score_rejects
    holds += score_holds
    links = count_links(text)
    if links > policy.max_links:
        holds.append(Reason("links", float(links)))
    suspect = find_terms(text, policy.suspect_terms)
    if suspect:
        holds.append(Reason("suspect_term", words=suspect))
    if article_mode == "premoderated":
        holds.append(Reason("premoderated_article"))
    if author.premoderated is not None:
        holds.append(author.premoderated)
    if author.linked is not None and not author.trusted:
        holds.append(author.linked)
    if recent_articles >= policy.burst_articles and not author.trusted:
        holds.append(Reason("burst", float(recent_articles)))
    if policy.hold_new_authors and author_approved <= 0 and not author.trusted:
        holds.append(Reason("new_author"))

    if rejects:
        return Decision("rejected", tuple(rejects + holds))
    if holds:
        return Decision("pending", tuple(holds))
    return Decision("published")
