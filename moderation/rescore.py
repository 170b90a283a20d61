"""Rescoring stored comments with another model: batched, resumable, shared by several workers."""

from __future__ import annotations

import inspect
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

import numpy as np

from moderation.comments import now_iso
from moderation.model.languages import ENGLISH, SUPPORTED_LANGUAGES
from moderation.model.signals import Author
from moderation.policy import Assessment, Policy, Reason, Word, score_reasons
from moderation.store import EVENTS_MAXLEN, CommentStore, lua_script

FIELDS = ("id", "body", "status", "version", "decided_by", "reasons", "spam", "abuse", "name", "email", "website",
          "language")
# Rules whose firing alone rejects a comment (the rest hold it).
_REJECTING_RULES = {"blocked_term"}
# Reasons the scores and the language give, which a rescore works out again (the other rules stand).
_SCORE_REASONS = {"spam", "abuse", "unsupported_language"}


class BatchModel(Protocol):
    version: str

    def probabilities(self, texts: Sequence[str], workers: int = ...,
                      authors: Sequence[Author] | None = ...) -> np.ndarray: ...

    def score_many(self, texts: Sequence[str], authors: Sequence[Author] | None = ...,
                   languages: Sequence[str] | None = ...) -> list[Any]: ...


def _author(record: dict[str, str]) -> Author:
    """The form fields a comment was posted with (blank in comments stored before they were kept)."""
    return Author(record.get("name") or "", record.get("email") or "", record.get("website") or "")


def _language(record: dict[str, str]) -> str:
    """The language detected at intake (English for a comment stored before languages were)."""
    return record.get("language") or ENGLISH


@dataclass
class Report:
    """What a rescore did (or, dry, would do)."""

    scanned: int = 0
    rescored: int = 0
    human_kept: int = 0
    raced: int = 0
    moves: Counter[str] = field(default_factory=Counter)
    examples: list[dict[str, Any]] = field(default_factory=list)
    dry: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "scanned": self.scanned,
            "rescored": self.rescored,
            "would_move" if self.dry else "moved": dict(self.moves),
            "human_decisions_kept": self.human_kept,
            "changed_by_moderators_meanwhile": self.raced,
            "examples": self.examples,
        }


# One comment's new scores and automatic decision: (record, spam, abuse, status, reasons).
Plan = tuple[dict[str, str], float, float, str, list[Reason]]


def _rule_reasons(stored: str) -> list[Reason]:
    kept = []
    for reason in json.loads(stored or "[]"):
        if reason["code"] in _SCORE_REASONS:
            continue
        words = tuple(Word(w["start"], w["end"], w["text"], w["weight"]) for w in reason.get("words", []))
        kept.append(Reason(reason["code"], reason.get("score"), words, detail=reason.get("detail") or ""))
    return kept


def redecide(policy: Policy, record: dict[str, str], spam: float, abuse: float,
             evidence: Any | None = None, *, language_supported: bool | None = None) -> tuple[str, list[Reason]]:
    """The automatic decision with new scores: rules that fired at intake still count, and the scores are
    read as intake reads them (`score_reasons`: the thresholds of the comment's stored language, and no
    abuse verdict in a language the model does not know, unless `language_supported` says it does)."""
    rules = _rule_reasons(record.get("reasons", ""))
    rejects = [r for r in rules if r.code in _REJECTING_RULES or (r.code == "duplicate" and r.score is None)]
    holds = [r for r in rules if r not in rejects]
    language = _language(record)

    def words(attr: str) -> tuple[Word, ...]:
        return tuple(Word(e.start, e.end, e.text, e.weight) for e in getattr(evidence, attr, ())) if evidence else ()

    assessment = Assessment(
        spam, abuse, words("spam_words"), words("abuse_words"),
        tuple(getattr(evidence, "spam_signals", ())) if evidence else (), language,
        language in SUPPORTED_LANGUAGES if language_supported is None else language_supported,
    )
    score_rejects, score_holds = score_reasons(policy, assessment)
    rejects += score_rejects
    holds += score_holds
    if rejects:
        return "rejected", rejects + holds
    if holds:
        return "pending", holds
    return "published", []


