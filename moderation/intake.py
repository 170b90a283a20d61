"""Taking in a reader's comment: score it, apply the policy, store it."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, replace
from typing import Protocol

from moderation.authors.identity import identity_key, network_key, network_of
from moderation.authors.standing import Standing, Standings, effective
from moderation.comments import NewComment, Origin, author_key, new_comment_id
from moderation.model.languages import ENGLISH, SUPPORTED_LANGUAGES, DetectedLanguage, detect_language
from moderation.model.signals import NO_AUTHOR, Author, Signal
from moderation.policy import Assessment, AuthorContext, Reason, Word, decide, text_fingerprint
from moderation.policy_store import PolicyStore
from moderation.rate_limits import COUNT_HITS, LimitState, PostingLimits, RateLimited
from moderation.redis_client import EarlyReads
from moderation.registry import LiveModels, Models
from moderation.retention import Retention
from moderation.schemas import CommentIn
from moderation.store import CommentStore, IdempotencyMismatch

PURGE_EVERY_SECONDS = 600
RETENTION_BATCHES_PER_PASS = 5


class ArticleClosed(Exception):
    """The article takes no more comments."""


class AuthorRefused(Exception):
    """The author is banned or suspended: nothing of the post is stored."""

    def __init__(self, standing: Standing) -> None:
        super().__init__(standing.state)
        self.standing = standing


class _Evidence(Protocol):
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def text(self) -> str: ...
    @property
    def weight(self) -> float: ...


class _Scores(Protocol):
    @property
    def spam(self) -> float: ...
    @property
    def abuse(self) -> float: ...
    @property
    def spam_words(self) -> tuple[_Evidence, ...]: ...
    @property
    def abuse_words(self) -> tuple[_Evidence, ...]: ...
    @property
    def spam_signals(self) -> tuple[Signal, ...]: ...


class Scorer(Protocol):
    """A model as intake needs it: a version, and scores in a language with the words and signals behind them."""

    @property
    def version(self) -> str: ...

    def score(self, text: str, author: Author = ..., language: str = ...) -> _Scores: ...


def assess(scorer: Scorer, text: str, author: Author = NO_AUTHOR, language: str = ENGLISH) -> Assessment:
    """The model's scores for a comment's text in `language` and its author's fields, with the evidence behind them."""
    scores = scorer.score(text, author, language)

    def words(evidence: tuple[_Evidence, ...]) -> tuple[Word, ...]:
        return tuple(Word(e.start, e.end, e.text, e.weight) for e in evidence)

    # The model says whether it has a head for the language (a model trained before a language was
    # added has none); a scorer that does not say is taken to know the languages this code does.
    supported = bool(getattr(scores, "language_supported", language in SUPPORTED_LANGUAGES))
    return Assessment(scores.spam, scores.abuse, words(scores.spam_words), words(scores.abuse_words),
                      tuple(scores.spam_signals), language, supported)


def poster_status(status: str) -> str:
    """What the poster is told: an automatic rejection reads as pending, so spammers learn nothing."""
    return "published" if status == "published" else "pending"


@dataclass(frozen=True, slots=True)
class Receipt:
    id: str
    article_id: str
    status: str
    created_at: str
    duplicate: bool = False
    # For the service's own metrics; never shown to the poster.
    decision: str = ""
    reasons: tuple[str, ...] = ()
    scoring_seconds: float = 0.0
    # The model's scores, for a keyed caller (a site's server) that shows them to its moderators.
    spam: float | None = None
    abuse: float | None = None
    # The posting limit nearest to refusing this poster (None without limits), for the answer's headers.
    limit: LimitState | None = None
    # The comment's language (ISO 639-1, or `und`), for a keyed caller and the metrics.
    language: str = ENGLISH


