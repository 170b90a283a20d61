"""Stored comment records turned into what each audience may see."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from moderation.authors.standing import Record, Standing
from moderation.model.languages import ENGLISH, SUPPORTED_LANGUAGES
from moderation.store import CommentStore


def _website(record: dict[str, str]) -> str | None:
    """The author's URL, for a rel="nofollow ugc" link: only ever http(s), whatever the record holds."""
    website = record.get("website") or ""
    # Validated on the way in; checked again here because every page turns it into an href.
    return website if website[:8].lower().startswith(("http://", "https://")) else None


def public_comment(record: dict[str, str]) -> dict[str, Any]:
    """What readers see: no email, no scores, no network data."""
    return {
        "id": record["id"],
        "parent_id": record.get("parent_id") or None,
        "name": record.get("name", ""),
        "website": _website(record),
        "body": record.get("body", ""),
        "created_at": record.get("created_at", ""),
    }


def _reports(record: dict[str, str]) -> dict[str, int]:
    counts = {k.removeprefix("reports:"): int(v) for k, v in record.items() if k.startswith("reports:")}
    counts["total"] = int(record.get("reports", 0))
    return counts


def _lease(record: dict[str, str]) -> tuple[str | None, str | None]:
    holder = record.get("claimed_by") or None
    expires_ms = int(record.get("claim_expires") or 0)
    if not holder or expires_ms <= time.time() * 1000:
        return None, None
    expires = datetime.fromtimestamp(expires_ms / 1000, UTC)
    return holder, expires.strftime("%Y-%m-%dT%H:%M:%S.") + f"{expires.microsecond // 1000:03d}Z"


def author_summary(counts: dict[str, int], standing: Standing, record: Record) -> dict[str, Any]:
    """An author's counts, standing and record, as a queue item and the author page show them."""
    return {**counts, "standing": standing.as_dict(),
            "record": {"approved": record.approved, "rejected": record.rejected, "window_days": record.window_days}}


def review_item(record: dict[str, str], author: dict[str, Any]) -> dict[str, Any]:
    """Everything a moderator needs to decide on one comment."""
    claimed_by, claim_expires_at = _lease(record)
    language = record.get("language") or ENGLISH
    return {
        **public_comment(record),
        "article_id": record.get("article_id", ""),
        "email": record.get("email", ""),
        "ip": record.get("ip", ""),
        "user_agent": record.get("user_agent", ""),
        "referer": record.get("referer", ""),
        "status": record.get("status", "pending"),
        "scores": {"spam": float(record.get("spam", 0)), "abuse": float(record.get("abuse", 0))},
        "reasons": json.loads(record.get("reasons") or "[]"),
        "model_version": record.get("model_version", ""),
        # Detected at intake; a comment stored before languages were is English. Without an abuse head for
        # the language the abuse score is a rough cross-language one, which decided nothing.
        "language": language,
        "language_supported": language in SUPPORTED_LANGUAGES,
        "reports": _reports(record),
        "author": {"author_key": record.get("author_key", ""), **author},
        "claimed_by": claimed_by,
        "claim_expires_at": claim_expires_at,
        "decided_by": record.get("decided_by") or None,
        "decision": record.get("decision") or None,
        "decision_reason": record.get("decision_reason") or None,
        "version": int(record.get("version", 0)),
    }


def review_items(store: CommentStore, records: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Review items for these records, each with its author's counts, standing and record."""
    from api.services import services

    keys = {record.get("author_key", "") for record in records}
    authors = store.authors(keys)
    found = services().standings.of_authors(keys, services().policies.current(1.0))
    summaries = {key: author_summary(authors[key], *found[key]) for key in keys}
    return [review_item(record, summaries[record.get("author_key", "")]) for record in records]
