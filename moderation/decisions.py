"""Moderators' decisions as labelled examples: exported, imported from another system, held out for evaluation."""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, TextIO, cast

from moderation.model.datasets import Example
from moderation.model.languages import ENGLISH, detect_language
from moderation.model.signals import Author
from moderation.store import CommentStore

Label = Literal["spam", "abuse", "ok", "not_spam", "not_abuse", "other"]
# What an imported row's `label` may say; `not_spam` and `not_abuse` judge one head and leave the other open.
IMPORTABLE: tuple[Label, ...] = ("spam", "abuse", "ok", "not_spam", "not_abuse")
IMPORTED_MAXLEN = 2_000_000
# One decision in five is kept out of training, so a retrained model is judged on decisions it never saw.
HOLDOUT_BUCKETS = 5
# Where a decision came from: a moderator here, a file from another system, or a drop-in client's feedback.
Source = Literal["moderator", "imported", "akismet", "perspective"]
_LABEL_HEADS: dict[str, tuple[int | None, int | None]] = {
    "spam": (1, 0), "abuse": (0, 1), "ok": (0, 0), "not_spam": (0, None), "not_abuse": (None, 0), "other": (None, None),
}


def label_for(spam: int | None, abuse: int | None) -> Label:
    """The one word that sums up a decision's two head labels."""
    if abuse == 1:
        return "abuse"
    if spam == 1:
        return "spam"
    if spam == 0 and abuse == 0:
        return "ok"
    if spam == 0:
        return "not_spam"
    return "not_abuse" if abuse == 0 else "other"


@dataclass(frozen=True, slots=True)
class Decision:
    """One human judgement of a comment: a label for either head or both, with the fields the spam signals read.

    `spam` and `abuse` are 1, 0, or None where the decision says nothing about that head (a rejection
    as off-topic, a Perspective suggestion of TOXICITY alone). The author's email is kept as its domain
    only: that is all the model reads of it, and it keeps the address out of the training data.
    """

    text: str
    spam: int | None
    abuse: int | None
    reason: str = ""
    comment_id: str = ""
    article_id: str = ""
    decided_at: str = ""
    decided_by: str = ""
    source: Source = "moderator"
    name: str = ""
    email_domain: str = ""
    website: str = ""

    @classmethod
    def labelled(cls, text: str, label: Label, **fields: Any) -> Decision:
        """A decision from one label word (spam, abuse, ok, not_spam, not_abuse, other)."""
        spam, abuse = _LABEL_HEADS[label]
        return cls(text, spam, abuse, **fields)

    @property
    def label(self) -> Label:
        return label_for(self.spam, self.abuse)

    @property
    def trainable(self) -> bool:
        return self.spam is not None or self.abuse is not None

    @property
    def author(self) -> Author:
        return Author(self.name, self.email_domain, self.website)

    @property
    def held_out(self) -> bool:
        key = (self.comment_id or self.text).encode()
        return int.from_bytes(hashlib.blake2b(key, digest_size=4).digest(), "big") % HOLDOUT_BUCKETS == 0


def email_domain(email: str) -> str:
    """The part of an address after its last @, lower-cased ('' for no address)."""
    return email.rpartition("@")[2].strip().lower()


def label_of(action: str, reason: str) -> Label:
    """A rejection for spam or abuse is a positive for that label; an approval is negative for both."""
    if action == "approve":
        return "ok"
    if reason in ("spam", "abuse"):
        return cast(Label, reason)
    return "other"


def human_decisions(store: CommentStore, batch: int = 1000) -> Iterator[Decision]:
    """Every comment a moderator decided, oldest first within each queue."""
    for queue in ("approved", "rejected"):
        key = store.keys.queue(queue)
        cursor = "-"
        while True:
            ids: list[str] = store.redis.zrangebylex(key, cursor, "+", 0, batch)  # type: ignore[assignment]
            if not ids:
                break
            for record in store.get_many(ids):
                if not record.get("decided_by"):
                    continue  # rejected by the machine: not a human label
                yield Decision.labelled(
                    record.get("body", ""),
                    label_of(record.get("decision", ""), record.get("decision_reason", "")),
                    reason=record.get("decision_reason", ""),
                    comment_id=record["id"],
                    article_id=record.get("article_id", ""),
                    decided_at=record.get("decided_at", ""),
                    decided_by=record.get("decided_by", ""),
                    name=record.get("name", ""),
                    email_domain=email_domain(record.get("email", "")),
                    website=record.get("website", ""),
                )
            cursor = "(" + ids[-1]
            if len(ids) < batch:
                break


def _head(value: str | None) -> int | None:
    return None if value in (None, "") else int(value)