class Intake:
    """Accepts comments for one store, policy and model."""

    def __init__(
        self,
        store: CommentStore,
        policies: PolicyStore,
        models: LiveModels,
        secret: bytes,
        retention: Retention | None = None,
        limits: PostingLimits | None = None,
        standings: Standings | None = None,
    ) -> None:
        self.store = store
        self.standings = standings or Standings(store.redis, store.keys)
        self.policies = policies
        self.models = models
        self.secret = secret
        self.retention = retention or Retention(store)
        self.limits = limits if limits is not None and limits.limits else None
        self._next_purge = 0.0

    def _forget_old(self) -> None:
        """Now and then, one process (whichever takes the lock) runs a retention pass."""
        now = time.monotonic()
        if now < self._next_purge:
            return
        self._next_purge = now + PURGE_EVERY_SECONDS
        if self.store.redis.set(self.store.keys.prefix + "purge-lock", "1", nx=True, ex=PURGE_EVERY_SECONDS):
            # Bounded, since it runs inside a request: a backlog (after an upgrade) is taken in turns.
            self.retention.run(max_batches=RETENTION_BATCHES_PER_PASS)

    def count_post(self, identities: tuple[str, ...]) -> LimitState | None:
        """Count a post that will not be stored (it failed validation) against the posting limits."""
        if self.limits is None or not identities:
            return None
        names, windows = self.limits.counters(identities)
        replies = self.store.redis.eval(COUNT_HITS, len(names), *names, *windows)
        return self.limits.state(list(replies))

    def submit(self, comment: CommentIn, origin: Origin, idempotency_key: str | None = None,
               identities: tuple[str, ...] = (), also_store: dict[str, str] | None = None,
               language: str | None = None) -> Receipt:
        """Score, decide and store one comment; the same idempotency key gives the same receipt.

        `identities` (the poster's IP address and email, see moderation.rate_limits) are counted
        against the posting limits in the same round trip as the reads; over one, RateLimited is
        raised and nothing is stored. `also_store` is kept on the comment as they are (the site that sent it).
        The comment's language is detected from its text; one too short to tell takes its article's
        language, else `language` (the page's, as a site's server sends it), else the site's.
        """
        key = author_key(self.secret, comment.email)
        identity = identity_key(self.secret, comment.email)
        network = network_of(origin.ip)
        net_key = network_key(self.secret, network) if network else ""
        fingerprint = text_fingerprint(comment.body)
        # Everything intake reads goes in one round trip, sent before scoring and read after it, so
        # Redis answers while the model works: an earlier use of the idempotency key, the policy's
        # version (the policy itself is cached; see PolicyStore), the article's mode, and the
        # author's history with this text. A replayed key or a closed article costs a wasted score.
        reads = EarlyReads(self.store.redis)
        idempotency = None
        if idempotency_key:
            # Without a website the request hashes as before the field existed, so a retry sent
            # across an upgrade still finds its comment.
            fields = comment.model_dump(exclude={"website"} if comment.website is None else None)
            request_fingerprint = hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:32]
            idempotency = (idempotency_key, request_fingerprint)
            reads.get(self.store.keys.idempotency(idempotency_key))
        policy_replies = self.policies.queue_for_article(reads, comment.article_id)
        # The article's own language, the fallback for a comment too short to tell, in the same round trip.
        policy_end = policy_replies + self.policies.queue_article_language(reads, comment.article_id)
        author_replies = self.store.queue_author_context(reads, key, fingerprint)
        # The window is the policy's as this process last knew it; a change reaches it within a second.
        since_ms = int(time.time() * 1000) - self.policies.cached().burst_window_seconds * 1000
        self.store.queue_recent_articles(reads, key, comment.article_id, since_ms)
        # The author's standing and record, and whether a banned author used this network lately.
        self.standings.queue_read(reads, identity, net_key)
        limits = self.limits if identities else None
        if limits is not None:
            # Last in the queue, so the reads' positions stay as they are.
            reads.eval(COUNT_HITS, *limits.counters(identities))
        reads.send()
        # The article's language comes back with the reads, after scoring: the text is scored in the
        # language it has with the hint known now, and again (rarely: a short text on an article in
        # another language, or a policy change this process has not seen) if the fallback changes it.
        hint = language or self.policies.cached().language
        author = Author(comment.name, comment.email, comment.website or "")
        try:
            models = self.models.current()
            started = time.perf_counter()
            detected = detect_language(comment.body, hint)
            assessment, shadow = self._score(models, comment.body, author, detected)
            scoring_seconds = time.perf_counter() - started
            replies = reads.replies()
        finally:
            reads.close()
        limit = limits.state(replies.pop()) if limits is not None else None
        if limit is not None and limit.refused:
            raise RateLimited(limit)
        if idempotency is not None:
            earlier = self._earlier(replies.pop(0), *idempotency)
            if earlier:
                return replace(earlier, limit=limit)

        policy, mode = self.policies.for_article_from(replies[:policy_replies])
        article_language = self.policies.article_language_from(replies[policy_replies:policy_end])
        fallback = article_language or language or policy.language
        if fallback != hint:
            again = detect_language(comment.body, fallback)
            if again.code != detected.code:
                started = time.perf_counter()
                assessment, shadow = self._score(models, comment.body, author, again)
                scoring_seconds += time.perf_counter() - started
            detected = again
        standing_values, linked_by = replies[-2:]
        standing = effective(list(standing_values), policy)
        if standing.refuses:
            self.standings.remember_network(net_key, identity, key)
            raise AuthorRefused(standing)
        if mode == "closed":
            raise ArticleClosed(comment.article_id)
        author_end = policy_end + author_replies
        approved, own_repeat, other_authors = self.store.author_context_from(replies[policy_end:author_end])
        recent_articles = self.store.recent_articles_from(replies[author_end:author_end + 2])
        linked = None
        if linked_by and policy.hold_linked_authors and approved <= 0:
            linked_identity, _, linked_author = str(linked_by).partition("|")
            if linked_identity != identity:
                linked = Reason("linked_author", detail=linked_author)
        rejects, holds = policy.author_lists.reasons(comment.email, origin.ip, comment.website or "", comment.body)
        decision = decide(
            policy,
            assessment,
            comment.body,
            article_mode=mode,
            author_approved=approved,
            own_repeat=own_repeat,
            other_authors=other_authors,
            recent_articles=recent_articles,
            author=AuthorContext(trusted=standing.state == "trusted", premoderated=standing.hold_reason(),
                                 linked=linked, rejects=rejects, holds=holds),
        )
        comment_id, created_at = new_comment_id()
        record = NewComment(
            id=comment_id,
            created_at=created_at,
            article_id=comment.article_id,
            parent_id=comment.parent_id,
            name=comment.name,
            email=comment.email,
            author_key=key,
            body=comment.body,
            origin=origin,
            website=comment.website or "",
            language=detected.code,
        )
        submitted = self.store.submit(
            record,
            assessment,
            decision,
            models.live.version,
            idempotency,
            text_fingerprint=fingerprint,
            duplicate_window=policy.duplicate_window_seconds,
            burst_window=policy.burst_window_seconds,
            extra={**shadow, **(also_store or {})},
            identity=identity,
        )
        self._forget_old()
        if submitted.duplicate:
            return replace(self._receipt(submitted.id, duplicate=True), limit=limit)
        return Receipt(
            comment_id,
            comment.article_id,
            poster_status(decision.status),
            created_at,
            decision=decision.status,
            reasons=decision.codes,
            scoring_seconds=scoring_seconds,
            limit=limit,
            spam=assessment.spam,
            abuse=assessment.abuse,
            language=detected.code,
        )

    @staticmethod
    def _score(models: Models, text: str, author: Author,
               language: DetectedLanguage) -> tuple[Assessment, dict[str, str]]:
        """The live model's assessment in the comment's language, and the shadow model's scores to record."""
        assessment = assess(models.live, text, author, language.code)
        shadow: dict[str, str] = {}
        if models.shadow is not None:
            # Recorded beside the live scores for `moderation models compare`; never acted on.
            trial = models.shadow.score(text, author, language.code)
            shadow = {"shadow_version": models.shadow.version, "shadow_spam": f"{trial.spam:.6f}",
                      "shadow_abuse": f"{trial.abuse:.6f}"}
        return assessment, shadow

    def _earlier(self, seen: str | None, idempotency_key: str, fingerprint: str) -> Receipt | None:
        """The receipt of an earlier post with this key (`seen` is what the key holds), if any."""
        if seen is None:
            return None
        comment_id, _, stored = str(seen).partition("|")
        if stored != fingerprint:
            raise IdempotencyMismatch(comment_id)
        return self._receipt(comment_id, duplicate=True)

    def _receipt(self, comment_id: str, duplicate: bool) -> Receipt:
        record = self.store.get(comment_id) or {}
        return Receipt(
            comment_id,
            record.get("article_id", ""),
            poster_status(record.get("status", "pending")),
            record.get("created_at", ""),
            duplicate,
            decision=record.get("status", "pending"),
            reasons=tuple(code for code in record.get("reason_codes", "").split(",") if code),
            spam=float(record["spam"]) if record.get("spam") else None,
            abuse=float(record["abuse"]) if record.get("abuse") else None,
            language=record.get("language") or ENGLISH,
        )