class Rescorer:
    """One worker of a rescore job; run several (on any machine) with the same job id to share it."""

    def __init__(self, store: CommentStore, model: BatchModel, policy: Policy, *, job: str | None = None,
                 batch: int = 2000, lease_seconds: int = 120) -> None:
        self.store = store
        self.model = model
        self.policy = policy
        self.job = job or f"rescore-{model.version}"
        self.batch = batch
        self.lease_ms = lease_seconds * 1000
        prefix = store.keys.prefix
        self.job_key = f"{prefix}job:{self.job}"
        self.leases_key = f"{self.job_key}:leases"
        self._claim = store.redis.register_script(lua_script("rescore_claim.lua"))
        self._apply = store.redis.register_script(lua_script("rescore_apply.lua", "queue_scores.lua", "history.lua"))
        self._fetch = store.redis.register_script(lua_script("rescore_read.lua"))

    def reset(self) -> None:
        self.store.redis.delete(self.job_key, self.leases_key)

    def progress(self) -> dict[str, int]:
        state = cast(dict[str, str], self.store.redis.hgetall(self.job_key))
        total = int(self.store.redis.zcard(self.store.keys.all_comments))
        return {"total": total, **{k: int(v) for k, v in state.items() if k != "cursor"}}

    def _read(self, ids: list[str]) -> list[dict[str, str]]:
        """Return the stored fields of the comments that still exist among ids, in one round trip."""
        if not ids:
            return []
        # The index key is passed only so that a cluster routes the script to the comments' slot.
        flat = self._fetch(keys=[self.store.keys.all_comments],
                           args=[self.store.keys.prefix, len(FIELDS), *FIELDS, *ids])
        width = len(FIELDS)
        rows = (flat[i : i + width] for i in range(0, len(flat), width))
        return [dict(zip(FIELDS, values, strict=True)) for values in rows if values[0]]

    def _plan(self, records: list[dict[str, str]]) -> list[Plan]:
        """New scores for a batch (one vectorised call), and each comment's new automatic decision."""
        if not records:
            return []
        scores = self._scores(records)
        plans = []
        needs_words = []
        for index, (record, (spam, abuse, supported)) in enumerate(zip(records, scores, strict=True)):
            status, reasons = redecide(self.policy, record, spam, abuse, language_supported=supported)
            if record["decided_by"] or (record["status"] == "published" and not self.policy.rescore_unpublish):
                status = record["status"]
            plans.append((record, float(spam), float(abuse), status, reasons))
            if status != record["status"] and status != "published":
                needs_words.append(index)
        # The words behind a score are worth computing only where a moderator will now look at them.
        if needs_words:
            evidence = self.model.score_many([records[i]["body"] for i in needs_words],
                                             [_author(records[i]) for i in needs_words],
                                             [_language(records[i]) for i in needs_words])
            for index, found in zip(needs_words, evidence, strict=True):
                record, spam, abuse, status, _ = plans[index]
                _, reasons = redecide(self.policy, record, spam, abuse, found,
                                      language_supported=scores[index][2])
                plans[index] = (record, spam, abuse, status, reasons)
        return plans

    def _scores(self, records: list[dict[str, str]]) -> list[tuple[float, float, bool]]:
        """Each comment's spam and abuse scores in its stored language, and whether the model knows that language.

        One vectorised call where the model's `probabilities` takes the languages, or all are English;
        otherwise the English comments go through it and the others through `score_many` in theirs.
        """
        texts = [r["body"] or "" for r in records]
        authors = [_author(r) for r in records]
        languages = [_language(r) for r in records]
        known = [language in SUPPORTED_LANGUAGES for language in languages]
        probabilities: Any = self.model.probabilities
        if all(language == ENGLISH for language in languages):
            found = probabilities(texts, authors=authors)
            return [(float(spam), float(abuse), True) for spam, abuse in found]
        if "languages" in inspect.signature(probabilities).parameters:
            found = probabilities(texts, authors=authors, languages=languages)
            return [(float(spam), float(abuse), ok) for (spam, abuse), ok in zip(found, known, strict=True)]
        english = [i for i, language in enumerate(languages) if language == ENGLISH]
        others = [i for i, language in enumerate(languages) if language != ENGLISH]
        scores: list[tuple[float, float, bool]] = [(0.0, 0.0, True)] * len(records)
        if english:
            found = probabilities([texts[i] for i in english], authors=[authors[i] for i in english])
            for i, (spam, abuse) in zip(english, found, strict=True):
                scores[i] = (float(spam), float(abuse), True)
        scored = self.model.score_many([texts[i] for i in others], [authors[i] for i in others],
                                       [languages[i] for i in others])
        for i, one in zip(others, scored, strict=True):
            scores[i] = (float(one.spam), float(one.abuse), bool(getattr(one, "language_supported", known[i])))
        return scores

    def _ranges(self) -> Iterator[tuple[str, list[str]]]:
        while True:
            claimed: list[str] = self._claim(
                keys=[self.store.keys.all_comments, self.job_key, self.leases_key],
                args=[self.batch, int(time.time() * 1000), self.lease_ms],
            )
            if not claimed:
                return
            yield claimed[0], claimed[1:]

    def run(self, *, dry_run: bool = False, examples: int = 10,
            on_batch: Callable[[int], None] | None = None) -> Report:
        """Rescore until the job has no ranges left; dry runs change nothing and report what would move."""
        report = Report(dry=dry_run)
        batches = self._dry_batches() if dry_run else self._ranges()
        # A batch's write runs in a thread while the next batch is read and scored, so Redis works
        # through the script while Python works on the model instead of each waiting for the other.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="rescore-write") as writer:
            writing: Future[None] | None = None
            for lease, ids in batches:
                plans = self._plan(self._read(ids))
                report.scanned += len(ids)
                self._tally(plans, report, dry_run, examples)
                if not dry_run:
                    args = self._write_args(lease, plans, report)
                    if writing is not None:
                        writing.result()  # one write in flight: bounded memory, and its errors surface here
                    writing = writer.submit(self._apply_batch, args, report)
                if on_batch:
                    on_batch(len(ids))
            if writing is not None:
                writing.result()
        return report

    @staticmethod
    def _tally(plans: list[Plan], report: Report, dry_run: bool, examples: int) -> None:
        """Add a batch's examples to the report, and for a dry run what it would have moved."""
        for record, spam, abuse, status, reasons in plans:
            if status != record["status"]:
                if dry_run:
                    report.moves[f"{record['status']}>{status}"] += 1
                if len(report.examples) < examples:
                    report.examples.append({"id": record["id"], "from": record["status"], "to": status,
                                            "spam": round(spam, 4), "abuse": round(abuse, 4),
                                            "reasons": [r.code for r in reasons],
                                            "text": record["body"][:120]})
        if dry_run:
            report.rescored += len(plans)
            report.human_kept += sum(1 for p in plans if p[0]["decided_by"])

    def _dry_batches(self) -> Iterator[tuple[str, list[str]]]:
        cursor = "-"
        while True:
            ids = cast(list[str], self.store.redis.zrangebylex(
                self.store.keys.all_comments, cursor, "+", 0, self.batch))
            if not ids:
                return
            yield "", ids
            cursor = "(" + ids[-1]

    def _write_args(self, lease: str, plans: list[Plan], report: Report) -> list[Any]:
        """Return the apply script's arguments for a batch, counting the moves it asks for."""
        args: list[Any] = [self.store.keys.prefix, self.model.version, now_iso(), EVENTS_MAXLEN, lease]
        for record, spam, abuse, status, reasons in plans:
            changed = status != record["status"] and not record["decided_by"]
            args += [record["id"], record["version"], f"{spam:.6f}", f"{abuse:.6f}", status if changed else "",
                     json.dumps([r.as_dict() for r in reasons], separators=(",", ":")) if changed else "",
                     ",".join(r.code for r in reasons) if changed else ""]
            if changed:
                report.moves[f"{record['status']}>{status}"] += 1
        return args

    def _apply_batch(self, args: list[Any], report: Report) -> None:
        """Run the apply script for one batch (in the writer thread) and count what it did."""
        k = self.store.keys
        rescored, _moved, human, raced = self._apply(
            keys=[k.queue("pending"), k.queue("rejected"), k.events, k.stats, self.job_key, self.leases_key,
                  *k.scored_queue_keys("pending"), k.queue("reported"), *k.scored_queue_keys("reported"),
                  k.queue_scores_built],
            args=args,
        )
        report.rescored += int(rescored)
        report.human_kept += int(human)
        report.raced += int(raced)
