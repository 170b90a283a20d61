"""Statements of reasons in the EU DSA Transparency Database's fields, and their submission (Art. 24(5)).

An online platform sends every statement of reasons it gives (Art. 17(1)) to the Commission's database
"without undue delay". This module writes a `Statement` in the fields and values of the database's API
(the "API and Schema" documentation at transparency.dsa.ec.europa.eu/page/api-documentation, with
the schema in force since 1 July 2025, "API v2", whose categories differ from the first one's), and
sends them in the batches its multiple endpoint takes (at most 100), with the platform's token.

Sending is resumable and never sends one statement twice: the puids the database accepted go into a
Redis set, which every run reads before it sends, and a puid the database says it already holds (a
run that died between the database's 201 and our write) is taken as sent. A batch that fails (a 5xx,
a 429, no answer) is tried again after a pause, and, if it still fails, left for the next run.

Nothing here is sent anywhere unless the caller gives an endpoint and a token: the command line
refuses to run without both.
"""

from __future__ import annotations

import json
import re
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from redis import Redis

from moderation.comments import id_prefix
from moderation.dsa.statement import Statement, statement_for
from moderation.keys import Keys
from moderation.policy import Policy

# The multiple endpoint's limit: "The multiple endpoint is capable of making 100 statements per call."
BATCH_LIMIT = 100
# The batch of comments read from Redis at a time (one ZRANGEBYLEX and one pipeline of HGETALLs).
READ_BATCH = 500

# The categories of the current schema (API v2), as the documentation lists them.
CATEGORIES = frozenset({
    "STATEMENT_CATEGORY_ANIMAL_WELFARE",
    "STATEMENT_CATEGORY_CONSUMER_INFORMATION",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN",
    "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
    "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
    "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
    "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
    "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE",
    "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
    "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
    "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
    "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
    "STATEMENT_CATEGORY_SELF_HARM",
    "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS",
    "STATEMENT_CATEGORY_VIOLENCE",
})
# The first schema's names that v2 renamed, so a statement or notice stored with an old name still goes out
# in a value the database accepts ("scope of platform service" became "other violation of the terms").
RENAMED_CATEGORIES = {
    "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE": "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
    "STATEMENT_CATEGORY_UNSAFE_AND_ILLEGAL_PRODUCTS": "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS",
    "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR": "STATEMENT_CATEGORY_CYBER_VIOLENCE",
}
# A comment is taken down everywhere the site is read: the whole European Economic Area, unless configured.
EEA = ("AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IS", "IT", "LI",
       "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK")
# content_language is optional; we name one only when the detector is sure and it is an official EU language.
EU_LANGUAGES = frozenset({"BG", "CS", "DA", "DE", "EL", "EN", "ES", "ET", "FI", "FR", "GA", "HR", "HU", "IT", "LT",
                          "LV", "MT", "NL", "PL", "PT", "RO", "SK", "SL", "SV"})
# The documentation's limits on free text (characters).
LIMITS = {"decision_facts": 5000, "illegal_content_legal_ground": 500, "illegal_content_explanation": 2000,
          "incompatible_content_ground": 500, "incompatible_content_explanation": 2000,
          "decision_ground_reference_url": 500, "puid": 500}
# "alphanumeric characters (a-z, A-Z, 0-9), hyphens "-" and underscores "_" only".
PUID = re.compile(r"^[A-Za-z0-9_-]{1,500}$")
SOURCES = {"own_initiative": "SOURCE_VOLUNTARY", "notice": "SOURCE_ARTICLE_16",
           "trusted_flagger": "SOURCE_TRUSTED_FLAGGER"}


def database_category(category: str) -> str:
    """Our lower-case category (the API's value without `STATEMENT_CATEGORY_`) as the API's current value."""
    name = category.strip().upper()
    if not name.startswith("STATEMENT_CATEGORY_"):
        name = "STATEMENT_CATEGORY_" + name
    name = RENAMED_CATEGORIES.get(name, name)
    if name not in CATEGORIES:
        # A category the schema does not have would cost the whole batch a 422; the site's terms are the
        # ground of every restriction we make that is not a law, so "other violation of the terms" is true.
        return "STATEMENT_CATEGORY_OTHER_VIOLATION_TC"
    return name