def imported_decisions(store: CommentStore) -> Iterator[Decision]:
    """Decisions from outside the queue: `moderation import-decisions` files and drop-in clients' feedback."""
    last = "-"
    while True:
        entries = cast(
            list[tuple[str, dict[str, str]]], store.redis.xrange(store.keys.imported_decisions, min=last, count=1000)
        )
        if not entries:
            return
        for entry_id, fields in entries:
            # Entries written before per-head labels hold a `label` word only.
            spam, abuse = ((_head(fields.get("spam")), _head(fields.get("abuse"))) if "spam" in fields
                           else _LABEL_HEADS[fields.get("label", "other")])
            yield Decision(
                fields["text"],
                spam,
                abuse,
                # Entries imported before ids were stored fall back to their stream id.
                comment_id=fields.get("comment_id") or "imported-" + entry_id,
                article_id=fields.get("article_id", ""),
                decided_at=fields.get("decided_at", ""),
                source=cast(Source, fields.get("source") or "imported"),
                name=fields.get("name", ""),
                email_domain=fields.get("email_domain", ""),
                website=fields.get("website", ""),
            )
        last = "(" + entries[-1][0]


def all_decisions(store: CommentStore) -> list[Decision]:
    return [*human_decisions(store), *imported_decisions(store)]


SITE_SOURCE = "site"


def training_examples(decisions: Iterable[Decision], site_language: str = ENGLISH) -> list[Example]:
    """The decisions a model may learn from, in their language: every labelled one but the held-out fifth."""
    return [Example(d.text, SITE_SOURCE, d.spam, d.abuse, d.author, detect_language(d.text, site_language).code)
            for d in decisions if d.trainable and not d.held_out]


FIELDS = ["text", "label", *(f for f in Decision.__dataclass_fields__ if f != "text")]


def write(decisions: Iterable[Decision], out: TextIO, fmt: Literal["csv", "jsonl"]) -> int:
    """Write decisions as CSV or JSON Lines; returns how many."""
    count = 0
    writer = csv.DictWriter(out, fieldnames=FIELDS) if fmt == "csv" else None
    if writer:
        writer.writeheader()
    for decision in decisions:
        row = {"text": decision.text, "label": decision.label, **asdict(decision)}
        if writer:
            writer.writerow(row)
        else:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
    return count


class BadImport(ValueError):
    """The file has bad rows; nothing was imported."""


def read_import(path: Path) -> list[Decision]:
    """Rows with `text` and `label` (spam, abuse, ok, not_spam, not_abuse), optional `comment_id` (the other
    system's), `article_id`, `decided_at`, `name`, `email` (only its domain is kept) and `website`; all or nothing."""
    rows: list[dict[str, str]] = []
    with path.open(newline="", encoding="utf-8") as handle:
        if path.suffix in (".jsonl", ".ndjson"):
            rows = [json.loads(line) for line in handle if line.strip()]
        else:
            rows = list(csv.DictReader(handle))
    problems: list[str] = []
    decisions: list[Decision] = []
    first = 2 if path.suffix not in (".jsonl", ".ndjson") else 1  # CSV line 1 is the header
    for number, row in enumerate(rows, first):
        text = str(row.get("text") or "").strip()
        label = str(row.get("label") or "").strip().lower()
        wrong = [] if text else [f"line {number}: text is empty"]
        if label not in IMPORTABLE:
            wrong.append(f"line {number}: label must be one of {', '.join(IMPORTABLE)}, not {label!r}")
        problems += wrong
        if not wrong:
            decisions.append(Decision.labelled(
                text,
                cast(Label, label),
                comment_id=str(row.get("comment_id") or "").strip(),
                article_id=str(row.get("article_id") or ""),
                decided_at=str(row.get("decided_at") or ""),
                source="imported",
                name=str(row.get("name") or "").strip(),
                email_domain=email_domain(str(row.get("email") or row.get("email_domain") or "")),
                website=str(row.get("website") or "").strip(),
            ))
    if problems:
        raise BadImport("; ".join(problems[:20]) + (f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""))
    return decisions


def _head_field(value: int | None) -> str:
    return "" if value is None else str(value)


def imported_id(decision: Decision) -> str:
    """The id an imported decision is kept under: its own system's, else one its text and article determine.

    The held-out fifth is chosen by this id, so importing the same file twice, or the same comment from
    two systems, puts each comment on the same side of the split: never trained on and tested on at once.
    """
    if decision.comment_id:
        return decision.comment_id
    digest = hashlib.blake2b(f"{decision.article_id}\0{decision.text}".encode(), digest_size=8).hexdigest()
    return f"imported-{digest}"


def store_imported(store: CommentStore, decisions: Sequence[Decision]) -> int:
    """Append decisions from outside the queue in one transaction, so a failed import leaves nothing half-loaded."""
    with store.redis.pipeline(transaction=True) as pipe:
        for decision in decisions:
            pipe.xadd(
                store.keys.imported_decisions,
                {"comment_id": imported_id(decision), "text": decision.text,
                 "spam": _head_field(decision.spam), "abuse": _head_field(decision.abuse),
                 "source": decision.source, "article_id": decision.article_id, "decided_at": decision.decided_at,
                 "name": decision.name, "email_domain": decision.email_domain, "website": decision.website},
                maxlen=IMPORTED_MAXLEN,
                approximate=True,
            )
        pipe.execute()
    return len(decisions)
