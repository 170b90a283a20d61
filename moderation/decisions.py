"""Moderators' decisions as labelled examples: exported, imported from another system, held out for evaluation."""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal, TextIO, cast

from moderation.store import CommentStore

Label = Literal["spam", "abuse", "ok", "other"]
TRAINABLE: tuple[Label, ...] = ("spam", "abuse", "ok")
IMPORTED_MAXLEN = 2_000_000
# One decision in five is kept out of training, so a retrained model is judged on decisions it never saw.
HOLDOUT_BUCKETS = 5


@dataclass(frozen=True, slots=True)
class Decision:
    """One human judgement of a text: a label the model can learn from."""

    text: str
    label: Label
    reason: str = ""
    comment_id: str = ""
    article_id: str = ""
    decided_at: str = ""
    decided_by: str = ""
    source: Literal["moderator", "imported"] = "moderator"

    @property
    def held_out(self) -> bool:
        key = (self.comment_id or self.text).encode()
        return int.from_bytes(hashlib.blake2b(key, digest_size=4).digest(), "big") % HOLDOUT_BUCKETS == 0

    @property
    def spam(self) -> int | None:
        return None if self.label == "other" else int(self.label == "spam")

    @property
    def abuse(self) -> int | None:
        return None if self.label == "other" else int(self.label == "abuse")


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
                yield Decision(
                    text=record.get("body", ""),
                    label=label_of(record.get("decision", ""), record.get("decision_reason", "")),
                    reason=record.get("decision_reason", ""),
                    comment_id=record["id"],
                    article_id=record.get("article_id", ""),
                    decided_at=record.get("decided_at", ""),
                    decided_by=record.get("decided_by", ""),
                )
            cursor = "(" + ids[-1]
            if len(ids) < batch:
                break


def imported_decisions(store: CommentStore) -> Iterator[Decision]:
    """Decisions loaded from another moderation system with `moderation import-decisions`."""
    last = "-"
    while True:
        entries = cast(
            list[tuple[str, dict[str, str]]], store.redis.xrange(store.keys.imported_decisions, min=last, count=1000)
        )
        if not entries:
            return
        for entry_id, fields in entries:
            yield Decision(
                text=fields["text"],
                label=cast(Label, fields["label"]),
                comment_id="imported-" + entry_id,
                article_id=fields.get("article_id", ""),
                decided_at=fields.get("decided_at", ""),
                source="imported",
            )
        last = "(" + entries[-1][0]


def all_decisions(store: CommentStore) -> list[Decision]:
    return [*human_decisions(store), *imported_decisions(store)]


FIELDS = [f for f in Decision.__dataclass_fields__]


def write(decisions: Iterable[Decision], out: TextIO, fmt: Literal["csv", "jsonl"]) -> int:
    """Write decisions as CSV or JSON Lines; returns how many."""
    count = 0
    writer = csv.DictWriter(out, fieldnames=FIELDS) if fmt == "csv" else None
    if writer:
        writer.writeheader()
    for decision in decisions:
        row = asdict(decision)
        if writer:
            writer.writerow(row)
        else:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
    return count


class BadImport(ValueError):
    """The file has bad rows; nothing was imported."""


def read_import(path: Path) -> list[Decision]:
    """Rows with `text` and `label` (spam, abuse or ok), optional `article_id`, `decided_at`; all or nothing."""
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
        if label not in TRAINABLE:
            wrong.append(f"line {number}: label must be spam, abuse or ok, not {label!r}")
        problems += wrong
        if not wrong:
            decisions.append(Decision(
                text=text,
                label=cast(Label, label),
                article_id=str(row.get("article_id") or ""),
                decided_at=str(row.get("decided_at") or ""),
                source="imported",
            ))
    if problems:
        raise BadImport("; ".join(problems[:20]) + (f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""))
    return decisions


def store_imported(store: CommentStore, decisions: list[Decision]) -> int:
    """Append imported decisions in one transaction, so a failed import leaves nothing half-loaded."""
    with store.redis.pipeline(transaction=True) as pipe:
        for decision in decisions:
            pipe.xadd(
                store.keys.imported_decisions,
                {"text": decision.text, "label": decision.label, "article_id": decision.article_id,
                 "decided_at": decision.decided_at},
                maxlen=IMPORTED_MAXLEN,
                approximate=True,
            )
        pipe.execute()
    return len(decisions)