def puid_for(statement: Statement, prefix: str = "") -> str:
    """The statement's platform unique identifier: the comment id and the moment of the decision.

    The database wants a puid per statement, never re-used: a comment whose removal was reversed on
    appeal and that is removed again later has a second statement, which must not collide with the
    first. The comment id leads, so the site finds the comment from the database's record.
    """
    moment = re.sub(r"[^0-9]", "", statement.decided_at)[:17]  # 2026-12-06T21:18:46.123Z -> 20261206211846123
    puid = f"{prefix}{statement.comment_id}" + (f"-{moment}" if moment else "")
    if not PUID.fullmatch(puid):
        raise ValueError(f"puid {puid!r}: the database takes only letters, digits, '-' and '_' (500 at most)")
    return puid


def _day(iso: str) -> str:
    return iso[:10]


def _clip(name: str, text: str) -> str:
    limit = LIMITS[name]
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _language(body: str) -> str | None:
    from moderation.perspective import detect_languages

    found = detect_languages(body) if body else []
    code = found[0].split("-")[0].upper() if found else ""
    return code if code in EU_LANGUAGES else None


def _source(statement: Statement, record: dict[str, str]) -> str:
    source = SOURCES.get(statement.source, "SOURCE_VOLUNTARY")
    if source == "SOURCE_VOLUNTARY" and any(json.loads(line).get("event") == "reported"
                                            for line in (record.get("history") or "").split("\n") if line):
        # A reader's report is not an Art. 16 notice; v2 has "Other type of notification" for it.
        return "SOURCE_TYPE_OTHER_NOTIFICATION"
    return source


def to_database(statement: Statement, record: dict[str, str], *, puid_prefix: str = "",
                territorial_scope: Iterable[str] = EEA, detect_language: bool = True) -> dict[str, Any]:
    """The statement in the database API's fields and values, ready for `POST /api/v1/statements`.

    No personal data goes in (Art. 24(5)): not the author's name, email or text, nor the notifier's.
    The facts are our own sentence; the explanation is the moderator's, which the console asks them to
    keep free of names.
    """
    ground = statement.ground
    out: dict[str, Any] = {
        "decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED" if statement.restriction == "removal"
                                else "DECISION_VISIBILITY_CONTENT_DISABLED"],
        "decision_facts": _clip("decision_facts", statement.facts),
        "category": database_category(statement.category),
        "content_type": ["CONTENT_TYPE_TEXT"],
        "content_date": _day(record.get("created_at") or statement.decided_at),
        "application_date": _day(statement.decided_at),
        "territorial_scope": sorted(set(territorial_scope)),
        "source_type": _source(statement, record),
        "automated_detection": "Yes" if statement.automated_detection else "No",
        "automated_decision": ("AUTOMATED_DECISION_FULLY" if statement.automated_decision == "fully"
                               else "AUTOMATED_DECISION_NOT_AUTOMATED"),
        "puid": puid_for(statement, puid_prefix),
    }
    # Required, so never empty: the facts say what happened when no one wrote an explanation.
    explanation = ground.explanation.strip() or statement.facts
    if ground.kind == "illegal_content":
        out["decision_ground"] = "DECISION_GROUND_ILLEGAL_CONTENT"
        out["illegal_content_legal_ground"] = _clip("illegal_content_legal_ground",
                                                    (ground.title or ground.code).strip() or "the law")
        out["illegal_content_explanation"] = _clip("illegal_content_explanation", explanation)
    else:
        out["decision_ground"] = "DECISION_GROUND_INCOMPATIBLE_CONTENT"
        named = f"{ground.code}: {ground.title}" if ground.title else ground.code
        out["incompatible_content_ground"] = _clip("incompatible_content_ground", named)
        out["incompatible_content_explanation"] = _clip("incompatible_content_explanation", explanation)
    if ground.url and len(ground.url) <= LIMITS["decision_ground_reference_url"]:
        out["decision_ground_reference_url"] = ground.url
    if detect_language:
        language = _language(record.get("body") or "")
        if language:
            out["content_language"] = language
    return out


# -- reading the restricted comments -----------------------------------------------------------------


