"""What a comment is when it arrives: its id, time, author key and the request it came with."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime

from ulid import ULID


def now_iso(moment: datetime | None = None) -> str:
    """UTC timestamp with milliseconds, the one format every stored time uses."""
    moment = moment or datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def author_key(secret: bytes, email: str) -> str:
    """A keyed hash of the email: stable per author, useless to anyone without the secret."""
    return hmac.new(secret, email.strip().casefold().encode(), hashlib.sha256).hexdigest()[:32]


def new_comment_id() -> tuple[str, str]:
    """A ULID and its creation time: ids sort in the order comments arrived."""
    ulid = ULID()
    return str(ulid), now_iso(ulid.datetime)


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a comment came from, kept for moderators and abuse handling only."""

    ip: str = ""
    user_agent: str = ""
    referer: str = ""


@dataclass(frozen=True, slots=True)
class NewComment:
    id: str
    created_at: str
    article_id: str
    parent_id: str | None
    name: str
    email: str
    author_key: str
    body: str
    origin: Origin