def restricted_records(redis: Redis, keys: Keys, start_ms: int, end_ms: int,
                       batch: int = READ_BATCH) -> Iterator[dict[str, str]]:
    """The rejected comments posted in [start_ms, end_ms), oldest first, read a batch at a time.

    Ids are ULIDs, so the index of all comments (members at one score) in lexical order is time order,
    and the range is the ids from the first one made at `start_ms` to the last one made before `end_ms`.
    """
    cursor, upper = "[" + id_prefix(max(start_ms, 0)), "(" + id_prefix(max(end_ms, 0))
    while True:
        ids: list[str] = redis.zrangebylex(keys.all_comments, cursor, upper, 0, batch)  # type: ignore[assignment]
        if not ids:
            return
        # The status first (a few bytes a comment), then the whole hash of the rejected ones only: most
        # comments are published, and their bodies need not cross the wire.
        pipe = redis.pipeline(transaction=False)
        for comment_id in ids:
            pipe.hget(keys.comment(comment_id), "status")
        rejected = [i for i, status in zip(ids, pipe.execute(), strict=True) if status == "rejected"]
        if rejected:
            pipe = redis.pipeline(transaction=False)
            for comment_id in rejected:
                pipe.hgetall(keys.comment(comment_id))
            for record in pipe.execute():
                if record and record.get("status") == "rejected":
                    yield record
        if len(ids) < batch:
            return
        cursor = "(" + ids[-1]


def statements(redis: Redis, keys: Keys, policy: Policy, start_ms: int, end_ms: int
               ) -> Iterator[tuple[Statement, dict[str, str]]]:
    """Each statement of reasons for the comments posted in the range (spam gives none: Art. 17(2))."""
    for record in restricted_records(redis, keys, start_ms, end_ms):
        statement = statement_for(record, policy)
        if statement is not None:
            yield statement, record


def database_statements(redis: Redis, keys: Keys, policy: Policy, start_ms: int, end_ms: int,
                        **options: Any) -> Iterator[dict[str, Any]]:
    """The statements of the range in the database's fields (options as `to_database` takes them)."""
    for statement, record in statements(redis, keys, policy, start_ms, end_ms):
        yield to_database(statement, record, **options)


# -- submission -------------------------------------------------------------------------------------


class SubmitRefused(Exception):
    """The database refused us for a reason a retry cannot mend (the token, the endpoint): stop."""


class SubmitBusy(Exception):
    """Another `moderation dsa submit` is running: two at once could both send one statement."""


@dataclass
class SubmitReport:
    sent: int = 0  # accepted by the database in this run
    already_sent: int = 0  # skipped: sent by an earlier run
    invalid: dict[str, Any] = field(default_factory=dict)  # puid -> the database's errors for it
    failed_batches: int = 0  # batches given up on after every attempt: the next run sends them
    attempts: int = 0  # HTTP requests made

    @property
    def complete(self) -> bool:
        return not self.invalid and not self.failed_batches

    def as_dict(self) -> dict[str, Any]:
        return {"sent": self.sent, "already_sent": self.already_sent, "invalid": self.invalid,
                "failed_batches": self.failed_batches, "requests": self.attempts}


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect would carry the token to wherever it points; the endpoint is configured exactly instead.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _post(opener: urllib.request.OpenerDirector, url: str, token: str, body: bytes,
          timeout: float) -> tuple[int, Any]:
    """POST and return (status, parsed JSON body or None); status 0 when no answer came."""
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Authorization": f"Bearer {token}", "Accept": "application/json", "Content-Type": "application/json"})
    try:
        with opener.open(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as failure:
        status, raw = failure.code, failure.read()
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError):
        return 0, None
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, None


@dataclass
class Submitter:
    """Sends statements to the database's multiple endpoint, remembering what it accepted."""

    redis: Redis
    keys: Keys
    url: str
    token: str = field(repr=False)
    batch: int = BATCH_LIMIT
    attempts: int = 3
    backoff: float = 2.0  # seconds before the second attempt; doubled for each one after
    timeout: float = 60.0
    lock_seconds: int = 3600  # how long a run that died keeps others out
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self) -> None:
        if not self.url or not self.token:
            raise ValueError("the database's endpoint and token are both needed")
        if not 1 <= self.batch <= BATCH_LIMIT:
            raise ValueError(f"a batch holds 1 to {BATCH_LIMIT} statements")
        self._opener = urllib.request.build_opener(_NoRedirects)

    @property
    def sent_key(self) -> str:
        return self.keys.dsa_tdb_sent

    def unsent(self, candidates: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not candidates:
            return []
        flags = self.redis.smismember(self.sent_key, [c["puid"] for c in candidates])
        return [c for c, sent in zip(candidates, flags, strict=True) if not sent]

    def _mark_sent(self, puids: Iterable[str]) -> None:
        chosen = list(puids)
        if chosen:
            self.redis.sadd(self.sent_key, *chosen)

    def submit(self, items: Iterable[dict[str, Any]],
               progress: Callable[[int], None] | None = None) -> SubmitReport:
        """Send every statement not sent before; raises SubmitRefused when the database refuses us."""
        owner = secrets.token_hex(8)
        if not self.redis.set(self.keys.dsa_tdb_lock, owner, nx=True, ex=self.lock_seconds):
            raise SubmitBusy("another `moderation dsa submit` is running")
        try:
            report = SubmitReport()
            pending: list[dict[str, Any]] = []
            for item in items:
                pending.append(item)
                if len(pending) >= READ_BATCH:
                    self._send_all(pending, report, progress, owner)
                    pending = []
                    if report.failed_batches:
                        # The Database is down or overloaded: stop here, the next run sends the rest.
                        return report
            self._send_all(pending, report, progress, owner)
            return report
        finally:
            if self.redis.get(self.keys.dsa_tdb_lock) == owner:
                self.redis.delete(self.keys.dsa_tdb_lock)

    def _send_all(self, candidates: list[dict[str, Any]], report: SubmitReport,
                  progress: Callable[[int], None] | None, owner: str) -> None:
        todo = self.unsent(candidates)
        report.already_sent += len(candidates) - len(todo)
        for start in range(0, len(todo), self.batch):
            chunk = todo[start:start + self.batch]
            self._send(chunk, report)
            if progress:
                progress(len(chunk))
            if report.failed_batches:
                return
            # A long backlog outlasts the lock's first hour: keep it while this run is alive.
            if self.redis.get(self.keys.dsa_tdb_lock) == owner:
                self.redis.expire(self.keys.dsa_tdb_lock, self.lock_seconds)

    def _send(self, chunk: list[dict[str, Any]], report: SubmitReport) -> None:
        attempt = 0
        while chunk:
            attempt += 1
            report.attempts += 1
            body = json.dumps({"statements": chunk}, ensure_ascii=False).encode()
            status, answer = _post(self._opener, self.url, self.token, body, self.timeout)
            if status in (200, 201):
                self._mark_sent(c["puid"] for c in chunk)
                report.sent += len(chunk)
                return
            if status == 401:
                raise SubmitRefused("the database refused the token (401): generate a new one in its profile page")
            if status == 422 and isinstance(answer, dict):
                chunk = self._after_422(chunk, answer, report)
                attempt = 0
                continue
            if status == 0 or status == 429 or status >= 500:
                # "If you did not receive a 201 Created, then the statement was not made ... retry at a later time."
                if attempt >= self.attempts:
                    report.failed_batches += 1
                    return
                self.sleep(self.backoff * 2 ** (attempt - 1))
                continue
            raise SubmitRefused(f"the database answered {status}: nothing more sent (check the endpoint URL)")

    def _after_422(self, chunk: list[dict[str, Any]], answer: dict[str, Any],
                   report: SubmitReport) -> list[dict[str, Any]]:
        """What to send again after a 422, in which the database created none of the batch."""
        errors = answer.get("errors") or {}
        existing = errors.get("existing_puids") if isinstance(errors, dict) else None
        if existing:
            # Already in the database: an earlier run's batch whose 201 we never recorded. Sent, then.
            held = {str(p) for p in existing} & {c["puid"] for c in chunk}
            if not held:
                raise SubmitRefused(f"the database refused the batch (422): {json.dumps(answer)[:500]}")
            self._mark_sent(held)
            report.already_sent += len(held)
            return [c for c in chunk if c["puid"] not in held]
        bad: dict[int, Any] = {}
        for name, problems in (errors.items() if isinstance(errors, dict) else ()):
            match = re.fullmatch(r"statement_(\d+)", str(name))
            if match and int(match.group(1)) < len(chunk):
                bad[int(match.group(1))] = problems
        if not bad:
            raise SubmitRefused(f"the database refused the batch (422): {json.dumps(answer)[:500]}")
        for index, problems in bad.items():
            report.invalid[chunk[index]["puid"]] = problems
        return [c for i, c in enumerate(chunk) if i not in bad]
